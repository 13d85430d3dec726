package main

import (
	"container/heap"
	"context"
	"time"
)

// A sender writes the events of many members: one goroutine and one
// timer per core instead of a goroutine and a ticker per member. It
// keeps its members in a heap by the time of their next tick and sleeps
// until the earliest; every member still keeps its own random phase, so
// the sends stay spread over the period as they would from independent
// players. Writes never block (member.tick): a socket that does not take
// an event whole keeps the rest in the member's pending bytes, and its
// next ticks are skipped as stalls until it has, so one stuck
// connection cannot delay the others.
type sender struct {
	p       plan
	members memberHeap // owned by run
}

func newSender(p plan) *sender { return &sender{p: p} }

func (s *sender) add(m *member) {
	s.members.ms = append(s.members.ms, m)
	s.members.all = append(s.members.all, m)
}

// run sends until the window closes or ctx ends, then writes what the
// sockets still hold, waiting at most writerWait.
func (s *sender) run(ctx context.Context) {
	s.members.p = s.p
	heap.Init(&s.members)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	window := s.p.winEnd.Sub(s.p.start)
	for len(s.members.ms) > 0 {
		m := s.members.ms[0]
		due := m.due(s.p)
		if due >= window {
			break
		}
		if wait := due - time.Since(s.p.start); wait > 0 {
			timer.Reset(wait)
			select {
			case <-timer.C:
			case <-ctx.Done():
				return
			}
		}
		if m.tick(s.p); m.writeErr != nil {
			heap.Pop(&s.members) // a failed connection sends no more
			continue
		}
		heap.Fix(&s.members, 0)
	}
	deadline := time.Now().Add(writerWait)
	for _, m := range s.members.all {
		m.finish(deadline)
	}
}

// memberHeap orders members by their next tick.
type memberHeap struct {
	p   plan
	ms  []*member
	all []*member // every member, failed ones included
}

func (h *memberHeap) Len() int           { return len(h.ms) }
func (h *memberHeap) Less(i, j int) bool { return h.ms[i].due(h.p) < h.ms[j].due(h.p) }
func (h *memberHeap) Swap(i, j int)      { h.ms[i], h.ms[j] = h.ms[j], h.ms[i] }
func (h *memberHeap) Push(x any)         { h.ms = append(h.ms, x.(*member)) }
func (h *memberHeap) Pop() any {
	m := h.ms[len(h.ms)-1]
	h.ms = h.ms[:len(h.ms)-1]
	return m
}

// sleepUntil waits until t or until ctx ends, whichever comes first.
func sleepUntil(ctx context.Context, t time.Time) error {
	timer := time.NewTimer(time.Until(t))
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
