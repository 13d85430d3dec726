package redisbroker

import (
	"context"
	"time"
)

// heartbeat keeps the node alive in Redis and sweeps dead nodes, until
// ctx ends. While Redis is down it retries with backoff; once Redis
// answers again (or answers without the node's heartbeat: it restarted
// empty, or the node was swept), the node re-asserts its members before
// it counts as up.
func (b *Broker) heartbeat(ctx context.Context) {
	t := time.NewTicker(sweepEvery)
	defer t.Stop()
	wait := backoffMin
	var next, upSince time.Time
	for ctx.Err() == nil {
		if now := time.Now(); !now.Before(next) {
			wasUp := b.up.Load()
			if err := b.beat(ctx); err != nil {
				if ctx.Err() != nil {
					return // Close: not an outage
				}
				b.markDown(err)
				sleep(ctx, wait)
				wait = nextBackoff(wait)
				continue
			}
			if !wasUp {
				upSince = now
			}
			wait, next = backoffMin, now.Add(heartbeatEvery)
		}
		b.sweep(ctx)
		if time.Since(upSince) >= remoteGrace {
			b.sweepRemote(ctx)
		}
		select {
		case <-ctx.Done():
		case <-t.C:
		}
	}
}

// beat refreshes the heartbeat, re-asserting when needed (reassert.go).
func (b *Broker) beat(ctx context.Context) error {
	hctx, cancel := context.WithTimeout(ctx, opTimeout)
	alive, err := heartbeatScript.Run(hctx, b.rdb, []string{b.key("hb:", b.node), b.key("nodes", "")},
		b.node, heartbeatTTL.Milliseconds()).Int()
	cancel()
	if err != nil {
		return err
	}
	if alive == 1 && b.up.Load() {
		return nil
	}
	if err := b.reassert(ctx); err != nil {
		return err
	}
	if b.outage.Swap(false) {
		b.log.Info("redis reachable again: the node's sessions are re-asserted")
	}
	return nil
}

// sweep removes the nodes whose heartbeat expired: their members leave
// every session, and the nodes with members there tell theirs.
func (b *Broker) sweep(ctx context.Context) {
	if !b.up.Load() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	nodes, err := b.rdb.SMembers(ctx, b.key("nodes", "")).Result()
	if err != nil {
		return // the heartbeat notices
	}
	for _, n := range nodes {
		if n == b.node {
			continue
		}
		if alive, err := b.rdb.Exists(ctx, b.key("hb:", n)).Result(); err != nil || alive == 1 {
			continue
		}
		swept, err := sweepScript.Run(ctx, b.rdb, []string{b.key("hb:", n), b.key("nm:", n), b.key("nodes", "")}, n, b.opt.Prefix).Int()
		if err == nil && swept > 0 {
			b.log.Warn("node gone: its members left their sessions", "gone", n, "members", swept)
		}
	}
}

// remoteGrace is how long a node waits, once Redis is back, before it
// judges the other nodes by their heartbeats: long enough for each of
// them to have retried (backoffMax with its jitter) and beaten.
const remoteGrace = backoffMax*6/5 + heartbeatEvery

// sweepRemote tells the local members that the members of a node whose
// heartbeat is gone have left. The sweep does it for the nodes Redis
// knows; this covers a node that died while Redis was down and restarted
// empty, which no sweep will find.
func (b *Broker) sweepRemote(ctx context.Context) {
	if !b.up.Load() {
		return
	}
	b.mu.Lock()
	nodes := map[string]bool{}
	for _, s := range b.sessions {
		for _, n := range s.remote {
			nodes[n] = true
		}
	}
	b.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	for n := range nodes {
		if alive, err := b.rdb.Exists(ctx, b.key("hb:", n)).Result(); err == nil && alive == 0 {
			b.forgetNode(n)
		}
	}
}

// forgetNode drops the remote members of node and tells the local ones.
func (b *Broker) forgetNode(node string) {
	type gone struct{ code, id string }
	var left []gone
	b.mu.Lock()
	for code, s := range b.sessions {
		for id, n := range s.remote {
			if n == node {
				delete(s.remote, id)
				s.left[id] = struct{}{}
				left = append(left, gone{code, id})
			}
		}
	}
	b.mu.Unlock()
	for _, g := range left {
		b.peer.RemoteLeft(g.code, g.id)
	}
}
