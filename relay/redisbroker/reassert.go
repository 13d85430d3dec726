package redisbroker

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/jambridge/jambridge/relay"
)

// A re-assertion writes a snapshot of the node's members, then, round
// after round, the members changed meanwhile, and counts the node up in
// the same critical section (mu) as its last look at the changes: see
// the package's Concurrency section (doc.go) for why nothing made
// during it is lost.

// memberRef names one member of one session.
type memberRef struct{ code, id string }

// asserted is one member as a re-assertion writes it.
type asserted struct {
	memberRef
	stored, addr string
	key          storedKey
}

// maxReassertRounds bounds the rounds after the first that wrote
// something (waiting for pending members to settle is no round):
// members changing faster than Redis answers make the re-assertion
// fail, and the heartbeat tries again after its backoff.
const maxReassertRounds = 8

// reassert puts every local member back in Redis (codes, private
// sessions' keys, members' address hashes, presence, the node's index;
// the other nodes hear their joins and skip those they know), subscribes
// to their sessions, removes the members the node no longer has (leaves
// that could not go out), then applies what changed meanwhile and counts
// the node up (epoch, up).
func (b *Broker) reassert(ctx context.Context) (err error) {
	b.up.Store(false) // swept while up: joins stay local until re-asserted
	b.m.up.Set(0)
	b.hook(hookReassert)
	all, held, lost := b.startTracking()
	var inflight map[memberRef]struct{} // the changes last taken: the round being written
	defer func() {
		if err != nil {
			b.keepGone(inflight) // the next re-assertion applies them
		}
		b.stopTracking()
	}()
	b.hook(hookRound)
	if err := b.assertAll(ctx, all, held, lost); err != nil {
		return err
	}
	// applied: the lost leaves assertAll wrote, then the leaves each
	// round wrote, forgotten from b.lost once the node counts up.
	applied := lost
	var waitLimit <-chan time.Time // one bound for all the waits for settles
	for round := 0; ; {
		changed, settled := b.upUnlessChanged(applied)
		if settled != nil {
			if waitLimit == nil {
				t := time.NewTimer(settleWait)
				defer t.Stop()
				waitLimit = t.C
			}
			if err := b.awaitSettled(ctx, settled, waitLimit); err != nil {
				return err
			}
			continue // a settle costs no round
		}
		if changed == nil {
			return nil
		}
		// Taken from b.changed: kept as lost if this fails, out of rounds
		// too (set before the rounds check). A second guard behind drop,
		// which kept each leave made while the node counted down already.
		inflight = changed
		if round == maxReassertRounds {
			return fmt.Errorf("re-assert the node's members: they still changed after %d rounds", round)
		}
		b.hook(hookRound)
		wrote, left, err := b.applyChanges(ctx, changed)
		if err != nil {
			return err
		}
		applied = append(applied, left...)
		if wrote {
			round++
		}
	}
}

// hookPoint names a point where a test's hook may run (export_test.go).
type hookPoint int

const (
	hookReassert hookPoint = iota // a re-assertion starts, the node down, before its snapshot
	hookRound                     // each round, once it took the members it writes
	hookJoinDown                  // a Create or Join found Redis down
	hookSettle                    // a Create or Join returns, before its member settles
	hookWait                      // a re-assertion waits for pending members to settle
	numHooks
)

// hook runs the tests' hook at p, if any.
func (b *Broker) hook(p hookPoint) {
	if h := b.hooks[p].Load(); h != nil {
		(*h)()
	}
}

// startTracking takes the snapshot of the members to write and starts
// marking changes; held holds every local member, pending ones too, by
// session and id: an id (a socket's) may have moved to another session
// while Redis was down, and its old session must lose it. lost holds
// the lost leaves (Broker.lost) of members not held again.
func (b *Broker) startTracking() (all []asserted, held map[memberRef]bool, lost []memberRef) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.changed = map[memberRef]struct{}{}
	held = map[memberRef]bool{}
	for code, s := range b.sessions {
		for id, stored := range s.local {
			held[memberRef{code, id}] = true
			if _, pending := s.pending[id]; !pending {
				all = append(all, asserted{memberRef{code, id}, stored, s.addrs[id], s.key})
			}
		}
	}
	return all, held, b.takeLost(held)
}

// stopTracking stops marking changes (a re-assertion that failed: the
// next one starts from a new snapshot, and from the lost leaves kept).
func (b *Broker) stopTracking() {
	b.mu.Lock()
	b.changed, b.settled = nil, nil
	b.mu.Unlock()
}

// noteChange marks member id of code changed for a running
// re-assertion; b.mu is held.
func (b *Broker) noteChange(code, id string) {
	if b.changed != nil {
		b.changed[memberRef{code, id}] = struct{}{}
	}
}

// upUnlessChanged returns, while a member is pending, a channel closed
// once one settles (the changes wait: a round writes the settled ones
// together); else what changed since the last round; or, when nothing
// did, counts the node up, forgetting the lost
// leaves it applied (applied: the lost ones it took, and the leaves its
// rounds wrote, which drop kept as lost too), and returns nils, in one
// critical section with the marking of changes.
func (b *Broker) upUnlessChanged(applied []memberRef) (map[memberRef]struct{}, chan struct{}) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.anyPending() {
		if b.settled == nil {
			b.settled = make(chan struct{})
		}
		return nil, b.settled
	}
	if len(b.changed) > 0 {
		changed := b.changed
		b.changed = map[memberRef]struct{}{}
		return changed, nil
	}
	b.changed = nil
	b.forgetLost(applied)
	b.epoch.Add(1) // before up: the publisher, seeing up, dials again
	b.up.Store(true)
	b.m.up.Set(1)
	return nil, nil
}

// anyPending reports whether a local member's Create or Join is on its
// way; b.mu is held.
func (b *Broker) anyPending() bool {
	for _, s := range b.sessions {
		if len(s.pending) > 0 {
			return true
		}
	}
	return false
}

// settleWait bounds a re-assertion's waits, all together, for the
// members pending when it started (none becomes pending during it: up is
// false). It does not bound a Create or Join: go-redis ignores the
// relay's context deadline (ContextTimeoutEnabled is off), so each of
// its commands may take a dial, a write and a read (opTimeout each), and
// a Join up to two tries of a subscription and an EVALSHA (then EVAL).
// settleWait covers a command that waits out one timeout; a slower join
// makes the re-assertion fail, harmless: the member stays pending, and
// the heartbeat tries again after its backoff and waits for it again.
const settleWait = 2 * opTimeout

// awaitSettled waits until settled closes (a pending member settled or
// left), failing the re-assertion once limit fires.
func (b *Broker) awaitSettled(ctx context.Context, settled chan struct{}, limit <-chan time.Time) error {
	b.hook(hookWait)
	select {
	case <-settled:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-limit:
		return fmt.Errorf("re-assert the node's members: a join still on its way after %v", settleWait)
	}
}

// assertAll applies the lost leaves, writes the snapshot's members,
// removes those of the node's index in Redis it does not hold, and
// subscribes to every session. The
// index is read before the snapshot repoints it: a member that moved
// from one session to another meanwhile is held in the new one only,
// and leaveScript keeps its index entry, which then names the new one.
func (b *Broker) assertAll(ctx context.Context, all []asserted, held map[memberRef]bool, lost []memberRef) error {
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	pipe := b.rdb.Pipeline()
	for _, r := range lost {
		b.leaveOne(ctx, pipe, r)
	}
	index := pipe.HGetAll(ctx, b.key("nm:", b.node))
	for _, m := range all {
		b.assertOne(ctx, pipe, m)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return err
	}
	pipe = b.rdb.Pipeline()
	for id, code := range index.Val() {
		if !held[memberRef{code, id}] {
			b.leaveOne(ctx, pipe, memberRef{code, id})
		}
	}
	if pipe.Len() > 0 {
		if _, err := pipe.Exec(ctx); err != nil {
			return err
		}
	}
	return b.subscribe(ctx, nil)
}

// applyChanges writes the members changed since the last round as the
// node has them now: present ones again, gone ones removed; it reports
// whether it wrote any, and the leaves it wrote (left, once it did
// without error).
func (b *Broker) applyChanges(ctx context.Context, changed map[memberRef]struct{}) (wrote bool, left []memberRef, err error) {
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	present, gone := b.sortChanges(changed)
	if len(present)+len(gone) == 0 {
		return false, nil, nil // only pending joins: each marks itself again when it settles
	}
	pipe := b.rdb.Pipeline()
	for _, r := range gone {
		b.leaveOne(ctx, pipe, r)
	}
	var codes []string
	for _, m := range present {
		b.assertOne(ctx, pipe, m)
		if !slices.Contains(codes, m.code) {
			codes = append(codes, m.code)
		}
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return true, nil, err
	}
	if len(codes) == 0 {
		return true, gone, nil
	}
	if err := b.subscribe(ctx, codes); err != nil {
		return true, nil, err
	}
	return true, gone, nil
}

// sortChanges splits changed into the members the node has (but those
// whose join is pending) and those it no longer has.
func (b *Broker) sortChanges(changed map[memberRef]struct{}) (present []asserted, gone []memberRef) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for r := range changed {
		s := b.sessions[r.code]
		var stored string
		ok := s != nil
		if ok {
			stored, ok = s.local[r.id]
		}
		switch {
		case !ok:
			gone = append(gone, r)
		case !s.isPending(r.id):
			present = append(present, asserted{r, stored, s.addrs[r.id], s.key})
		}
	}
	return present, gone
}

// assertOne queues joinScript in "assert" mode for m on pipe.
func (b *Broker) assertOne(ctx context.Context, pipe redis.Pipeliner, m asserted) {
	j := joining{code: m.code, p: relay.Participant{ID: m.id}, mode: "assert", key: m.key, addr: m.addr}
	b.runJoin(ctx, pipe, &j, m.stored)
}

// leaveOne queues leaveScript for r on pipe.
func (b *Broker) leaveOne(ctx context.Context, pipe redis.Pipeliner, r memberRef) {
	pipe.Eval(ctx, leaveScript, b.sessionKeys(r.code), r.id, b.key("ev:", r.code), presence(kindLeave, b.node, r.id), r.code)
}

// subscribe subscribes to the channel of each of codes (nil: every
// session) the node still has members in. It does not hold subMu while
// Redis answers (a dial may take opTimeout), so joins go on meanwhile;
// a session whose last member left since (its unsubscription may have
// gone before this subscription) is then unsubscribed, under subMu.
func (b *Broker) subscribe(ctx context.Context, codes []string) error {
	b.mu.Lock()
	if codes == nil {
		for code := range b.sessions {
			codes = append(codes, code)
		}
	}
	codes = slices.DeleteFunc(slices.Clone(codes), func(code string) bool { return b.sessions[code] == nil })
	b.mu.Unlock()
	if len(codes) == 0 {
		return nil
	}
	err := b.psSubscribe(ctx, b.channels(codes)...)
	b.subMu.Lock()
	defer b.subMu.Unlock()
	b.mu.Lock()
	gone := slices.DeleteFunc(codes, func(code string) bool { return b.sessions[code] != nil })
	b.mu.Unlock()
	if len(gone) > 0 {
		_ = b.ps.Unsubscribe(ctx, b.channels(gone)...)
	}
	return err
}

// channels returns the channels of codes.
func (b *Broker) channels(codes []string) []string {
	out := make([]string, len(codes))
	for i, code := range codes {
		out[i] = b.key("ev:", code)
	}
	return out
}
