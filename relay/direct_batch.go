package relay

import (
	"sync"
	"syscall"
)

// Batched direct writes. An event relayed to a session's other members is
// one direct write per idle member (direct.go); member.relay makes them
// together instead, in one system call where the system has one for it
// (Linux: an io_uring submission carrying a send(2) per member,
// sendFrames). On a virtual machine, where entering the kernel is a trip
// through the hypervisor, that is a quarter of a member's write
// (README, Benchmarks).
//
// The write happens outside every connWriter's mu, so that no sender
// ever holds two writers' locks: under mu, relayTo claims an idle
// connection (claimed) and builds its frame; flush writes the claimed
// frames and then settles each writer under its mu. While a connection is
// claimed it is not idle to anyone else: other packets queue behind the
// claimed frame, and the writer goroutine does not start (kickLocked)
// until settle, which starts it when anything is pending. The tail of a
// frame the kernel took part of is the writer's (partial); a packet it
// took none of goes to the front of the queue, ahead of whatever queued
// meanwhile, under the queue's bounds and overflow policy as any queued
// packet: order is kept. A claim counts as a
// writer (writers), so the connection's owner, waiting for its writers
// after close, waits for the claim to settle too, and the goodbye comes
// after the claimed frame.

// maxBatch is the most frames one flush writes; a larger session's
// members are written in several.
const maxBatch = 16

// directBatch is the direct writes of one relayed event, claimed and not
// yet written. Owned by the goroutine relaying the event, from
// batchPool.
type directBatch struct {
	ws   []*connWriter   // the claimed writers
	bps  []*[]byte       // their frames' buffers, from framePool
	bufs [][]byte        // their frames
	fds  []uintptr       // their descriptors while held (hold)
	held []bool          // whether fds[i] is held: false, the connection is closed
	n    []int           // what the kernel took of each frame
	errs []syscall.Errno // and its error

	// the frames sendFrames writes: the held ones, in order
	sendFds  []uintptr
	sendBufs [][]byte
	sendN    []int
	sendErrs []syscall.Errno
}

var batchPool = sync.Pool{New: func() any { return new(directBatch) }}

// relayEach relays p to every member of ms but skip, in batches, and
// returns how many it relayed to. The caller holds their room's lock.
func relayEach(ms []*member, skip *member, p *relayedPacket, droppable bool) int {
	b := batchPool.Get().(*directBatch)
	n := 0
	for _, o := range ms {
		if o != skip {
			b.relay(o.s.w, p, droppable)
			n++
		}
	}
	b.flush(p, droppable)
	batchPool.Put(b)
	return n
}

// relay relays packet p to w within the batch: its frame is claimed into
// b when the connection is idle (written by the next flush, at the
// latest b's own), else the packet is queued (p.keep(), one copy for
// every receiver that queues it). A full batch is flushed first. A batch
// carries one event: every frame in it is p's, and its flush is given
// p (held in no field, p stays on its owner's stack).
func (b *directBatch) relay(w *connWriter, p *relayedPacket, droppable bool) {
	if len(b.ws) == maxBatch {
		b.flush(p, droppable)
	}
	w.relayTo(b, p, droppable)
}

// relayTo is b.relay once b has room.
func (w *connWriter) relayTo(b *directBatch, p *relayedPacket, droppable bool) {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return
	}
	if w.idleLocked() {
		w.claimed = true
		w.writers.Add(1) // not stopped: that comes after closed
		bp, frame := borrowFrame(p.b)
		b.ws = append(b.ws, w)
		b.bps = append(b.bps, bp)
		b.bufs = append(b.bufs, frame)
		w.mu.Unlock()
		return
	}
	w.pushUnlock(p.keep(), droppable, false)
}

// flush writes the claimed frames of packet p and settles their writers;
// b is empty after it.
func (b *directBatch) flush(p *relayedPacket, droppable bool) {
	k := len(b.ws)
	if k == 0 {
		return
	}
	b.fds, b.held = grow(b.fds, k), grow(b.held, k)
	b.n, b.errs = grow(b.n, k), grow(b.errs, k)
	b.holdFrom(0)
	for i, w := range b.ws {
		w.settle(p, droppable, b.bufs[i], b.n[i])
		returnFrame(b.bps[i], b.bufs[i])
		b.ws[i], b.bps[i], b.bufs[i] = nil, nil, nil
	}
	b.ws, b.bps, b.bufs = b.ws[:0], b.bps[:0], b.bufs[:0]
}

// holdFrom holds the descriptors of the claimed writers from i on, each
// inside its RawConn.Control (a Close waits for it), and writes the
// frames once all are held: nested calls, as deep as the batch.
func (b *directBatch) holdFrom(i int) {
	if i == len(b.ws) {
		b.write()
		return
	}
	dc := b.ws[i].direct
	b.held[i] = false
	dc.batch, dc.pos = b, i
	if err := dc.rc.Control(dc.hold); err != nil || !b.held[i] {
		// closed: nothing is written to it, and the rest go on
		b.held[i] = false
		b.holdFrom(i + 1)
	}
	dc.batch = nil
}

// holdOne is a directConn's Control callback within a batch: it records
// the descriptor and goes on to hold the next one.
func (dc *directConn) holdOne(fd uintptr) {
	b := dc.batch
	b.fds[dc.pos], b.held[dc.pos] = fd, true
	b.holdFrom(dc.pos + 1)
}

// write writes the frames of the held descriptors, every descriptor
// held.
func (b *directBatch) write() {
	b.sendFds, b.sendBufs = b.sendFds[:0], b.sendBufs[:0]
	for i := range b.ws {
		b.n[i], b.errs[i] = 0, syscall.EBADF
		if b.held[i] {
			b.sendFds = append(b.sendFds, b.fds[i])
			b.sendBufs = append(b.sendBufs, b.bufs[i])
		}
	}
	k := len(b.sendFds)
	b.sendN, b.sendErrs = grow(b.sendN, k), grow(b.sendErrs, k)
	if byRing := sendFrames(b.sendFds, b.sendBufs, b.sendN, b.sendErrs); byRing > 0 {
		b.ws[0].srv.stats.ringWrites.Add(uint64(byRing))
	}
	j := 0
	for i := range b.ws {
		if b.held[i] {
			b.n[i], b.errs[i] = b.sendN[j], b.sendErrs[j]
			j++
		}
	}
	clear(b.sendBufs)
}

// settle ends w's claim on the frame of packet p: what the kernel took
// of it (n) is written; the tail of a frame cut short is the writer's,
// and a packet the kernel took none of (its socket full, or a failure the
// writer will meet) is queued ahead of everything. The writer starts if
// anything is pending.
func (w *connWriter) settle(p *relayedPacket, droppable bool, frame []byte, n int) {
	defer w.writers.Done()
	w.mu.Lock()
	w.claimed = false
	if n <= 0 {
		w.pushUnlock(p.keep(), droppable, true)
		return
	}
	w.wroteLocked(frame, n)
	if w.pendingLocked() {
		w.kickLocked()
	}
	w.mu.Unlock()
}

// grow returns s with length k, reusing its array.
func grow[T any](s []T, k int) []T {
	if cap(s) < k {
		return make([]T, k)
	}
	return s[:k]
}
