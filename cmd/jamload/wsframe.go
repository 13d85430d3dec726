package main

import (
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
)

// The generator's websocket layer (RFC 6455), client side only: what a
// relay sends is parsed here from the raw bytes, so the hot path reads
// one socket buffer and walks its frames with no per-message reader,
// allocation or extra system call. Pure functions; wsconn.go does the I/O.

// WebSocket opcodes.
const (
	opContinuation = 0x0
	opText         = 0x1
	opBinary       = 0x2
	opClose        = 0x8
	opPing         = 0x9
	opPong         = 0xA
)

// maxMessage bounds one message from a relay, fragments together: the
// relays cap a client's packet far lower, so a longer one is a broken
// stream, not a load event.
const maxMessage = 1 << 20

// errFrame is a frame no relay should send.
var errFrame = errors.New("bad websocket frame")

// frame is one parsed server-to-client frame.
type frame struct {
	fin     bool
	op      byte
	payload []byte // aliases the buffer it was parsed from
}

// parseFrame parses the frame at the start of b and returns it with its
// length in b. n is 0 (and err nil) when b does not hold the whole frame
// yet. A server's frame must not be masked, use no reserved bit (no
// extension is negotiated) and keep within maxMessage; a control frame
// must be final and at most 125 bytes.
func parseFrame(b []byte) (f frame, n int, err error) {
	if len(b) < 2 {
		return f, 0, nil
	}
	f.fin, f.op = b[0]&0x80 != 0, b[0]&0x0F
	if b[0]&0x70 != 0 {
		return f, 0, fmt.Errorf("%w: reserved bits %#x", errFrame, b[0]&0x70)
	}
	if b[1]&0x80 != 0 {
		return f, 0, fmt.Errorf("%w: masked by the server", errFrame)
	}
	size, hdr := uint64(b[1]&0x7F), 2
	switch size {
	case 126:
		if len(b) < 4 {
			return f, 0, nil
		}
		size, hdr = uint64(binary.BigEndian.Uint16(b[2:])), 4
	case 127:
		if len(b) < 10 {
			return f, 0, nil
		}
		size, hdr = binary.BigEndian.Uint64(b[2:]), 10
	}
	switch {
	case f.op >= opClose && (!f.fin || size > 125):
		return f, 0, fmt.Errorf("%w: control frame %#x fragmented or of %d bytes", errFrame, f.op, size)
	case f.op > opBinary && f.op < opClose || f.op > opPong:
		return f, 0, fmt.Errorf("%w: opcode %#x", errFrame, f.op)
	case size > maxMessage:
		return f, 0, fmt.Errorf("%w: %d bytes, more than %d", errFrame, size, maxMessage)
	}
	if uint64(len(b)-hdr) < size {
		return f, 0, nil
	}
	n = hdr + int(size)
	f.payload = b[hdr:n]
	return f, n, nil
}

// appendFrame appends a final client frame of opcode op carrying
// payload, masked with key as a client must.
func appendFrame(dst []byte, op byte, payload []byte, key uint32) []byte {
	dst = append(dst, 0x80|op)
	switch n := len(payload); {
	case n <= 125:
		dst = append(dst, 0x80|byte(n))
	case n <= 0xFFFF:
		dst = append(dst, 0x80|126, byte(n>>8), byte(n))
	default:
		dst = append(dst, 0x80|127)
		dst = binary.BigEndian.AppendUint64(dst, uint64(n))
	}
	var k [4]byte
	binary.BigEndian.PutUint32(k[:], key)
	dst = append(dst, k[:]...)
	start := len(dst)
	dst = append(dst, payload...)
	for i := range payload {
		dst[start+i] ^= k[i&3]
	}
	return dst
}

// wsGUID is the RFC 6455 constant of Sec-WebSocket-Accept.
const wsGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// acceptKey is the Sec-WebSocket-Accept a server owes for key.
func acceptKey(key string) string {
	h := sha1.Sum([]byte(key + wsGUID))
	return base64.StdEncoding.EncodeToString(h[:])
}

// errUpgrade is a handshake reply that is not a websocket upgrade.
var errUpgrade = errors.New("websocket upgrade refused")

// parseUpgrade checks the server's reply to an upgrade request with key
// at the start of b, and returns the length of its header; the bytes
// after it are the first frames. n is 0 (and err nil) while the header
// is incomplete.
func parseUpgrade(b []byte, key string) (n int, err error) {
	end := bytes.Index(b, []byte("\r\n\r\n"))
	if end < 0 {
		return 0, nil
	}
	lines := bytes.Split(b[:end], []byte("\r\n"))
	status := lines[0]
	if !bytes.HasPrefix(status, []byte("HTTP/1.1 101")) {
		return 0, fmt.Errorf("%w: %q", errUpgrade, clip(status))
	}
	var upgrade, accept bool
	for _, l := range lines[1:] {
		name, value, ok := bytes.Cut(l, []byte(":"))
		if !ok {
			return 0, fmt.Errorf("%w: header line %q", errUpgrade, clip(l))
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Upgrade")):
			upgrade = bytes.EqualFold(value, []byte("websocket"))
		case bytes.EqualFold(name, []byte("Sec-WebSocket-Accept")):
			accept = string(value) == acceptKey(key)
		case bytes.EqualFold(name, []byte("Sec-WebSocket-Extensions")):
			return 0, fmt.Errorf("%w: extensions %q were not asked for", errUpgrade, clip(value))
		}
	}
	if !upgrade || !accept {
		return 0, fmt.Errorf("%w: upgrade %v, accept key %v", errUpgrade, upgrade, accept)
	}
	return end + 4, nil
}
