package redisbroker

import (
	"context"
	"sync"
	"time"
)

// op is one thing the publisher sends, in order.
type op struct {
	kind byte   // kindEvent or kindLeave
	code string // the session
	msg  []byte // kindEvent: the encoded message
	id   string // kindLeave: the member
	last bool   // kindLeave: the node's last member there: unsubscribe
	// quiet, on a kindLeave, drops a member that never got in: nothing
	// goes to Redis but the unsubscription when last.
	quiet bool
	// flushed, on an op of kind kindFlush, is closed when everything
	// pushed before it has been tried.
	flushed chan struct{}
}

// kindFlush marks an op that sends nothing: see drain.
const kindFlush = 'f'

// publisher sends every event and leave of the node, in the order they
// were pushed, one pipeline of all that waits at a time on one Redis
// connection: so each sender's events reach every other node in order,
// and a member's leave after its events.
//
// Its queue is bounded: at most maxQueuedEvents events wait; past it a
// new event is dropped and counted (queue_full), as a late note is worth
// nothing. Leaves are never dropped here: there is at most one per
// member that joined, so they are bounded by the connections.
type publisher struct {
	b    *Broker
	wake chan struct{} // capacity 1: there is something to send

	mu     sync.Mutex // guards the fields below
	ops    []op
	events int // events in ops
}

// maxQueuedEvents bounds the events waiting for Redis (about 0.8 s of
// the benchmark's load on one node).
const maxQueuedEvents = 8192

func newPublisher(b *Broker) *publisher {
	return &publisher{b: b, wake: make(chan struct{}, 1)}
}

func (p *publisher) push(o op) {
	p.mu.Lock()
	if o.kind == kindEvent && p.events >= maxQueuedEvents {
		p.mu.Unlock()
		p.b.m.dropped.WithLabelValues(dropQueueFull).Inc()
		return
	}
	p.ops = append(p.ops, o)
	if o.kind == kindEvent {
		p.events++
	}
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// drain waits until everything pushed so far has been tried, at most
// drainWait.
func (p *publisher) drain() {
	done := make(chan struct{})
	p.push(op{kind: kindFlush, flushed: done})
	select {
	case <-done:
	case <-time.After(drainWait):
	}
}

// drainWait bounds a clean shutdown's wait for its leaves to go out.
const drainWait = 2 * time.Second

// run sends batches until ctx ends.
func (p *publisher) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-p.wake:
		}
		for {
			p.mu.Lock()
			batch := p.ops
			p.ops, p.events = nil, 0
			p.mu.Unlock()
			if len(batch) == 0 {
				break
			}
			p.send(ctx, batch)
		}
	}
}

// send pipelines one batch. Events that cannot go are dropped and
// counted; leaves that cannot go are left to the re-assertion, which
// removes members the node no longer has.
func (p *publisher) send(ctx context.Context, batch []op) {
	b := p.b
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	pipe := b.rdb.Pipeline()
	events := 0
	for _, o := range batch {
		ch := b.key("ev:", o.code)
		switch o.kind {
		case kindFlush:
			continue
		case kindEvent:
			pipe.Publish(ctx, ch, o.msg)
			events++
			continue
		}
		if o.quiet {
			continue
		}
		pipe.Eval(ctx, leaveScript, b.sessionKeys(o.code), o.id, ch, presence(kindLeave, b.node, o.id), o.code)
	}
	if !b.up.Load() {
		b.m.dropped.WithLabelValues(dropRedisDown).Add(float64(events))
	} else if _, err := pipe.Exec(ctx); err != nil {
		b.m.dropped.WithLabelValues(dropRedisError).Add(float64(events))
		b.markDown(err)
	} else {
		b.m.published.Add(float64(events))
	}
	for _, o := range batch {
		switch {
		case o.kind == kindLeave && o.last:
			b.unsubscribe(ctx, o.code)
		case o.kind == kindFlush:
			close(o.flushed)
		}
	}
}

// unsubscribe leaves code's channel unless a member joined it again.
func (b *Broker) unsubscribe(ctx context.Context, code string) {
	b.subMu.Lock()
	defer b.subMu.Unlock()
	b.mu.Lock()
	again := b.sessions[code] != nil
	b.mu.Unlock()
	if !again {
		_ = b.ps.Unsubscribe(ctx, b.key("ev:", code)) // forgotten by the PubSub even when Redis is down
	}
}
