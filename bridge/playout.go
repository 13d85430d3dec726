package bridge

import (
	"container/heap"
	"time"

	"gitlab.com/gomidi/midi/v2"

	"github.com/jambridge/jambridge/mapping"
)

// pendingEvent is a remote event waiting for its playout slot.
type pendingEvent struct {
	at   time.Time // local time to play
	n    uint64    // arrival order, to keep equal slots in order
	user string
	ev   mapping.Event
	msgs []midi.Message
}

// pendingQueue is a min-heap of pending events by slot, then arrival.
type pendingQueue []pendingEvent

func (q pendingQueue) Len() int { return len(q) }
func (q pendingQueue) Less(i, j int) bool {
	if !q[i].at.Equal(q[j].at) {
		return q[i].at.Before(q[j].at)
	}
	return q[i].n < q[j].n
}
func (q pendingQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *pendingQueue) Push(x any)   { *q = append(*q, x.(pendingEvent)) }
func (q *pendingQueue) Pop() any {
	old := *q
	x := old[len(old)-1]
	*q = old[:len(old)-1]
	return x
}

// slot returns when, in local time, a remote event should play: at once
// in immediate mode, else at its playout slot (Scheduler), which keeps a
// sender's events in order and their spacing as played.
func (p *player) slot(r *Remote, ev mapping.Event, now time.Time) time.Time {
	arrival := p.cfg.RelayTime(r.Received)
	p.stats.latency.observe(ev.Timestamp, arrival)
	at, late := p.sched.When(r.SenderID, ev.Timestamp, arrival)
	if late {
		p.stats.late.Add(1)
	}
	if p.cfg.Playout.Kind == PlayoutImmediate {
		return now
	}
	return now.Add(time.Duration((at - p.cfg.RelayTime(now)) * float64(time.Millisecond)))
}

// enqueue plays ev now or queues it for its slot.
func (p *player) enqueue(r *Remote, ev mapping.Event, msgs []midi.Message) {
	now := p.cfg.Now()
	at := p.slot(r, ev, now)
	if !at.After(now) {
		// What waits for a slot that has come plays first: its timer may
		// not have been taken yet, and a sender's slots never decrease.
		p.firePending(now)
		p.sound(r.SenderID, ev, msgs, now)
		return
	}
	p.arrivals++
	heap.Push(&p.pending, pendingEvent{at: at, n: p.arrivals, user: r.SenderID, ev: ev, msgs: msgs})
}

// firePending plays the events whose slot has come.
func (p *player) firePending(now time.Time) {
	for len(p.pending) > 0 && !p.pending[0].at.After(now) {
		e := heap.Pop(&p.pending).(pendingEvent)
		p.sound(e.user, e.ev, e.msgs, now)
	}
}

// forgetPending drops the events a participant still had queued: they
// left, so nothing of theirs may sound after their release.
func (p *player) forgetPending(user string) {
	kept := p.pending[:0]
	for _, e := range p.pending {
		if e.user != user {
			kept = append(kept, e)
		}
	}
	clear(p.pending[len(kept):])
	p.pending = kept
	heap.Init(&p.pending)
}

// nextDue is the earliest time the player has something to do.
func (p *player) nextDue() (time.Time, bool) {
	var due time.Time
	ok := false
	if len(p.offs) > 0 {
		due, ok = p.offs[0].at, true
	}
	if len(p.pending) > 0 && (!ok || p.pending[0].at.Before(due)) {
		due, ok = p.pending[0].at, true
	}
	return due, ok
}
