package redisbroker

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/jambridge/jambridge/internal/redistest"
	"github.com/jambridge/jambridge/relay"
)

// The relay moves a member by joining the new session, then leaving the
// old one. When the join was written while the node was up and the
// leave is then dropped by the publisher (the node went down first),
// the re-assertion that follows removes the member from the old
// session, though the node's index already names the new one.
func TestDroppedLeaveOfWrittenMoveLeavesNoGhost(t *testing.T) {
	b := startBroker(t, redistest.Start(t))
	ctx := t.Context()
	create(t, b, "XXXX", "m")
	create(t, b, "YYYY", "c")
	if _, _, err := b.Join(ctx, "YYYY", relay.Participant{ID: "m"}, relay.Entry{}, 10); err != nil {
		t.Fatalf("m joins YYYY: %v", err)
	}
	var once sync.Once
	b.setHook(hookReassert, func() {
		once.Do(func() {
			b.Leave("XXXX", "m")
			b.Flush() // the publisher dropped the leave: the node is down
		})
	})
	before := b.Reassertions()
	b.markDown(errUnavailable)
	awaitReasserted(t, b, before)
	wantMovedToYYYY(t, b)
}

// A re-assertion whose round wrote a member's join of YYYY (repointing
// the node's index) fails before the round that applies its leave of
// XXXX: the next re-assertion still removes it from XXXX.
func TestFailedReassertionKeepsItsLeaves(t *testing.T) {
	b := startBroker(t, redistest.Start(t))
	ctx := t.Context()
	create(t, b, "XXXX", "m")
	create(t, b, "YYYY", "c")
	var rounds atomic.Int32
	b.setHook(hookRound, func() {
		switch rounds.Add(1) {
		case 1: // before the snapshot is written
			if _, _, err := b.Join(ctx, "YYYY", relay.Participant{ID: "m"}, relay.Entry{}, 10); err == nil {
				t.Errorf("m joined YYYY in Redis while the node counted down")
			}
		case 2: // the round that writes m in YYYY
			b.Leave("XXXX", "m")
		}
	})
	subscribe := b.psSubscribe
	var calls atomic.Int32
	b.psSubscribe = func(ctx context.Context, channels ...string) error {
		if calls.Add(1) == 2 { // the round's, after it wrote m in YYYY
			return errors.New("subscribe: connection reset")
		}
		return subscribe(ctx, channels...)
	}
	before := b.Reassertions()
	b.markDown(errUnavailable)
	awaitReasserted(t, b, before)
	if calls.Load() < 3 {
		t.Fatalf("the re-assertion subscribed %d times, want a failed one and another after it", calls.Load())
	}
	wantMembers(t, b, "XXXX")
	wantMembers(t, b, "YYYY", "c", "m")
}

// wantMovedToYYYY checks that m moved from XXXX to YYYY (beside c) in
// Redis, the node's index included.
func wantMovedToYYYY(t *testing.T, b *Broker) {
	t.Helper()
	wantMembers(t, b, "XXXX")
	wantMembers(t, b, "YYYY", "c", "m")
	if got := b.rdb.HGet(t.Context(), b.key("nm:", b.node), "m").Val(); got != "YYYY" {
		t.Errorf("the node's index has m in %q, want YYYY", got)
	}
}

// A leave made during a re-assertion, which drop keeps as lost (the node
// counts down), is applied by one of its rounds; once the node counts
// up it is no longer kept: the gauge reads 0 and it takes no room in
// the lost set.
func TestReassertionForgetsTheLeavesItsRoundsApplied(t *testing.T) {
	b := startBroker(t, redistest.Start(t))
	create(t, b, "XXXX", "c")
	if _, _, err := b.Join(t.Context(), "XXXX", relay.Participant{ID: "m"}, relay.Entry{}, 10); err != nil {
		t.Fatalf("m joins XXXX: %v", err)
	}
	var once sync.Once
	b.setHook(hookRound, func() { // first: after the snapshot and lost leaves were taken
		once.Do(func() {
			b.Leave("XXXX", "m")
			if !b.isLost("XXXX", "m") {
				t.Errorf("the leave of m made while down is not kept as lost")
			}
		})
	})
	before := b.Reassertions()
	b.markDown(errUnavailable)
	awaitReasserted(t, b, before)
	b.Flush() // the publisher sends the leave again, up: it keeps nothing
	wantMembers(t, b, "XXXX", "c")
	if b.isLost("XXXX", "m") {
		t.Errorf("the leave of m is still kept as lost after the round that applied it, up")
	}
	if got := testutil.ToFloat64(b.m.lostLeaves); got != 0 {
		t.Errorf("lost leaves gauge %v once up, want 0", got)
	}
}
