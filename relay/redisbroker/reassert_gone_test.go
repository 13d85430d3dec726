package redisbroker

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jambridge/jambridge/internal/redistest"
	"github.com/jambridge/jambridge/relay"
)

// The publisher keeps a leave it cannot send as lost only when it gets
// to it, which may be late: blocked on subMu, or in an unsubscription
// that dials a Redis out of reach. Here m, whose join of YYYY was
// written while the node was up (the node's index names YYYY), leaves
// XXXX while re-assertion A waits for a pending Create; the publisher
// is stuck behind an unsubscription (the test holds subMu) until the
// next re-assertion B has taken its snapshot and lost leaves. A fails
// (the Create does not settle within settleWait) and keeps the leave it
// marked as lost (keepGone), so B removes m from XXXX: without that, B
// finds the leave nowhere (its changes start empty, the publisher kept
// it too late, the index names YYYY) and m stays a ghost in XXXX.
func TestFailedReassertionKeepsLeavesThePublisherKeepsLate(t *testing.T) {
	b := startBroker(t, redistest.Start(t))
	ctx := t.Context()
	create(t, b, "XXXX", "m")
	create(t, b, "YYYY", "c")
	create(t, b, "QQQQ", "q")
	if _, _, err := b.Join(ctx, "YYYY", relay.Participant{ID: "m"}, relay.Entry{}, 10); err != nil {
		t.Fatalf("m joins YYYY: %v", err)
	}
	g := newGate(t)
	b.setHook(hookSettle, func() { g.once(0, func() { g.signal(0); g.wait(0) }) })
	created := make(chan error, 1)
	go func() { created <- b.Create(ctx, "WWWW", relay.Participant{ID: "p"}, relay.Entry{}) }()
	g.await(0, "p's Create to be written") // pending: A waits for it, in vain
	var starts atomic.Int32
	b.setHook(hookReassert, func() { starts.Add(1) })
	b.setHook(hookWait, func() {
		if starts.Load() == 1 {
			g.once(1, func() { g.signal(1); g.wait(1) })
		}
	})
	b.setHook(hookRound, func() {
		if starts.Load() == 2 { // B took its snapshot and lost leaves
			g.once(2, func() { g.signal(2); g.wait(2) })
		}
	})
	before := b.Reassertions()
	b.markDown(errUnavailable)
	g.await(1, "re-assertion A to wait for p")
	g.lockSub(b)
	b.Leave("QQQQ", "q") // its unsubscription blocks the publisher on subMu
	WaitUntil(t, "the publisher to keep q's leave", func() bool { return b.isLost("QQQQ", "q") })
	b.Leave("XXXX", "m") // queued behind it
	g.release(1)
	g.await(2, "re-assertion B's first round, after A failed")
	g.unlockSub(b) // the publisher now keeps m's leave: too late for B
	g.release(0)   // p settles: B counts up
	g.release(2)
	if err := <-created; err != nil {
		t.Fatalf("create p: %v", err)
	}
	awaitReasserted(t, b, before)
	wantMembers(t, b, "XXXX")
	wantMembers(t, b, "YYYY", "c", "m")
	wantMembers(t, b, "QQQQ")
	wantMembers(t, b, "WWWW", "p")
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
