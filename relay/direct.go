package relay

import (
	"sync"
	"syscall"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// Direct writes. Most of the time a member's websocket is idle: nothing
// queued, no write in progress, room in the kernel's send buffer. A
// packet for it is then written at once by the goroutine that relays it,
// with one non-blocking write, instead of being queued for the writer
// goroutine: no goroutine wakes up, which at tens of thousands of
// deliveries a second is most of a delivery's cost besides the kernel's.
//
// Order and the slow-member rule are kept, under connWriter.mu (and for
// a relayed event, by the claim a batch holds until it settles:
// direct_batch.go):
//   - a sender writes directly only when no writer goroutine runs, no
//     batch holds a claim and nothing is waiting (queue, control frames,
//     a tail), so nothing queued earlier is overtaken;
//   - the write never blocks: when the kernel takes nothing, the packet is
//     queued as before; when it takes part of the frame, the rest is kept
//     in partial and the writer sends it before anything else;
//   - while a writer goroutine runs (it writes a batch outside mu, or is
//     about to take the next), a member's packets are queued, never written
//     around, so a slow or stuck member gets the overflow policy as before.
//
// The frame is built in a buffer borrowed from framePool for the one
// system call: an idle connection holds no write buffer.

// directConn is the raw descriptor of a websocket's TCP connection, and
// what a write needs, kept so that a write allocates nothing. Guarded by
// its connWriter's mu, but for batch and pos: the claimer's, while its
// claim is out.
type directConn struct {
	rc  syscall.RawConn
	buf []byte           // the frame being written, borrowed from framePool
	n   int              // what the kernel took of it
	err error            // and the system call's error
	try func(fd uintptr) // rc.Control's callback, made once

	// Within a batch (direct_batch.go), set by its claimer.
	batch *directBatch
	pos   int              // its index in batch
	hold  func(fd uintptr) // holdOne, made once
}

// keptFrameBuffer is the largest frame buffer framePool keeps; musical
// events are a few hundred bytes.
const keptFrameBuffer = 4096

// framePool lends direct writes the buffer a frame is built in, for the
// length of one system call. Its size is the Go runtime's: a sync.Pool
// holds no more than what recent writes used at once.
var framePool = sync.Pool{New: func() any { return new([]byte) }}

// writeDirect writes packet b as one websocket text frame if the
// connection is idle, and reports whether it did (or kept the frame's
// tail for the writer); false means queue it. The caller holds w.mu.
func (w *connWriter) writeDirect(b []byte) bool {
	dc := w.direct
	if !w.idleLocked() {
		return false
	}
	var bp *[]byte
	bp, dc.buf = borrowFrame(b)
	n, err := dc.write()
	wrote := err == nil || n > 0 // else it would block, or failed: queued, the writer finds out
	if wrote {
		w.wroteLocked(dc.buf, n)
	}
	returnFrame(bp, dc.buf)
	dc.buf = nil
	return wrote
}

// wroteLocked counts a direct write of frame the kernel took n bytes of
// (n > 0), keeping the rest as the writer's tail. The caller holds mu.
func (w *connWriter) wroteLocked(frame []byte, n int) {
	if n < len(frame) {
		w.partial = append([]byte(nil), frame[n:]...)
		w.srv.stats.partial.Add(1)
	}
	w.srv.stats.direct.Add(1) // and a wait of 0 s in the queue-wait histogram: see collectQueueWait
}

// borrowFrame builds packet b as one websocket text frame, in a buffer
// borrowed from framePool; returnFrame gives it back.
func borrowFrame(b []byte) (bp *[]byte, frame []byte) {
	bp = framePool.Get().(*[]byte)
	return bp, append(appendFrameHeader((*bp)[:0], opText, len(b)), b...)
}

// returnFrame gives frame's buffer back to framePool, but a rare big
// event's, which is left to the collector.
func returnFrame(bp *[]byte, frame []byte) {
	if cap(frame) <= keptFrameBuffer {
		*bp = frame
		framePool.Put(bp)
	}
}

// idleLocked reports whether a packet may be written to the connection at
// once: a websocket with a raw descriptor, no writer goroutine, no
// claimed write (direct_batch.go), nothing waiting. The caller holds mu.
func (w *connWriter) idleLocked() bool {
	return w.direct != nil && !w.running && !w.claimed && !w.broken && w.partial == nil && len(w.control) == 0 && w.q.empty()
}

// collectQueueWait exports jamrelay_send_queue_wait_seconds: the batches
// the writers and long-polls observed, plus the direct writes, each a
// batch of one that waited in no queue, counted as 0 s. They are added
// here, once per scrape, instead of observed one by one: a delivery then
// reads no clock and touches no histogram (two clock reads and a bucket
// search were about 3 % of the relay's CPU at 40k deliveries/s).
func (s *Server) collectQueueWait(ch chan<- prometheus.Metric, direct uint64) {
	var m dto.Metric
	if err := s.queueWait.Write(&m); err != nil {
		s.queueWait.Collect(ch)
		return
	}
	h := m.GetHistogram()
	buckets := make(map[float64]uint64, len(h.GetBucket()))
	for _, b := range h.GetBucket() {
		buckets[b.GetUpperBound()] = b.GetCumulativeCount() + direct
	}
	ch <- prometheus.MustNewConstHistogram(s.queueWait.Desc(), h.GetSampleCount()+direct, h.GetSampleSum(), buckets)
}
