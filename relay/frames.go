package relay

import (
	"io"
	"net"
	"sync"
)

// Websocket opcodes of the frames the relay writes itself (RFC 6455).
const (
	opText  = 0x1
	opClose = 0x8
	opPong  = 0xA
)

// frames is one batch of server-to-client websocket frames: headers in
// one buffer, payloads referenced where they are (the copy of a relayed
// event that queues share), written with one writev. Owned by a
// writer goroutine while it runs, in framesPool otherwise.
type frames struct {
	packets [][]byte // reused drain buffer
	hdrs    []byte   // every frame header, back to back
	ends    []int    // where each header ends in hdrs
	data    [][]byte // each frame's payload
	bufs    net.Buffers
}

// framesPool keeps the batches of writers that have exited: a connection
// holds one only while its writer runs.
var framesPool = sync.Pool{New: func() any { return new(frames) }}

// keptFrames bounds the batch a writer gives back to framesPool.
const keptFrames = 64

// putFrames gives f back to framesPool, unless a big backlog grew it.
func putFrames(f *frames) {
	f.reset()
	if cap(f.packets) <= keptFrames && cap(f.data) <= keptFrames && cap(f.hdrs) <= 14*keptFrames {
		framesPool.Put(f)
	}
}

// appendFrameHeader appends the header of an unmasked, unfragmented
// frame of n payload bytes.
func appendFrameHeader(dst []byte, op byte, n int) []byte {
	dst = append(dst, 0x80|op) // FIN
	switch {
	case n < 126:
		return append(dst, byte(n))
	case n <= 0xFFFF:
		return append(dst, 126, byte(n>>8), byte(n))
	default:
		return append(dst, 127, 0, 0, 0, 0, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
}

// add appends one unmasked, unfragmented frame.
func (f *frames) add(op byte, payload []byte) {
	f.hdrs = appendFrameHeader(f.hdrs, op, len(payload))
	f.ends = append(f.ends, len(f.hdrs))
	f.data = append(f.data, payload)
}

// addRaw appends bytes already framed: the tail of a direct write, or a
// control frame.
func (f *frames) addRaw(b []byte) {
	f.ends = append(f.ends, len(f.hdrs))
	f.data = append(f.data, b)
}

func (f *frames) empty() bool { return len(f.data) == 0 }

// writeTo writes the batch with one writev and resets it.
func (f *frames) writeTo(w io.Writer) error {
	f.bufs = f.bufs[:0]
	start := 0
	for i, end := range f.ends {
		if end > start {
			f.bufs = append(f.bufs, f.hdrs[start:end])
		}
		if len(f.data[i]) > 0 {
			f.bufs = append(f.bufs, f.data[i])
		}
		start = end
	}
	bufs := f.bufs // WriteTo consumes its receiver
	_, err := bufs.WriteTo(w)
	f.reset()
	return err
}

func (f *frames) reset() {
	f.hdrs, f.ends = f.hdrs[:0], f.ends[:0]
	clear(f.data)
	f.data = f.data[:0]
	clear(f.packets)
	clear(f.bufs) // a pooled batch keeps no packet alive
	f.bufs = f.bufs[:0]
}
