package relay

import (
	"sync"
	"time"
)

// sendQueue is one socket's outbound queue of encoded Engine.IO packets.
//
// Overflow policy: producers never block. When the queue is full the
// oldest droppable packet (a relayed musical event) is dropped and
// counted; essential packets (replies, presence, errors) are only dropped
// when nothing else is queued. Live music prefers a fresh note to a stale
// one, and presence must survive so receivers never keep a departed
// member's notes sounding. A queue that stays full while nothing drains it
// for the stuck timeout reports itself stuck, and its socket is closed.
type sendQueue struct {
	notify chan struct{} // capacity 1: "there is something to drain"

	limit int // most packets held

	mu        sync.Mutex // guards the fields below
	items     []queued   // ring buffer; grows on demand up to limit
	head, n   int
	ping      bool      // a ping is due; drained before any data
	dropped   uint64    // packets dropped on overflow
	lastDrain time.Time // when a consumer last took packets
	since     time.Time // when the queue last went from empty to non-empty
}

type queued struct {
	data      []byte
	droppable bool
}

// initialQueue is a new queue's ring size: idle and barely used
// connections stay small, busy ones grow up to the limit.
const initialQueue = 8

func newSendQueue(limit int, now time.Time) *sendQueue {
	return &sendQueue{
		notify:    make(chan struct{}, 1),
		limit:     limit,
		items:     make([]queued, min(limit, initialQueue)),
		lastDrain: now,
	}
}

// grow doubles the ring, up to limit, keeping the order.
func (q *sendQueue) grow() {
	bigger := make([]queued, min(2*len(q.items), q.limit))
	for i := 0; i < q.n; i++ {
		bigger[i] = q.items[(q.head+i)%len(q.items)]
	}
	q.items, q.head = bigger, 0
}

// push appends b. It reports how many packets were dropped to make room
// (0 or 1) and whether the queue is stuck: full, and not drained since
// before now-stuckAfter. A push to an empty queue starts a batch: its time
// is what drainBatch reports as the batch's wait.
func (q *sendQueue) push(b []byte, droppable bool, now time.Time, stuckAfter time.Duration) (dropped int, stuck bool) {
	q.mu.Lock()
	if q.n == 0 {
		q.since = now
	}
	if q.n == len(q.items) && len(q.items) < q.limit {
		q.grow()
	}
	if q.n == len(q.items) {
		q.dropOne()
		dropped = 1
		// Stuck: nothing drained since the queue last went non-empty
		// (direct writes may have kept it empty for long).
		stuck = now.Sub(later(q.lastDrain, q.since)) > stuckAfter
	}
	q.items[(q.head+q.n)%len(q.items)] = queued{data: b, droppable: droppable}
	q.n++
	q.mu.Unlock()
	q.wake()
	return dropped, stuck
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// dropOne removes the oldest droppable packet, or the oldest packet when
// all are essential. Order of the remaining packets is kept.
func (q *sendQueue) dropOne() {
	victim := 0
	for i := 0; i < q.n; i++ {
		if q.items[(q.head+i)%len(q.items)].droppable {
			victim = i
			break
		}
	}
	for i := victim; i > 0; i-- { // shift the older ones up by one
		q.items[(q.head+i)%len(q.items)] = q.items[(q.head+i-1)%len(q.items)]
	}
	q.items[q.head] = queued{}
	q.head = (q.head + 1) % len(q.items)
	q.n--
	q.dropped++
}

// pushPing marks a ping as due; it jumps ahead of queued data so a
// backlog never delays the heartbeat.
func (q *sendQueue) pushPing() {
	q.mu.Lock()
	q.ping = true
	q.mu.Unlock()
	q.wake()
}

func (q *sendQueue) wake() {
	select {
	case q.notify <- struct{}{}:
	default:
	}
}

var pingPacket = []byte{eioPing}

// drain moves every queued packet into dst, a due ping first.
func (q *sendQueue) drain(dst [][]byte, now time.Time) [][]byte {
	dst, _ = q.drainBatch(dst, now)
	return dst
}

// drainBatch is drain that also reports when the batch's first packet was
// queued: zero when it took no packet (nothing, or a ping alone). On
// overflow the first packet may have been dropped since: the time is then
// an upper bound of the oldest packet's wait.
func (q *sendQueue) drainBatch(dst [][]byte, now time.Time) (_ [][]byte, since time.Time) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.lastDrain = now
	if q.n > 0 {
		since = q.since
	}
	if q.ping {
		dst = append(dst, pingPacket)
		q.ping = false
	}
	for ; q.n > 0; q.n-- {
		dst = append(dst, q.items[q.head].data)
		q.items[q.head] = queued{}
		q.head = (q.head + 1) % len(q.items)
	}
	return dst, since
}

// empty reports whether no packet is queued (a due ping aside).
func (q *sendQueue) empty() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.n == 0
}

// droppedTotal returns how many packets overflow has dropped.
func (q *sendQueue) droppedTotal() uint64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.dropped
}
