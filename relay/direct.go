package relay

import "syscall"

// Direct writes. Most of the time a member's websocket is idle: nothing
// queued, no write in progress, room in the kernel's send buffer. A
// packet for it is then written at once by the goroutine that relays it,
// with one non-blocking write, instead of being queued for the socket's
// writer goroutine: no goroutine wakes up, which at tens of thousands of
// deliveries a second is most of a delivery's cost besides the kernel's.
//
// Order and the slow-member rule are kept:
//   - a sender writes directly only when it gets wmu without waiting and
//     the queue is empty, so nothing queued earlier is overtaken;
//   - the write never blocks: when the kernel takes nothing, the packet is
//     queued as before; when it takes part of the frame, the rest is kept
//     in partial and the writer sends it before anything else;
//   - the writer holds wmu while it drains and writes, so a member whose
//     writer is busy or stuck gets its packets queued, never written
//     around, and the overflow policy applies as before.

// directConn is the raw descriptor of a websocket's TCP connection, and
// what a write needs, kept so that a write allocates nothing. Guarded by
// the socket's wmu.
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

// writeDirect writes packet b as one websocket text frame if the socket
// is idle, and reports whether it did (or kept the frame's tail for the
// writer); false means queue it.
func (s *socket) writeDirect(b []byte) bool {
	dc := s.direct.Load()
	if dc == nil || !s.wmu.TryLock() {
		return false
	}
	defer s.wmu.Unlock()
	if s.partial != nil || s.isClosed() || !s.q.empty() {
		return false
	}
	start := s.srv.cfg.Now()
	dc.buf = append(appendFrameHeader(dc.buf[:0], opText, len(b)), b...)
	n, err := dc.write()
	switch {
	case err != nil && n <= 0:
		return false // would block, or failed: the writer finds out
	case n < len(dc.buf):
		s.partial = append([]byte(nil), dc.buf[n:]...)
		s.srv.stats.partial.Add(1)
		s.q.wake()
	}
	if cap(dc.buf) > keptFrameBuffer {
		dc.buf = nil // a rare big event: do not keep its buffer for the connection's life
	}
	s.srv.stats.direct.Add(1)
	s.srv.observeQueueWait(start)
	return true
}

// takePartial moves a direct write's unwritten tail into f, first.
// The caller holds wmu.
func (s *socket) takePartial(f *frames) {
	if s.partial != nil {
		f.addRaw(s.partial)
		s.partial = nil
	}
}
