package releasequeue

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

type q3 = Queue[int, int, string]

func popAll(q *q3) []Item[int, int, string] {
	var out []Item[int, int, string]
	for {
		it, ok := q.Pop()
		if !ok {
			return out
		}
		out = append(out, it)
	}
}

func events(items []Item[int, int, string]) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.Event
	}
	return out
}

func TestOrderAndDropOldest(t *testing.T) {
	q := New[int, int, string](Config{Size: 3, MaxReleases: 8})
	q.Push(Start, 1, 60, "on60")
	q.Push(Plain, 0, 0, "cc1")
	q.Push(Release, 1, 60, "off60")
	q.Push(Plain, 0, 0, "cc2")
	q.Push(Plain, 0, 0, "cc3") // the ring holds 3: on60 goes
	got := events(popAll(q))
	// on60 was dropped, so its release is not delivered either.
	if want := []string{"cc1", "cc2", "cc3"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if st := q.Stats(); st.Dropped != 1 || st.Unsounded != 1 {
		t.Errorf("stats %+v, want 1 dropped, 1 unsounded", st)
	}
}

func TestReleaseCoalescesToTheLaterPosition(t *testing.T) {
	q := New[int, int, string](Config{Size: 8, MaxReleases: 8})
	q.Push(Start, 1, 60, "on1")
	q.Push(Release, 1, 60, "off1")
	q.Push(Start, 1, 60, "on2")
	q.Push(Release, 1, 60, "off2")
	got := events(popAll(q))
	if want := []string{"on1", "on2", "off2"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if st := q.Stats(); st.Coalesced != 1 {
		t.Errorf("coalesced %d, want 1", st.Coalesced)
	}
}

func TestGroupAndAllReleases(t *testing.T) {
	q := New[int, int, string](Config{Size: 8, MaxReleases: 8})
	q.Push(Start, 1, 60, "a-on")
	q.Push(Start, 2, 60, "b-on")
	q.Push(ReleaseGroup, 1, 0, "a-left")
	q.Push(Release, 1, 60, "a-off") // a no longer holds 60: skipped
	q.Push(Release, 2, 60, "b-off")
	q.Push(ReleaseAll, 0, 0, "all")
	got := events(popAll(q))
	if want := []string{"a-on", "b-on", "a-left", "b-off", "all"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestReleasesPastTheBoundOverflowIntoTheRing(t *testing.T) {
	q := New[int, int, string](Config{Size: 4, MaxReleases: 2})
	for k := range 3 {
		q.Push(Start, 0, k, "on")
	}
	for k := range 3 {
		q.Push(Release, 0, k, "off")
	}
	got := popAll(q)
	if len(got) != 6 {
		t.Errorf("delivered %d, want 6", len(got))
	}
	if st := q.Stats(); st.Overflow != 1 {
		t.Errorf("overflow %d, want 1", st.Overflow)
	}
}

// consumer is what a queue's consumer knows: the keys it holds. It
// fails on an event out of order and on a release of a key not held.
type consumer struct {
	t       *testing.T
	seed    uint64
	held    map[[2]int]bool
	lastSeq uint64
}

func (c *consumer) take(it Item[int, int, string]) {
	if it.seq <= c.lastSeq {
		c.t.Fatalf("seed %d: %v delivered out of order", c.seed, it)
	}
	c.lastSeq = it.seq
	k := [2]int{it.Group, it.Key}
	switch it.Kind {
	case Start:
		c.held[k] = true
	case Release:
		if !c.held[k] {
			c.t.Fatalf("seed %d: release of %v, never sounded", c.seed, k)
		}
		delete(c.held, k)
	case ReleaseGroup:
		releaseGroup(c.held, it.Group)
	case ReleaseAll:
		clear(c.held)
	}
}

func releaseGroup(held map[[2]int]bool, g int) {
	for h := range held {
		if h[0] == g {
			delete(held, h)
		}
	}
}

// A random mix of pushes and pops, checked against what the consumer
// sees: order kept, no release of a key it does not hold, every key
// released that was last released by its producer, and the bounds.
func TestRandomInterleavings(t *testing.T) {
	for seed := range uint64(200) {
		r := rand.New(rand.NewPCG(seed, 1))
		q := New[int, int, string](Config{Size: 1 + r.IntN(16), MaxReleases: 64})
		producer := map[[2]int]bool{} // what the producer last said of each key
		c := &consumer{t: t, seed: seed, held: map[[2]int]bool{}}
		for range 2000 {
			g, key := r.IntN(3), r.IntN(4)
			switch n := r.IntN(20); {
			case n < 7:
				q.Push(Start, g, key, "")
				producer[[2]int{g, key}] = true
			case n < 14:
				q.Push(Release, g, key, "")
				delete(producer, [2]int{g, key})
			case n < 15:
				q.Push(ReleaseGroup, g, 0, "")
				releaseGroup(producer, g)
			case n < 16:
				q.Push(Plain, 0, 0, "")
			default:
				if it, ok := q.Pop(); ok {
					c.take(it)
				}
			}
			if l := q.Len(); l > q.cfg.Size+12+3 {
				t.Fatalf("seed %d: %d queued, more than the ring and the keys", seed, l)
			}
		}
		for _, it := range popAll(q) {
			c.take(it)
		}
		for k := range c.held {
			if !producer[k] {
				t.Errorf("seed %d: %v still held, though its producer released it", seed, k)
			}
		}
		if len(q.rels) > 2*len(q.relSeq)+16 {
			t.Errorf("seed %d: %d release entries kept", seed, len(q.rels))
		}
	}
}

func TestReadyIsSignalledWhileItemsRemain(t *testing.T) {
	q := New[int, int, string](Config{Size: 4, MaxReleases: 4})
	q.Push(Plain, 0, 0, "a")
	q.Push(Plain, 0, 0, "b")
	<-q.Ready()
	if _, ok := q.Pop(); !ok {
		t.Fatal("nothing popped")
	}
	select {
	case <-q.Ready():
	default:
		t.Fatal("no signal for the item left")
	}
}

func BenchmarkPushPop(b *testing.B) {
	q := New[int, int, string](Config{Size: 1024, MaxReleases: 4096})
	for i := range b.N {
		q.Push(Start, 0, i%128, "")
		q.Push(Release, 0, i%128, "")
		q.Pop()
		q.Pop()
	}
}
