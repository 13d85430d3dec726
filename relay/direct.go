package relay

import "syscall"

// Direct writes. Most of the time a member's websocket is idle: nothing
// queued, no write in progress, room in the kernel's send buffer. A
// packet for it is then written at once by the goroutine that relays it,
// with one non-blocking write, instead of being queued for the writer
// goroutine: no goroutine wakes up, which at tens of thousands of
// deliveries a second is most of a delivery's cost besides the kernel's.
//
// Order and the slow-member rule are kept, all under connWriter.mu:
//   - a sender writes directly only when the writer is not busy and
//     nothing is waiting (queue, control frames, a tail), so nothing
//     queued earlier is overtaken;
//   - the write never blocks: when the kernel takes nothing, the packet is
//     queued as before; when it takes part of the frame, the rest is kept
//     in partial and the writer sends it before anything else;
//   - while the writer writes a batch (outside mu) it is busy, so a member
//     whose writer is busy or stuck gets its packets queued, never written
//     around, and the overflow policy applies as before.

// directConn is the raw descriptor of a websocket's TCP connection, and
// what a write needs, kept so that a write allocates nothing. Guarded by
// its connWriter's mu.
type directConn struct {
	rc  syscall.RawConn
	buf []byte                // the frame being written
	n   int                   // what the kernel took of it
	err error                 // and the system call's error
	try func(fd uintptr) bool // rc.Write's callback, made once
}

// keptFrameBuffer is the largest frame buffer a connection keeps between
// direct writes; musical events are a few hundred bytes.
const keptFrameBuffer = 4096

// writeDirect writes packet b as one websocket text frame if the
// connection is idle, and reports whether it did (or kept the frame's
// tail for the writer); false means queue it. The caller holds w.mu.
func (w *connWriter) writeDirect(b []byte) bool {
	dc := w.direct
	if dc == nil || w.busy || w.broken || w.partial != nil || len(w.control) > 0 || !w.q.empty() {
		return false
	}
	start := w.srv.cfg.Now()
	dc.buf = append(appendFrameHeader(dc.buf[:0], opText, len(b)), b...)
	n, err := dc.write()
	switch {
	case err != nil && n <= 0:
		return false // would block, or failed: queued, the writer finds out
	case n < len(dc.buf):
		w.partial = append([]byte(nil), dc.buf[n:]...)
		w.srv.stats.partial.Add(1)
	}
	if cap(dc.buf) > keptFrameBuffer {
		dc.buf = nil // a rare big event: do not keep its buffer for the connection's life
	}
	w.srv.stats.direct.Add(1)
	w.srv.observeQueueWait(start)
	return true
}
