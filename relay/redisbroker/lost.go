package redisbroker

// maxLost bounds the lost leaves a node keeps (Broker.lost). Past it a
// new one is forgotten, counted (jamrelay_redis_leaves_forgotten_total)
// and logged once until the set has room again: its member may then
// stay in its old session in Redis (a ghost the other nodes list) when
// the node's index names another session, until that session is gone
// from Redis.
const maxLost = 4096

// keepLost records leaves that may not be in Redis, for the next
// re-assertion.
func (b *Broker) keepLost(refs []memberRef) {
	if len(refs) == 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.keepLostLocked(refs)
}

// keepLostLocked is keepLost with b.mu held.
func (b *Broker) keepLostLocked(refs []memberRef) {
	for _, r := range refs {
		if _, ok := b.lost[r]; ok {
			continue
		}
		if len(b.lost) >= maxLost {
			b.forgetOne(r)
			continue
		}
		b.lost[r] = struct{}{}
	}
	b.m.lostLeaves.Set(float64(len(b.lost)))
}

// forgetOne counts a lost leave the full set cannot keep, and warns at the
// first of each overflow: a storm of leaves past maxLost would otherwise
// write one line each. b.mu is held.
func (b *Broker) forgetOne(r memberRef) {
	b.m.forgotten.Inc()
	if b.lostFull {
		return
	}
	b.lostFull = true
	b.log.Warn("cluster leaves forgotten: too many wait for a re-assertion; counting the rest in jamrelay_redis_leaves_forgotten_total",
		"session", r.code, "member", r.id, "max", maxLost)
}

// takeLost returns the lost leaves of members the node does not hold
// again in the same session; b.mu is held. They stay in b.lost until a
// re-assertion that applied them counts up (forgetLost).
func (b *Broker) takeLost(held map[memberRef]bool) []memberRef {
	var out []memberRef
	for r := range b.lost {
		if !held[r] {
			out = append(out, r)
		}
	}
	return out
}

// forgetLost drops the lost leaves a re-assertion applied; b.mu is held.
// Once the set has room again, the next overflow warns anew.
func (b *Broker) forgetLost(applied []memberRef) {
	for _, r := range applied {
		delete(b.lost, r)
	}
	if len(b.lost) < maxLost {
		b.lostFull = false
	}
	b.m.lostLeaves.Set(float64(len(b.lost)))
}

// keepGone keeps as lost the leaves of a failed re-assertion: those
// marked and not yet applied, and those it took last (inflight: the
// round that failed, or the changes it ran out of rounds on), for
// members the node no longer has there. It is a second guard behind
// drop: each such leave was made while the node counted down, so drop
// kept it already, and no test fails without keepGone but its unit test
// (lost_internal_test.go). It stays for a leave that reaches b.changed
// some other way later; the publisher alone would keep it only when it
// gets to it, maybe after the next re-assertion took the lost leaves,
// which would then miss a leave whose member the node's index no
// longer names in that session. A ref in both sets is kept (or, the set
// full, forgotten and counted) once.
func (b *Broker) keepGone(inflight map[memberRef]struct{}) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var gone []memberRef
	for r := range b.changed {
		if !b.sessions[r.code].has(r.id) {
			gone = append(gone, r)
		}
	}
	for r := range inflight {
		if _, dup := b.changed[r]; !dup && !b.sessions[r.code].has(r.id) {
			gone = append(gone, r)
		}
	}
	b.keepLostLocked(gone)
}
