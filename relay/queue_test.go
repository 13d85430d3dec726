package relay

import (
	"fmt"
	"testing"
	"time"
)

func drainStrings(q *sendQueue) []string {
	var out []string
	for _, b := range q.drain(nil, time.Now()) {
		out = append(out, string(b))
	}
	return out
}

func TestQueueDropsOldestDroppableFirst(t *testing.T) {
	now := time.Now()
	q := newSendQueue(3, now)
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
	if q.droppedTotal() != 2 {
		t.Errorf("dropped total = %d, want 2", q.droppedTotal())
	}
}

func TestQueueDropsEssentialOnlyWhenNothingElse(t *testing.T) {
	now := time.Now()
	q := newSendQueue(2, now)
	for _, s := range []string{"a", "b", "c"} {
		q.push([]byte(s), false, now, time.Hour)
	}
	if got := fmt.Sprint(drainStrings(q)); got != "[b c]" {
		t.Errorf("queue = %s, want [b c]", got)
	}
}

func TestQueuePingJumpsTheLine(t *testing.T) {
	now := time.Now()
	q := newSendQueue(4, now)
	q.push([]byte("e1"), true, now, time.Hour)
	q.pushPing()
	if got := fmt.Sprint(drainStrings(q)); got != "[2 e1]" {
		t.Errorf("queue = %s, want the ping first", got)
	}
	select {
	case <-q.notify:
	default:
		t.Error("push did not signal the consumer")
	}
}

func TestQueueReportsStuckOnlyWhenFullAndUndrained(t *testing.T) {
	start := time.Now()
	q := newSendQueue(1, start)
	if _, stuck := q.push([]byte("a"), true, start.Add(100*time.Millisecond), time.Second); stuck {
		t.Error("stuck while not full")
	}
	if _, stuck := q.push([]byte("b"), true, start.Add(500*time.Millisecond), time.Second); stuck {
		t.Error("stuck before the timeout")
	}
	if _, stuck := q.push([]byte("c"), true, start.Add(2*time.Second), time.Second); !stuck {
		t.Error("full and undrained past the timeout, but not stuck")
	}
	q.drain(nil, start.Add(3*time.Second))
	q.push([]byte("d"), true, start.Add(3*time.Second), time.Second)
	if _, stuck := q.push([]byte("e"), true, start.Add(3500*time.Millisecond), time.Second); stuck {
		t.Error("stuck right after a drain")
	}
}

func TestQueueGrowsOnDemandUpToItsLimit(t *testing.T) {
	now := time.Now()
	q := newSendQueue(100, now)
	if len(q.items) != initialQueue {
		t.Fatalf("new queue holds %d slots, want %d", len(q.items), initialQueue)
	}
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
	q := newSendQueue(2, start)
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
