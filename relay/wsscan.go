package relay

import "encoding/binary"

// scanState is what a websocket read buffer holds from its start, for
// the serving reader (serve_unix.go).
type scanState uint8

const (
	// scanIncomplete: the start of a data message (maybe nothing); need
	// more bytes.
	scanIncomplete scanState = iota
	// scanComplete: one whole data message, all its frames to FIN and the
	// pings and pongs before and between them.
	scanComplete
	// scanOther: a close frame, or a frame gorilla must judge (a reserved
	// bit or opcode, no mask, an oversized or fragmented control frame,
	// frames out of order, an absurd length): the blocking path's.
	scanOther
)

// scanResult is scanMessage's answer.
type scanResult struct {
	state   scanState
	n       int  // scanComplete: the message's length, control frames included
	need    int  // scanIncomplete: the least the buffer must hold before the message can be complete
	control bool // a ping or pong precedes the end of what was scanned

	// scanComplete, a message of one text frame and nothing before it:
	// its payload is b[hdr:n], masked with the key b[hdr-4:hdr].
	text bool
	hdr  int
}

// maxScanned bounds a frame's payload length the scanner believes; more
// is scanOther (no read buffer is that big).
const maxScanned = 1 << 24

// Websocket opcodes the scanner knows besides frames.go's.
const (
	opContinuation = 0x0
	opBinary       = 0x2
	opPing         = 0x9
)

// scanMessage says whether b holds, from its start, one complete
// client-to-server websocket data message (RFC 6455 5.2: every frame
// masked, no extension bits), so that gorilla reading exactly b[:n]
// never asks its connection for more. It decodes headers only, and
// judges each as soon as gorilla would, so what it calls incomplete
// gorilla too would wait for.
func scanMessage(b []byte) scanResult {
	var r scanResult
	inMessage := false
	for i := 0; ; {
		if len(b)-i < 2 {
			r.need = i + 2
			return r
		}
		fin, op := b[i]&0x80 != 0, b[i]&0x0F
		switch {
		case b[i]&0x70 != 0 || b[i+1]&0x80 == 0: // a reserved bit, no mask
			r.state = scanOther
			return r
		case op == opContinuation && inMessage, (op == opText || op == opBinary) && !inMessage:
			inMessage = true
		case (op == opPing || op == opPong) && fin && b[i+1]&0x7F <= 125:
			r.control = true
		default: // a close frame, a reserved opcode, frames out of order
			r.state = scanOther
			return r
		}
		hdr, size, ok := scanLength(b[i:])
		switch {
		case !ok:
			r.need = i + hdr
			return r
		case size > maxScanned:
			r.state = scanOther
			return r
		}
		end := i + hdr + int(size)
		if end > len(b) {
			r.need = end
			return r
		}
		i = end
		if fin && op < 0x8 {
			r.state, r.n = scanComplete, i
			if end == hdr+int(size) && op == opText { // the first frame at 0: one text frame, nothing before it
				r.text, r.hdr = true, hdr
			}
			return r
		}
	}
}

// scanLength decodes the length of the frame whose header starts b:
// the header's length hdr (mask key included) and the payload's size.
// ok false: b is too short to say, hdr is how long it must be. A 64-bit
// length with its top bit set is returned as more than maxScanned.
func scanLength(b []byte) (hdr int, size uint64, ok bool) {
	size = uint64(b[1] & 0x7F)
	ext := 0
	switch size {
	case 126:
		ext = 2
	case 127:
		ext = 8
	}
	if len(b) < 2+ext {
		return 2 + ext, 0, false
	}
	switch size {
	case 126:
		size = uint64(binary.BigEndian.Uint16(b[2:]))
	case 127:
		size = binary.BigEndian.Uint64(b[2:])
	}
	return 2 + ext + 4, size, true
}

// unmask unmasks a client frame's payload p in place with key (RFC 6455
// 5.3), eight bytes at a time.
func unmask(p []byte, key [4]byte) {
	k := binary.LittleEndian.Uint32(key[:])
	k8 := uint64(k)<<32 | uint64(k)
	i := 0
	for ; len(p)-i >= 8; i += 8 {
		binary.LittleEndian.PutUint64(p[i:], binary.LittleEndian.Uint64(p[i:])^k8)
	}
	for ; i < len(p); i++ {
		p[i] ^= key[i&3]
	}
}
