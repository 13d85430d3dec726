package bridge_test

import (
	"fmt"
	"testing"

	"github.com/jambridge/jambridge/bridge"
)

func TestSeqTracker(t *testing.T) {
	type step struct {
		seq  int64
		want bridge.SeqVerdict
	}
	v := func(k bridge.SeqKind) bridge.SeqVerdict { return bridge.SeqVerdict{Kind: k} }
	gap := func(n int64) bridge.SeqVerdict { return bridge.SeqVerdict{Kind: bridge.SeqGap, Missing: n} }
	tests := []struct {
		name  string
		steps []step
		want  bridge.SeqStats
	}{
		{"in order", []step{{1, v(bridge.SeqInOrder)}, {2, v(bridge.SeqInOrder)}, {3, v(bridge.SeqInOrder)}},
			bridge.SeqStats{Received: 3}},
		{"first seen mid-session", []step{{41, v(bridge.SeqInOrder)}, {42, v(bridge.SeqInOrder)}},
			bridge.SeqStats{Received: 2}},
		{"gap", []step{{1, v(bridge.SeqInOrder)}, {4, gap(2)}, {5, v(bridge.SeqInOrder)}},
			bridge.SeqStats{Received: 3, Lost: 2}},
		{"duplicates", []step{{1, v(bridge.SeqInOrder)}, {1, v(bridge.SeqDuplicate)}, {2, v(bridge.SeqInOrder)}, {1, v(bridge.SeqDuplicate)}, {2, v(bridge.SeqDuplicate)}},
			bridge.SeqStats{Received: 2, Duplicates: 3}},
		{"swap fills the gap", []step{{1, v(bridge.SeqInOrder)}, {3, gap(1)}, {2, v(bridge.SeqLate)}, {4, v(bridge.SeqInOrder)}},
			bridge.SeqStats{Received: 4, Reordered: 1}},
		{"late fill then duplicate", []step{{1, v(bridge.SeqInOrder)}, {5, gap(3)}, {3, v(bridge.SeqLate)}, {3, v(bridge.SeqDuplicate)}, {2, v(bridge.SeqLate)}},
			bridge.SeqStats{Received: 4, Lost: 1, Duplicates: 1, Reordered: 2}},
		{"older than the first seen", []step{{10, v(bridge.SeqInOrder)}, {11, v(bridge.SeqInOrder)}, {9, v(bridge.SeqLate)}},
			bridge.SeqStats{Received: 3, Reordered: 1}},
		{"no seq", []step{{0, v(bridge.SeqNone)}, {-3, v(bridge.SeqNone)}, {1, v(bridge.SeqInOrder)}, {0, v(bridge.SeqNone)}},
			bridge.SeqStats{Received: 1}},
		{"edge of window", []step{{1, v(bridge.SeqInOrder)}, {1025, gap(1023)}, {2, v(bridge.SeqLate)}, {2, v(bridge.SeqDuplicate)}},
			bridge.SeqStats{Received: 3, Lost: 1022, Reordered: 1, Duplicates: 1}},
		{"beyond window is a restart", []step{{1, v(bridge.SeqInOrder)}, {1026, gap(1024)}, {2, v(bridge.SeqRestart)}, {3, v(bridge.SeqInOrder)}, {1026, gap(1022)}},
			bridge.SeqStats{Received: 5, Lost: 2046, Restarts: 1}},
		{"big jump clears the window", []step{{1, v(bridge.SeqInOrder)}, {5000, gap(4998)}, {4999, v(bridge.SeqLate)}, {5000, v(bridge.SeqDuplicate)}, {3977, v(bridge.SeqLate)}},
			bridge.SeqStats{Received: 4, Lost: 4996, Duplicates: 1, Reordered: 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var tr bridge.SeqTracker
			tr.Observe("other", 7) // senders are independent
			for i, s := range tt.steps {
				if got := tr.Observe("a", s.seq); got != s.want {
					t.Errorf("step %d: Observe(%d) = %+v, want %+v", i, s.seq, got, s.want)
				}
			}
			if got := tr.Stats("a"); got != tt.want {
				t.Errorf("Stats = %+v, want %+v", got, tt.want)
			}
			if got, want := tr.Stats("other"), (bridge.SeqStats{Received: 1}); got != want {
				t.Errorf("other sender's Stats = %+v, want %+v", got, want)
			}
		})
	}
}

func TestSeqTrackerReset(t *testing.T) {
	var tr bridge.SeqTracker
	for _, seq := range []int64{1, 2, 5, 6} {
		tr.Observe("a", seq)
	}
	tr.Reset("a")
	if got := tr.Stats("a"); got != (bridge.SeqStats{}) {
		t.Errorf("Stats after Reset = %+v, want zero", got)
	}
	// Rejoined: numbering starts at 1 again, and that is in order.
	for _, seq := range []int64{1, 2} {
		if got := tr.Observe("a", seq); got.Kind != bridge.SeqInOrder {
			t.Errorf("Observe(%d) after Reset = %v, want in-order", seq, got.Kind)
		}
	}
	if got, want := tr.Stats("a"), (bridge.SeqStats{Received: 2}); got != want {
		t.Errorf("Stats = %+v, want %+v", got, want)
	}
	tr.Reset("never seen") // no panic
}

// TestSeqTrackerRandom checks the counters against a model that remembers
// everything, for random losses, duplicates and local reordering within
// the window.
func TestSeqTrackerRandom(t *testing.T) {
	rng := newRand(7)
	var tr bridge.SeqTracker
	seen := map[int64]bool{}
	var sent []int64
	for seq := int64(1); seq <= 20000; seq++ {
		switch r := rng.Float64(); {
		case r < 0.05: // lost for good
		case r < 0.08: // duplicated
			sent = append(sent, seq, seq)
		default:
			sent = append(sent, seq)
		}
	}
	// Reorder locally: swap neighbours up to 50 apart.
	for range 2000 {
		i := rng.IntN(len(sent) - 50)
		j := i + 1 + rng.IntN(50)
		sent[i], sent[j] = sent[j], sent[i]
	}
	var want bridge.SeqStats
	newest := int64(0)
	for _, seq := range sent {
		got := tr.Observe("a", seq)
		switch {
		case seen[seq]:
			want.Duplicates++
			if got.Kind != bridge.SeqDuplicate {
				t.Fatalf("Observe(%d) = %v, want duplicate", seq, got.Kind)
			}
		case seq < newest:
			want.Received++
			want.Reordered++
			if got.Kind != bridge.SeqLate {
				t.Fatalf("Observe(%d) = %v, want late", seq, got.Kind)
			}
		default:
			want.Received++
			newest = seq
		}
		seen[seq] = true
	}
	first := sent[0]
	for seq := first + 1; seq < newest; seq++ {
		if !seen[seq] {
			want.Lost++
		}
	}
	if got := tr.Stats("a"); got != want {
		t.Errorf("Stats = %+v, want %+v", got, want)
	}
}

// TestSeqTrackerBoundedMemory: a known sender costs no allocation, however
// far its numbers go.
func TestSeqTrackerBoundedMemory(t *testing.T) {
	var tr bridge.SeqTracker
	tr.Observe("a", 1)
	seq := int64(1)
	allocs := testing.AllocsPerRun(10000, func() {
		seq += 3
		tr.Observe("a", seq)
		tr.Observe("a", seq-1)
		tr.Observe("a", seq-1)
	})
	if allocs != 0 {
		t.Errorf("Observe allocates %v times per run, want 0", allocs)
	}
	want := bridge.SeqStats{Received: 20003, Lost: 10001, Duplicates: 10001, Reordered: 10001}
	if got := tr.Stats("a"); got != want {
		t.Errorf("Stats = %+v, want %+v", got, want)
	}
}

func BenchmarkSeqTrackerObserve(b *testing.B) {
	var tr bridge.SeqTracker
	for i := range b.N {
		tr.Observe("a", int64(i+1))
	}
}

func ExampleSeqTracker() {
	var tr bridge.SeqTracker
	for _, seq := range []int64{1, 2, 5, 4, 4} {
		fmt.Println(seq, tr.Observe("bob", seq))
	}
	fmt.Printf("%+v\n", tr.Stats("bob"))
	// Output:
	// 1 {in-order 0}
	// 2 {in-order 0}
	// 5 {gap 2}
	// 4 {late 0}
	// 4 {duplicate 0}
	// {Received:4 Lost:1 Duplicates:1 Reordered:1 Restarts:0}
}
