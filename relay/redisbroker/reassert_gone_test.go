package redisbroker

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jambridge/jambridge/internal/redistest"
	"github.com/jambridge/jambridge/relay"
)

// The publisher keeps a leave it cannot send as lost only when it gets
// to it, which may be late: blocked on subMu, or in an unsubscription
// that dials a Redis out of reach. Here re-assertion A writes m's join
// of YYYY (made during A, so a round repoints the node's index to
// YYYY); m then leaves XXXX while the publisher is stuck behind an
// unsubscription (the test holds subMu) until the next re-assertion B
// has taken its snapshot and lost leaves; and A's next round fails
// (its pipeline gets an error: w's session key has the wrong type). A
// keeps the leave it marked as lost (keepGone; drop kept it already, as
// the node counted down), so B removes m from XXXX: with neither, B
// finds the leave nowhere (its changes start empty, the publisher keeps
// it too late, the index names YYYY) and m stays a ghost in XXXX.
func TestFailedReassertionKeepsLeavesThePublisherKeepsLate(t *testing.T) {
	b := startBroker(t, redistest.Start(t))
	ctx := t.Context()
	create(t, b, "XXXX", "m")
	create(t, b, "YYYY", "c")
	create(t, b, "QQQQ", "q")
	create(t, b, "EEEE", "w")
	g := newGate(t)
	var starts, hooks atomic.Int32
	b.setHook(hookReassert, func() { starts.Add(1) })
	b.setHook(hookRound, func() {
		switch starts.Load() {
		case 1: // A
			switch hooks.Add(1) {
			case 1: // before the snapshot: m's join, served locally
				joinWhileDown(t, b, "YYYY", "m")
			case 2: // the round that writes m in YYYY
				b.Leave("EEEE", "w")
				if err := b.rdb.Set(ctx, b.key("s:", "EEEE"), "not a hash", 0).Err(); err != nil {
					t.Errorf("break session EEEE: %v", err)
				}
			case 3: // the round that fails on w's leave: the test leaves m
				g.once(0, func() { g.signal(0); g.wait(0) })
			}
		case 2: // B took its snapshot and lost leaves
			g.once(1, func() { g.signal(1); g.wait(1) })
		}
	})
	before := b.Reassertions()
	b.markDown(errUnavailable)
	g.await(0, "re-assertion A's second round")
	blockPublisher(t, b, g)
	b.Leave("XXXX", "m") // queued behind q's unsubscription
	g.release(0)
	g.await(1, "re-assertion B's first round, after A failed")
	if n := hooks.Load(); n != 3 {
		t.Errorf("re-assertion A ran %d rounds, want 2", n-1)
	}
	if err := b.rdb.Del(ctx, b.key("s:", "EEEE")).Err(); err != nil {
		t.Fatal(err)
	}
	publisherLate(t, b, g, before)
	wantMembers(t, b, "QQQQ")
	wantMembers(t, b, "EEEE")
}

// A re-assertion that runs out of rounds fails on the changes it took
// last, which no round wrote: the leaves among them are kept as lost too.
// Here A writes m's join of YYYY (made during A, so a round repoints the
// node's index to YYYY), then members leave during each of its rounds,
// the last leave being m's of XXXX, while the publisher is stuck behind
// an unsubscription (the test holds subMu) until the next re-assertion
// B has taken its snapshot and lost leaves. B removes m from XXXX only
// if that leave was kept (by A's keepGone, or by drop).
func TestReassertionOutOfRoundsKeepsItsLastLeaves(t *testing.T) {
	b := startBroker(t, redistest.Start(t))
	ctx := t.Context()
	create(t, b, "XXXX", "m")
	create(t, b, "YYYY", "c")
	create(t, b, "QQQQ", "q")
	create(t, b, "ZZZZ", "z0")
	for i := 1; i <= maxReassertRounds; i++ {
		if _, _, err := b.Join(ctx, "ZZZZ", relay.Participant{ID: fmt.Sprint("z", i)}, relay.Entry{}, 100); err != nil {
			t.Fatalf("z%d joins ZZZZ: %v", i, err)
		}
	}
	g := newGate(t)
	var starts, hooks atomic.Int32
	b.setHook(hookReassert, func() { starts.Add(1) })
	b.setHook(hookRound, func() {
		switch starts.Load() {
		case 1: // A: a change in each round, m's leave last
			switch n := int(hooks.Add(1)); {
			case n == 1: // before the snapshot: m's join, served locally
				joinWhileDown(t, b, "YYYY", "m")
			case n == 3: // the test leaves q, blocking the publisher
				g.once(0, func() { g.signal(0); g.wait(0) })
			case n <= maxReassertRounds:
				b.Leave("ZZZZ", fmt.Sprint("z", n))
			case n == maxReassertRounds+1:
				b.Leave("XXXX", "m")
			}
		case 2: // B took its snapshot and lost leaves
			g.once(1, func() { g.signal(1); g.wait(1) })
		}
	})
	before := b.Reassertions()
	b.markDown(errUnavailable)
	g.await(0, "re-assertion A's second round")
	blockPublisher(t, b, g)
	g.release(0)
	g.await(1, "re-assertion B's first round, after A failed")
	if n := hooks.Load(); n != maxReassertRounds+1 {
		t.Errorf("re-assertion A ran %d rounds, want %d", n-1, maxReassertRounds)
	}
	publisherLate(t, b, g, before)
	wantMembers(t, b, "ZZZZ", "z0", "z1", "z3") // z1: m joined instead; z3: the test left q
}

// A leave made while the node is down, before a re-assertion takes its
// snapshot, is applied by that re-assertion though the publisher gets
// to it only later (stuck behind an unsubscription: the test holds
// subMu): m's join of YYYY was written while up (the node's index names
// YYYY), so neither the snapshot nor the index removes m from XXXX:
// drop keeps the leave as lost at once, the node counting down.
func TestLeaveWhileDownThePublisherKeepsLateLeavesNoGhost(t *testing.T) {
	b := startBroker(t, redistest.Start(t))
	ctx := t.Context()
	create(t, b, "XXXX", "m")
	create(t, b, "YYYY", "c")
	create(t, b, "QQQQ", "q")
	if _, _, err := b.Join(ctx, "YYYY", relay.Participant{ID: "m"}, relay.Entry{}, 10); err != nil {
		t.Fatalf("m joins YYYY: %v", err)
	}
	g := newGate(t)
	b.setHook(hookReassert, func() { g.once(0, func() { g.signal(0); g.wait(0) }) })
	b.setHook(hookRound, func() { g.once(1, func() { g.signal(1); g.wait(1) }) })
	before := b.Reassertions()
	b.markDown(errUnavailable)
	g.await(0, "the re-assertion to start")
	blockPublisher(t, b, g)
	b.Leave("XXXX", "m") // queued behind q's unsubscription
	g.release(0)
	g.await(1, "the re-assertion's first round")
	publisherLate(t, b, g, before)
	wantMembers(t, b, "QQQQ")
}

// publisherLate checks that m's leave of XXXX is kept as lost while the
// publisher is still stuck, lets the publisher get to it while the
// re-assertion is held at gate 1, after it took its snapshot and lost
// leaves (too late for it, and the node down), then waits for the
// re-assertion and checks that m left XXXX and is in YYYY beside c.
func publisherLate(t *testing.T, b *Broker, g *gate, before uint64) {
	t.Helper()
	keptBeforeThePublisher(t, b, "XXXX", "m")
	g.unlockSub(b)
	b.Flush()
	g.release(1)
	awaitReasserted(t, b, before)
	wantMembers(t, b, "XXXX")
	wantMembers(t, b, "YYYY", "c", "m")
}

// joinWhileDown joins id to code while the node counts down: served
// locally, for a re-assertion's round to write.
func joinWhileDown(t *testing.T, b *Broker, code, id string) {
	if _, _, err := b.Join(t.Context(), code, relay.Participant{ID: id}, relay.Entry{}, 10); err == nil {
		t.Errorf("%s joined %s in Redis while the node counted down", id, code)
	}
}

// blockPublisher holds subMu and makes q, QQQQ's only member, leave:
// the publisher takes q's leave, then blocks in the unsubscription from
// QQQQ until the test frees subMu; what is pushed meanwhile waits.
func blockPublisher(t *testing.T, b *Broker, g *gate) {
	t.Helper()
	g.lockSub(b)
	b.Leave("QQQQ", "q")
	WaitUntil(t, "the publisher to take q's leave", func() bool {
		b.pub.mu.Lock()
		defer b.pub.mu.Unlock()
		return b.pub.q.empty()
	})
}

// keptBeforeThePublisher checks, while the publisher is still stuck
// behind q's unsubscription (the test holds subMu), so has not got to
// the leave of id from code, that the leave is kept as lost already: by
// drop (made while the node counted down) or by a failed re-assertion
// (keepGone), in time for the next one. What the publisher does with it
// later is not checked: it drops it, down, without keeping it again
// (b.Flush lets it try, and gives up after drainWait).
func keptBeforeThePublisher(t *testing.T, b *Broker, code, id string) {
	t.Helper()
	if !b.isLost(code, id) {
		t.Fatalf("the leave of %s from %s is not kept as lost before the publisher got to it", id, code)
	}
}

// isLost reports whether the leave of id from code is kept as lost.
func (b *Broker) isLost(code, id string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	_, ok := b.lost[memberRef{code, id}]
	return ok
}

// gate holds the broker's goroutines at numbered points (hooks) until
// the test releases them; the test's cleanup releases every point and
// subMu, if the test held it, so the broker can close.
type gate struct {
	t        *testing.T
	onces    [4]sync.Once
	reached  [4]chan struct{}
	released [4]chan struct{}
	freed    [4]sync.Once
	subOnce  sync.Once
	subHeld  atomic.Bool
}

func newGate(t *testing.T) *gate {
	g := &gate{t: t}
	for i := range g.reached {
		g.reached[i], g.released[i] = make(chan struct{}), make(chan struct{})
	}
	t.Cleanup(func() {
		for i := range g.released {
			g.release(i)
		}
	})
	return g
}

// lockSub and unlockSub hold and free subMu, as a goroutine of the
// broker stuck in an unsubscription would.
func (g *gate) lockSub(b *Broker) {
	b.subMu.Lock()
	g.subHeld.Store(true)
	g.t.Cleanup(func() { g.unlockSub(b) })
}

func (g *gate) unlockSub(b *Broker) {
	if g.subHeld.Load() {
		g.subOnce.Do(b.subMu.Unlock)
	}
}

// once runs f the first time point i is hit.
func (g *gate) once(i int, f func()) { g.onces[i].Do(f) }

// signal tells the test point i was reached; wait holds there until the
// test releases it.
func (g *gate) signal(i int) { close(g.reached[i]) }
func (g *gate) wait(i int)   { <-g.released[i] }

func (g *gate) release(i int) { g.freed[i].Do(func() { close(g.released[i]) }) }

// await waits until point i was reached, at most WaitBound.
func (g *gate) await(i int, what string) {
	g.t.Helper()
	select {
	case <-g.reached[i]:
	case <-time.After(WaitBound): // a bound on a broken node, not a speed assertion
		g.t.Fatalf("not within %v: %s", WaitBound, what)
	}
}
