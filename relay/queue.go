package relay

import "time"

// sendQueue is one connection's outbound queue of encoded Engine.IO
// packets. It has no lock of its own: its connWriter's mu guards it.
//
// Bounds: at most limit packets and at most maxBytes bytes of packets.
// Overflow policy: producers never block. When a push would break either
// bound, the oldest droppable packet (a relayed musical event) is dropped
// and counted, as many times as needed; essential packets (replies,
// presence, errors, relayed events that end a sound) are dropped only
// when nothing droppable is left. Live
// music prefers a fresh note to a stale one, and presence must survive so
// receivers never keep a departed member's notes sounding. A queue that
// had to drop while nothing drained it for the stuck timeout reports
// itself stuck, and its connection is closed.
type sendQueue struct {
	limit    int // most packets held
	maxBytes int // most bytes held

	items     []queued // ring buffer; made by the first push, grows on demand up to limit
	head, n   int
	bytes     int       // sum of the queued packets' lengths
	ping      bool      // a ping is due; drained before any data
	dropped   uint64    // packets dropped on overflow
	lastDrain time.Time // when a consumer last took packets
	since     time.Time // when the queue last went from empty to non-empty
}

type queued struct {
	data      []byte
	droppable bool
}

// initialQueue is the ring's size when the first packet is queued: a
// connection whose packets all went out directly has none, barely used
// ones stay small, busy ones grow up to the limit.
const initialQueue = 8

func newSendQueue(limit, maxBytes int, now time.Time) sendQueue {
	return sendQueue{
		limit:     limit,
		maxBytes:  maxBytes,
		lastDrain: now,
	}
}

// grow makes the ring, or doubles it up to limit, keeping the order.
func (q *sendQueue) grow() {
	bigger := make([]queued, max(min(2*len(q.items), q.limit), min(q.limit, initialQueue)))
	for i := 0; i < q.n; i++ {
		bigger[i] = q.items[(q.head+i)%len(q.items)]
	}
	q.items, q.head = bigger, 0
}

// push appends b. It reports how many packets were dropped to make room
// and whether the queue is stuck: it had to drop, and nothing drained it
// since before now-stuckAfter. A push to an empty queue starts a batch:
// its time is what drainBatch reports as the batch's wait. A packet
// larger than the byte bound alone is queued alone (everything else
// dropped): the event limit keeps relayed packets far below the bound.
func (q *sendQueue) push(b []byte, droppable bool, now time.Time, stuckAfter time.Duration) (dropped int, stuck bool) {
	if q.n == 0 {
		q.since = now
	}
	for q.n > 0 && (q.n == q.limit || q.bytes+len(b) > q.maxBytes) {
		q.dropOne()
		dropped++
	}
	if dropped > 0 {
		// Stuck: nothing drained since the queue last went non-empty
		// (direct writes may have kept it empty for long).
		stuck = now.Sub(later(q.lastDrain, q.since)) > stuckAfter
	}
	if q.n == len(q.items) {
		q.grow()
	}
	q.items[(q.head+q.n)%len(q.items)] = queued{data: b, droppable: droppable}
	q.n++
	q.bytes += len(b)
	return dropped, stuck
}

// pushFront is push for a packet due before every queued one (a batch's
// packet the kernel took none of, while others queued behind its claim):
// it goes first, and as the oldest it is the first dropped on overflow
// if droppable.
func (q *sendQueue) pushFront(b []byte, droppable bool, now time.Time, stuckAfter time.Duration) (dropped int, stuck bool) {
	dropped, stuck = q.push(b, droppable, now, stuckAfter)
	last := q.items[(q.head+q.n-1)%len(q.items)]
	for i := q.n - 1; i > 0; i-- { // shift the others down by one
		q.items[(q.head+i)%len(q.items)] = q.items[(q.head+i-1)%len(q.items)]
	}
	q.items[q.head] = last
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
	q.bytes -= len(q.items[(q.head+victim)%len(q.items)].data)
	for i := victim; i > 0; i-- { // shift the older ones up by one
		q.items[(q.head+i)%len(q.items)] = q.items[(q.head+i-1)%len(q.items)]
	}
	q.items[q.head] = queued{}
	q.head = (q.head + 1) % len(q.items)
	q.n--
	q.dropped++
}

var pingPacket = []byte{eioPing}

// drainBatch moves every queued packet into dst, a due ping first, and
// reports when the batch's first packet was queued: zero when it took no
// packet (nothing, or a ping alone). On overflow the first packet may
// have been dropped since: the time is then an upper bound of the oldest
// packet's wait.
func (q *sendQueue) drainBatch(dst [][]byte, now time.Time) (_ [][]byte, since time.Time) {
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
	q.bytes = 0
	return dst, since
}

// empty reports whether no packet is queued (a due ping aside).
func (q *sendQueue) empty() bool { return q.n == 0 }
