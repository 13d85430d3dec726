package relay

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func drainStrings(q *sendQueue) []string {
	var out []string
	batch, _ := q.drainBatch(nil, time.Now())
	for _, b := range batch {
		out = append(out, string(b))
	}
	return out
}

func newQ(limit, maxBytes int, now time.Time) *sendQueue {
	q := newSendQueue(limit, maxBytes, now)
	return &q
}

func TestQueueDropsOldestDroppableFirst(t *testing.T) {
	now := time.Now()
	q := newQ(3, 1<<20, now)
	q.push([]byte("joined"), false, now, time.Hour)
	q.push([]byte("e1"), true, now, time.Hour)
	q.push([]byte("e2"), true, now, time.Hour)
	if d, _ := q.push([]byte("e3"), true, now, time.Hour); d != 1 {
		t.Fatalf("dropped = %d, want 1", d)
	}
	q.push([]byte("left"), false, now, time.Hour)
	got := fmt.Sprint(drainStrings(q))
	if want := "[joined e3 left]"; got != want {
		t.Errorf("queue = %s, want %s (essential kept, oldest events dropped, order kept)", got, want)
	}
	if q.dropped != 2 {
		t.Errorf("dropped total = %d, want 2", q.dropped)
	}
}

func TestQueueDropsEssentialOnlyWhenNothingElse(t *testing.T) {
	now := time.Now()
	q := newQ(2, 1<<20, now)
	for _, s := range []string{"a", "b", "c"} {
		q.push([]byte(s), false, now, time.Hour)
	}
	if got := fmt.Sprint(drainStrings(q)); got != "[b c]" {
		t.Errorf("queue = %s, want [b c]", got)
	}
}

func TestQueuePingJumpsTheLine(t *testing.T) {
	now := time.Now()
	q := newQ(4, 1<<20, now)
	q.push([]byte("e1"), true, now, time.Hour)
	q.ping = true
	if got := fmt.Sprint(drainStrings(q)); got != "[2 e1]" {
		t.Errorf("queue = %s, want the ping first", got)
	}
}

func TestQueueReportsStuckOnlyWhenFullAndUndrained(t *testing.T) {
	start := time.Now()
	q := newQ(1, 1<<20, start)
	if _, stuck := q.push([]byte("a"), true, start.Add(100*time.Millisecond), time.Second); stuck {
		t.Error("stuck while not full")
	}
	if _, stuck := q.push([]byte("b"), true, start.Add(500*time.Millisecond), time.Second); stuck {
		t.Error("stuck before the timeout")
	}
	if _, stuck := q.push([]byte("c"), true, start.Add(2*time.Second), time.Second); !stuck {
		t.Error("full and undrained past the timeout, but not stuck")
	}
	q.drainBatch(nil, start.Add(3*time.Second))
	q.push([]byte("d"), true, start.Add(3*time.Second), time.Second)
	if _, stuck := q.push([]byte("e"), true, start.Add(3500*time.Millisecond), time.Second); stuck {
		t.Error("stuck right after a drain")
	}
}

func TestQueueGrowsOnDemandUpToItsLimit(t *testing.T) {
	now := time.Now()
	q := newQ(100, 1<<20, now)
	if len(q.items) != 0 {
		t.Fatalf("new queue holds %d slots, want none until a packet is queued", len(q.items))
	}
	q.push([]byte("first"), true, now, time.Hour)
	if len(q.items) != initialQueue {
		t.Fatalf("queue of one packet holds %d slots, want %d", len(q.items), initialQueue)
	}
	drainStrings(q)
	for i := range 150 {
		q.push([]byte(fmt.Sprint(i)), true, now, time.Hour)
	}
	got := drainStrings(q)
	if len(q.items) != 100 || len(got) != 100 || got[0] != "50" || got[99] != "149" {
		t.Errorf("ring %d, drained %d from %s to %s; want 100 slots holding 50..149", len(q.items), len(got), got[0], got[len(got)-1])
	}
}

// A queue kept empty for long by direct writes is not stuck the moment a
// burst fills it: stuck counts from when it last went non-empty.
func TestQueueIdleForLongIsNotStuckAtOnce(t *testing.T) {
	start := time.Now()
	q := newQ(2, 1<<20, start)
	later := start.Add(time.Hour) // an hour of direct writes, no drain
	for i := range 3 {
		if _, stuck := q.push([]byte("e"), true, later, time.Second); stuck {
			t.Fatalf("push %d: stuck, though the queue has been full for no time at all", i)
		}
	}
	if _, stuck := q.push([]byte("e"), true, later.Add(2*time.Second), time.Second); !stuck {
		t.Error("full and not drained for 2s with a 1s limit: want stuck")
	}
}

// The queue holds at most maxBytes: a burst of big events keeps the
// newest that fit, in order, and counts the rest as dropped; presence
// survives while there are events to drop instead.
func TestQueueIsBoundedInBytes(t *testing.T) {
	now := time.Now()
	q := newQ(1000, 1000, now)
	q.push([]byte("joined"), false, now, time.Hour)
	dropped := 0
	for i := range 10 {
		ev := []byte(fmt.Sprintf("%d%s", i, strings.Repeat("x", 299)))
		d, _ := q.push(ev, true, now, time.Hour)
		dropped += d
		if q.bytes > 1000 {
			t.Fatalf("after event %d the queue holds %d bytes, bound 1000", i, q.bytes)
		}
	}
	got := drainStrings(q)
	if len(got) != 4 || got[0] != "joined" || got[1][0] != '7' || got[3][0] != '9' {
		t.Errorf("queue holds %d packets starting %q; want joined then events 7, 8, 9", len(got), got[0])
	}
	if dropped != 7 || q.dropped != 7 {
		t.Errorf("dropped %d (total %d), want 7", dropped, q.dropped)
	}
	if q.bytes != 0 {
		t.Errorf("a drained queue counts %d bytes", q.bytes)
	}
}

// A packet bigger than the whole bound is kept alone: the queue never
// refuses the newest packet.
func TestQueueKeepsAnOversizedPacketAlone(t *testing.T) {
	now := time.Now()
	q := newQ(10, 100, now)
	q.push([]byte("a"), true, now, time.Hour)
	if d, _ := q.push(make([]byte, 500), true, now, time.Hour); d != 1 {
		t.Errorf("dropped %d, want 1", d)
	}
	if q.n != 1 || q.bytes != 500 {
		t.Errorf("queue holds %d packets, %d bytes; want the big one alone", q.n, q.bytes)
	}
}

// pushFront puts a packet ahead of every queued one (a batch's packet the
// kernel took none of, while others queued behind its claim); as the
// oldest, it is the first droppable dropped on overflow.
func TestQueuePushFrontGoesFirstAndDropsFirst(t *testing.T) {
	now := time.Now()
	q := newQ(3, 1<<20, now)
	q.push([]byte("e2"), true, now, time.Hour)
	q.push([]byte("e3"), true, now, time.Hour)
	q.pushFront([]byte("e1"), true, now, time.Hour)
	if got, want := fmt.Sprint(drainStrings(q)), "[e1 e2 e3]"; got != want {
		t.Fatalf("queue = %s, want %s", got, want)
	}
	q.push([]byte("e2"), true, now, time.Hour)
	q.push([]byte("e3"), true, now, time.Hour)
	q.push([]byte("e4"), true, now, time.Hour)
	if d, _ := q.pushFront([]byte("e1"), true, now, time.Hour); d != 1 {
		t.Fatalf("dropped = %d, want 1", d)
	}
	if got, want := fmt.Sprint(drainStrings(q)), "[e1 e3 e4]"; got != want {
		t.Errorf("queue = %s, want %s (the oldest queued dropped for room, the new first one ahead)", got, want)
	}
}
