package redisbroker

import (
	"context"
	"fmt"
	"net"
	"sync"
	"time"
)

// publisher sends every event and leave of the node, in the order they
// were pushed, on one Redis connection of its own whose replies are off
// (pubconn.go): a batch is one write, and the next batch goes out as
// soon as it is queued, without waiting for Redis to answer the last.
// So each sender's events reach every other node in order, and a
// member's leave after its events.
//
// Events and leaves are queued as the Redis commands that send them,
// encoded once by the pushing goroutine into the queue's buffer (no
// allocation per event). The queue is bounded: at most maxQueuedEvents
// events wait; past it a new event is dropped and counted (queue_full),
// as a late note is worth nothing. Leaves are never dropped here: there
// is at most one per member that joined, so they are bounded by the
// connections.
type publisher struct {
	b    *Broker
	wake chan struct{} // capacity 1: there is something to send

	mu sync.Mutex // guards q
	q  batch

	// Owned by run.
	spare     batch    // the buffer q gets back when run takes it
	conn      net.Conn // nil: dial before the next write
	connEpoch uint64   // b.epoch when conn was dialled
}

// batch is what waits for the publisher, in push order.
type batch struct {
	cmds   []byte      // RESP commands: PUBLISH for events, EVAL for leaves
	events int         // PUBLISHes in cmds
	leaves []memberRef // the leaves in cmds not kept as lost yet, kept when cmds do not go
	after  []step      // done once cmds are written (or dropped), in order
}

// step is something the publisher does after a batch: unsubscribe from
// a session whose last local member left, or tell drain it got there.
type step struct {
	code    string        // unsubscribe from code's channel, unless a member came back
	flushed chan struct{} // or, when not nil, close it
}

func (q *batch) empty() bool { return len(q.cmds) == 0 && len(q.after) == 0 }

func (q *batch) reset() {
	q.cmds, q.events, q.after, q.leaves = q.cmds[:0], 0, q.after[:0], q.leaves[:0]
	if cap(q.cmds) > maxKeptBuffer {
		q.cmds = nil // a burst's buffer is not kept
	}
}

// maxQueuedEvents bounds the events waiting for Redis (about 0.8 s of
// the benchmark's load on one node); maxKeptBuffer bounds the buffer a
// batch keeps for the next one.
const (
	maxQueuedEvents = 8192
	maxKeptBuffer   = 1 << 20
)

func newPublisher(b *Broker) *publisher {
	return &publisher{b: b, wake: make(chan struct{}, 1)}
}

// pushEvent queues the PUBLISH of one event of session code.
func (p *publisher) pushEvent(code string, sentMicros int64, release bool, packet []byte) {
	b := p.b
	p.mu.Lock()
	if p.q.events >= maxQueuedEvents {
		p.mu.Unlock()
		b.m.dropped.WithLabelValues(dropQueueFull).Inc()
		return
	}
	p.q.cmds = appendPublishEvent(p.q.cmds, b.opt.Prefix, code, b.node, sentMicros, release, packet)
	p.q.events++
	p.mu.Unlock()
	p.signal()
}

// pushLeave queues the leave of member id of session code: its EVAL,
// unless quiet (a member that never got in), then, when it was the
// node's last member there, the unsubscription. kept: the leave is
// kept as lost already (made while the node counted down), not again.
func (p *publisher) pushLeave(code, id string, last, quiet, kept bool) {
	b := p.b
	p.mu.Lock()
	if !quiet {
		ch := b.key("ev:", code)
		keys := b.sessionKeys(code)
		p.q.cmds = appendCommand(p.q.cmds, "EVAL", leaveScript, "4", keys[0], keys[1], keys[2], keys[3],
			id, ch, presence(kindLeave, b.node, id), code)
		if !kept {
			p.q.leaves = append(p.q.leaves, memberRef{code, id})
		}
	}
	if last {
		p.q.after = append(p.q.after, step{code: code})
	}
	p.mu.Unlock()
	p.signal()
}

func (p *publisher) signal() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// drain waits until everything pushed so far has been tried, at most
// drainWait.
func (p *publisher) drain() {
	done := make(chan struct{})
	p.mu.Lock()
	p.q.after = append(p.q.after, step{flushed: done})
	p.mu.Unlock()
	p.signal()
	select {
	case <-done:
	case <-time.After(drainWait):
	}
}

// drainWait bounds a clean shutdown's wait for its leaves to go out.
const drainWait = 2 * time.Second

// run sends batches until ctx ends, then closes its connection.
func (p *publisher) run(ctx context.Context) {
	defer p.closeConn()
	for {
		select {
		case <-ctx.Done():
			return
		case <-p.wake:
		}
		for {
			p.spare.reset()
			p.mu.Lock()
			q := p.q
			p.q, p.spare = p.spare, batch{}
			p.mu.Unlock()
			if q.empty() {
				p.spare = q
				break
			}
			p.send(ctx, &q)
			p.spare = q
		}
	}
}

// send writes one batch. Events that cannot go are dropped and counted;
// leaves that cannot go are kept as lost, for the next re-assertion.
func (p *publisher) send(ctx context.Context, q *batch) {
	b := p.b
	switch {
	case len(q.cmds) == 0:
	case !b.up.Load():
		b.m.dropped.WithLabelValues(dropRedisDown).Add(float64(q.events))
		b.keepLost(q.leaves)
	default:
		if err := p.write(ctx, q.cmds); err != nil {
			b.m.dropped.WithLabelValues(dropRedisError).Add(float64(q.events))
			b.keepLost(q.leaves) // some may have gone: a leave is idempotent
			b.markDown(err)
		} else {
			b.m.published.Add(float64(q.events))
		}
	}
	for _, s := range q.after {
		if s.flushed != nil {
			close(s.flushed)
		} else {
			b.unsubscribe(ctx, s.code)
		}
	}
}

// write writes cmds on the publisher's connection, dialling it first
// when there is none or the node re-asserted since (Redis restarted, or
// came back: the old connection may be dead without knowing it yet).
func (p *publisher) write(ctx context.Context, cmds []byte) error {
	epoch := p.b.epoch.Load()
	if p.conn != nil && p.connEpoch != epoch {
		p.closeConn()
	}
	if p.conn == nil {
		c, err := dialPublisher(ctx, p.b.ro)
		if err != nil {
			return err
		}
		p.conn, p.connEpoch = c, epoch
	}
	p.conn.SetWriteDeadline(time.Now().Add(opTimeout))
	if _, err := p.conn.Write(cmds); err != nil {
		p.closeConn()
		return fmt.Errorf("publish to redis: %w", err)
	}
	return nil
}

func (p *publisher) closeConn() {
	if p.conn != nil {
		p.conn.Close()
		p.conn = nil
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
