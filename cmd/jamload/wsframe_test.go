package main

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/jambridge/jambridge/internal/wstest"
)

// serverFrame builds an unmasked frame as a relay sends it.
func serverFrame(fin bool, op byte, payload []byte) []byte {
	return wstest.Frame(fin, op, payload, nil)
}

func TestParseFrame(t *testing.T) {
	long := bytes.Repeat([]byte("x"), 300)
	huge := bytes.Repeat([]byte("y"), 70_000)
	tests := []struct {
		name    string
		in      []byte
		op      byte
		payload []byte
		wantErr bool
	}{
		{"short text", serverFrame(true, opText, []byte("42[]")), opText, []byte("42[]"), false},
		{"16-bit length", serverFrame(true, opText, long), opText, long, false},
		{"64-bit length", serverFrame(true, opBinary, huge), opBinary, huge, false},
		{"empty ping", serverFrame(true, opPing, nil), opPing, []byte{}, false},
		{"continuation", serverFrame(false, opContinuation, []byte("ab")), opContinuation, []byte("ab"), false},
		{"masked", []byte{0x81, 0x81, 1, 2, 3, 4, 'a'}, 0, nil, true},
		{"reserved bit", []byte{0xC1, 0x01, 'a'}, 0, nil, true},
		{"unknown opcode", []byte{0x83, 0x00}, 0, nil, true},
		{"fragmented ping", []byte{0x09, 0x00}, 0, nil, true},
		{"long close", serverFrame(true, opClose, long), 0, nil, true},
		{"beyond maxMessage", []byte{0x81, 127, 0, 0, 0, 0, 0, 0x20, 0, 0}, 0, nil, true},
		{"length with the top bit", []byte{0x81, 127, 0x80, 0, 0, 0, 0, 0, 0, 1}, 0, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, n, err := parseFrame(tt.in)
			if tt.wantErr {
				if !errors.Is(err, errFrame) {
					t.Fatalf("got n %d, err %v; want errFrame", n, err)
				}
				return
			}
			if err != nil || n != len(tt.in) || f.op != tt.op || !bytes.Equal(f.payload, tt.payload) {
				t.Fatalf("got op %#x, %d bytes of payload, n %d, err %v; want op %#x, %d bytes, n %d",
					f.op, len(f.payload), n, err, tt.op, len(tt.payload), len(tt.in))
			}
			for k := range min(len(tt.in), 200) { // every prefix is incomplete, not an error
				if _, n, err := parseFrame(tt.in[:k]); n != 0 || err != nil {
					t.Fatalf("prefix of %d bytes: n %d, err %v; want 0, nil", k, n, err)
				}
			}
		})
	}
}

// unmask decodes a client frame as a server does.
func unmask(t *testing.T, b []byte) (op byte, payload []byte, n int) {
	t.Helper()
	if b[0]&0x80 == 0 || b[1]&0x80 == 0 {
		t.Fatalf("frame %x: want final and masked", b[:2])
	}
	size, hdr := int(b[1]&0x7F), 2
	switch size {
	case 126:
		size, hdr = int(binary.BigEndian.Uint16(b[2:])), 4
	case 127:
		size, hdr = int(binary.BigEndian.Uint64(b[2:])), 10
	}
	key := b[hdr : hdr+4]
	payload = bytes.Clone(b[hdr+4 : hdr+4+size])
	for i := range payload {
		payload[i] ^= key[i&3]
	}
	return b[0] & 0x0F, payload, hdr + 4 + size
}

func TestAppendFrameMasks(t *testing.T) {
	for _, size := range []int{0, 1, 125, 126, 65535, 65536} {
		payload := bytes.Repeat([]byte{'z'}, size)
		b := appendFrame([]byte("prefix"), opText, payload, 0xA1B2C3D4)
		op, got, n := unmask(t, b[len("prefix"):])
		if op != opText || !bytes.Equal(got, payload) || n != len(b)-len("prefix") {
			t.Errorf("size %d: got op %#x, %d bytes, frame of %d; want text, %d bytes, frame of %d",
				size, op, len(got), n, size, len(b)-len("prefix"))
		}
	}
}

func FuzzParseFrame(f *testing.F) {
	f.Add(serverFrame(true, opText, []byte(`42["event:broadcast",{}]`)))
	f.Add(serverFrame(true, opText, bytes.Repeat([]byte("a"), 200)))
	f.Add(serverFrame(false, opText, []byte("ab")))
	f.Add([]byte{0x81, 127, 0, 0, 0, 0, 0, 0, 0, 3, 'a', 'b', 'c'})
	f.Add([]byte{0x89, 0x80})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, n, err := parseFrame(b)
		if err != nil {
			if n != 0 {
				t.Fatalf("error %v with n %d", err, n)
			}
			return
		}
		if n == 0 {
			return // incomplete
		}
		if n > len(b) || len(fr.payload) > maxMessage || n < len(fr.payload)+2 {
			t.Fatalf("n %d, payload %d of %d bytes", n, len(fr.payload), len(b))
		}
		if !bytes.Equal(b[n-len(fr.payload):n], fr.payload) {
			t.Fatal("payload is not the frame's tail")
		}
		if _, m, err := parseFrame(b[:n-1]); m != 0 || err != nil {
			t.Fatalf("one byte short: n %d, err %v; want incomplete", m, err)
		}
	})
}

// upgradeReply is what a relay answers to an upgrade with key.
func upgradeReply(key string) string {
	return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
		acceptKey(key) + "\r\n\r\n"
}

func TestParseUpgrade(t *testing.T) {
	const key = "dGhlIHNhbXBsZSBub25jZQ=="
	if got := acceptKey(key); got != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" { // RFC 6455, section 1.3
		t.Fatalf("accept key %q, want the RFC's", got)
	}
	ok := upgradeReply(key)
	tests := []struct {
		name    string
		in      string
		n       int
		wantErr bool
	}{
		{"upgrade and a frame", ok + "\x81\x01a", len(ok), false},
		{"header cases", strings.NewReplacer("Upgrade: websocket", "upgrade:  WebSocket", "Sec-WebSocket-Accept", "sec-websocket-accept").Replace(ok), len(ok) + 1, false},
		{"incomplete", ok[:len(ok)-1], 0, false},
		{"refused", "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n", 0, true},
		{"wrong accept", strings.Replace(ok, acceptKey(key), acceptKey("other"), 1), 0, true},
		{"no upgrade header", strings.Replace(ok, "Upgrade: websocket\r\n", "", 1), 0, true},
		{"extension", strings.Replace(ok, "\r\n\r\n", "\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n", 1), 0, true},
		{"bad header line", strings.Replace(ok, "Connection: Upgrade", "Connection Upgrade", 1), 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := parseUpgrade([]byte(tt.in), key)
			if n != tt.n || (err != nil) != tt.wantErr {
				t.Errorf("got n %d, err %v; want n %d, error %v", n, err, tt.n, tt.wantErr)
			}
			if err != nil && !errors.Is(err, errUpgrade) {
				t.Errorf("error %v: want errUpgrade", err)
			}
		})
	}
}

func FuzzParseUpgrade(f *testing.F) {
	const key = "dGhlIHNhbXBsZSBub25jZQ=="
	f.Add([]byte(upgradeReply(key)))
	f.Add([]byte("HTTP/1.1 101 x\r\nUpgrade: websocket\r\n\r\n"))
	f.Add([]byte("\r\n\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		n, err := parseUpgrade(b, key)
		if n < 0 || n > len(b) || (err != nil && n != 0) {
			t.Fatalf("n %d of %d bytes, err %v", n, len(b), err)
		}
		if n > 0 && !bytes.HasSuffix(b[:n], []byte("\r\n\r\n")) {
			t.Fatalf("header of %d bytes does not end the header", n)
		}
	})
}
