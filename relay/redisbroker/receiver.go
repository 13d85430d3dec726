package redisbroker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/jambridge/jambridge/relay"
)

// receiveBackoffMax caps the receiver's wait between reads that failed:
// lower than the heartbeat's, since the heartbeat's re-subscription
// reconnects the PubSub and what arrives then must be read at once.
const receiveBackoffMax = 500 * time.Millisecond

// receive reads the node's subscriptions until ctx ends (Close then
// closes the PubSub, which ends a read under way): the one
// goroutine that calls the relay's ClusterPeer, in the order Redis
// delivered. The PubSub reconnects and resubscribes by itself on the
// next read after an error; receive waits with backoff between tries.
//
// A read that fails (not a quiet timeout) marks the node down: its
// subscriptions' connection broke, and what was published meanwhile is
// lost. Redis may still hold the node's heartbeat (a restart between two
// beats, a killed connection), so the heartbeat alone would keep the
// node up while it misses every message until the PubSub dials again;
// down, the next beat re-asserts and subscribes again before the node
// counts as up.
func (b *Broker) receive(ctx context.Context) {
	wait := backoffMin
	for ctx.Err() == nil {
		v, err := b.ps.ReceiveTimeout(ctx, b.receiveTimeout)
		var ne net.Error
		switch {
		case err != nil && errors.As(err, &ne) && ne.Timeout():
			continue // quiet: nothing was published to our sessions
		case err != nil:
			if ctx.Err() == nil {
				b.markDown(fmt.Errorf("read the node's subscriptions: %w", err))
			}
			sleep(ctx, wait)
			wait = min(nextBackoff(wait), receiveBackoffMax)
			continue
		}
		wait = backoffMin
		switch m := v.(type) {
		case *redis.Subscription:
			if m.Kind == "subscribe" {
				b.subscribed(strings.TrimPrefix(m.Channel, b.key("ev:", "")))
			}
		case *redis.Message:
			b.deliver(strings.TrimPrefix(m.Channel, b.key("ev:", "")), m.Payload)
		}
	}
}

// subscribed marks code's channel ready for the joins waiting on it.
func (b *Broker) subscribed(code string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if s := b.sessions[code]; s != nil {
		select {
		case <-s.ready:
		default:
			close(s.ready)
		}
	}
}

// deliver hands one message of session code to the relay. A node skips
// its own messages: its members heard them locally.
func (b *Broker) deliver(code, payload string) {
	if b.own(payload) {
		return // half of what a node of two hears: skipped before any copy
	}
	m, err := decodeMessage([]byte(payload))
	if err != nil {
		b.m.dropped.WithLabelValues(dropMalformed).Inc()
		return
	}
	if m.node == b.node {
		return
	}
	switch m.kind {
	case kindEvent:
		b.m.received.Inc()
		b.m.latency.Observe(float64(max(time.Now().UnixMicro()-m.sent, 0)) / 1e6)
		b.peer.RemoteEvent(code, m.body, m.release)
	case kindJoin:
		var p relay.Participant
		if json.Unmarshal(m.body, &p) != nil || p.ID == "" {
			b.m.dropped.WithLabelValues(dropMalformed).Inc()
			return
		}
		if b.learnJoin(code, p.ID, m.node) {
			b.peer.RemoteJoined(code, p)
		}
	case kindLeave:
		if b.learnLeave(code, string(m.body)) {
			b.peer.RemoteLeft(code, string(m.body))
		}
	}
}

// own reports whether payload is a message of this node (wire.go: its
// kind, then the node's id and '|').
func (b *Broker) own(payload string) bool {
	n := len(b.node)
	return len(payload) > n+1 && payload[1:1+n] == b.node && payload[1+n] == '|'
}

// learnJoin records a remote member; false when it was known (a
// re-assertion) or the node has no member in code.
func (b *Broker) learnJoin(code, id, node string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.sessions[code]
	if s == nil {
		return false
	}
	if _, known := s.remote[id]; known {
		return false
	}
	delete(s.left, id) // back after a sweep
	s.remote[id] = node
	return true
}

// learnLeave forgets a remote member; false when it was not known.
func (b *Broker) learnLeave(code, id string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.sessions[code]
	if s == nil {
		return false
	}
	if len(s.left) >= maxLeft {
		clear(s.left)
	}
	s.left[id] = struct{}{}
	if _, known := s.remote[id]; !known {
		return false
	}
	delete(s.remote, id)
	return true
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// nextBackoff doubles d up to backoffMax, with ±20% jitter.
func nextBackoff(d time.Duration) time.Duration {
	d = min(2*d, backoffMax)
	return d + time.Duration((rand.Float64()*0.4-0.2)*float64(d))
}
