package main

import (
	"slices"
	"testing"
)

// runCapacitySearch plays nextCapacityRate against a relay whose steps
// pass up to and including limit events/s per member, and returns the
// rates it tried in order.
func runCapacitySearch(ladder []int, limit int) []int {
	var tried []stepOutcome
	var rates []int
	for len(rates) < 100 {
		rate, ok := nextCapacityRate(ladder, tried)
		if !ok {
			break
		}
		rates = append(rates, rate)
		tried = append(tried, stepOutcome{rate, rate <= limit})
	}
	return rates
}

func TestNextCapacityRate(t *testing.T) {
	ladder := []int{2, 5, 10, 20, 30, 50, 75, 100}
	tests := []struct {
		name  string
		limit int
		want  []int
	}{
		{"first step fails", 1, []int{2}},
		{"every step passes", 1000, []int{2, 5, 10, 20, 30, 50, 75, 100}},
		{"bisects 50..75", 60, []int{2, 5, 10, 20, 30, 50, 75, 62, 56, 59}},
		{"bisects 30..50", 44, []int{2, 5, 10, 20, 30, 50, 40, 45, 42}},
		{"one apart: nothing to bisect", 4, []int{2, 5, 3, 4}},
		{"fails just above a step", 50, []int{2, 5, 10, 20, 30, 50, 75, 62, 56, 53}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := runCapacitySearch(ladder, tt.limit); !slices.Equal(got, tt.want) {
				t.Errorf("tried %v, want %v", got, tt.want)
			}
		})
	}
}

// Whatever the limit, the search ends with the highest pass and the
// lowest failure within capacityPrecision or one event/s of each other.
func TestNextCapacityRateBracketsTheLimit(t *testing.T) {
	for limit := capacityRates[0]; limit < capacityRates[len(capacityRates)-1]; limit++ {
		rates := runCapacitySearch(capacityRates, limit)
		lo, hi := 0, 0
		for _, r := range rates {
			if r <= limit {
				lo = max(lo, r)
			} else if hi == 0 || r < hi {
				hi = r
			}
		}
		if hi == 0 || lo > limit || hi <= limit {
			t.Fatalf("limit %d: tried %v: want a pass at or below and a failure above", limit, rates)
		}
		if hi-lo > 1 && float64(hi) > capacityPrecision*float64(lo) {
			t.Errorf("limit %d: tried %v: bracket %d..%d wider than %.0f%%", limit, rates, lo, hi, (capacityPrecision-1)*100)
		}
		if extra := len(rates) - slices.Index(capacityRates, hi) - 1; hi > 0 && slices.Contains(capacityRates, hi) && extra > 5 {
			t.Errorf("limit %d: %d steps after the first failure, want at most 5", limit, extra)
		}
	}
}

// The capacity is the delivered rate of the highest passing step, not
// of the last one run; the bound is the lowest failing step.
func TestCapacityResultAddStep(t *testing.T) {
	var c capacityResult
	steps := []struct {
		offered, delivered float64
		pass               bool
	}{{40_000, 40_010, true}, {60_000, 51_000, false}, {50_000, 49_990, true}, {55_000, 54_000, false}, {52_000, 51_980, true}}
	for _, s := range steps {
		c.addStep(capacityStepResult{throughputResult{Offered: s.offered, Delivered: s.delivered}, nil, s.pass})
	}
	if c.Capacity != 51_980 || c.FirstFail != 55_000 {
		t.Errorf("capacity %.0f, first failure %.0f; want 51980, 55000", c.Capacity, c.FirstFail)
	}
}

// win is one capacity window at 40k/s offered with the given p99,
// delivered in full and nothing lost unless lost says so.
func win(p99 float64, lost int64) throughputResult {
	return throughputResult{Offered: 40_000, Delivered: 40_000, Lost: lost, Latency: latencySummary{P99: p99}}
}

// A step goes the way most of its windows go, stops as soon as that is
// decided, reports the window of median p99, and fails at once on a
// loss whatever the latencies.
func TestStepVote(t *testing.T) {
	tests := []struct {
		name    string
		windows []throughputResult
		done    bool
		pass    bool
		p99     float64 // of the window reported
		lost    int64
		p99s    []float64
	}{
		{"one pass: undecided", []throughputResult{win(3, 0)}, false, false, 3, 0, []float64{3}},
		{"one failure: undecided", []throughputResult{win(25, 0)}, false, false, 25, 0, []float64{25}},
		{"two passes", []throughputResult{win(3, 0), win(4, 0)}, true, true, 4, 0, []float64{3, 4}},
		{"two failures", []throughputResult{win(30, 0), win(12, 0)}, true, false, 30, 0, []float64{30, 12}},
		{"split: a third decides", []throughputResult{win(3, 0), win(25, 0)}, false, false, 25, 0, []float64{3, 25}},
		{"split, then a pass", []throughputResult{win(3, 0), win(25, 0), win(5, 0)}, true, true, 5, 0, []float64{3, 25, 5}},
		{"split, then a failure", []throughputResult{win(25, 0), win(3, 0), win(11, 0)}, true, false, 11, 0, []float64{25, 3, 11}},
		{"a loss ends it", []throughputResult{win(2, 1)}, true, false, 2, 1, []float64{2}},
		{"a loss after a pass", []throughputResult{win(2, 0), win(3, 2)}, true, false, 3, 2, []float64{2, 3}},
		{"a failed connection ends it", []throughputResult{withWriteError(win(2, 0))}, true, false, 2, 0, []float64{2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, done := stepVote(tt.windows)
			if done != tt.done || (done && r.Pass != tt.pass) {
				t.Errorf("done %v pass %v, want done %v pass %v", done, r.Pass, tt.done, tt.pass)
			}
			if r.Latency.P99 != tt.p99 || r.Lost != tt.lost || !slices.Equal(r.WindowsP99, tt.p99s) {
				t.Errorf("reported p99 %v lost %d windows %v, want %v, %d, %v", r.Latency.P99, r.Lost, r.WindowsP99, tt.p99, tt.lost, tt.p99s)
			}
		})
	}
}

func withWriteError(r throughputResult) throughputResult {
	r.WriteErrors = 1
	return r
}

// The step reports the counts of all its windows, and is noisy if any
// window was, whichever window's latencies it shows.
func TestStepVoteAddsUpItsWindows(t *testing.T) {
	a, b := win(3, 0), win(4, 0)
	a.Sent, a.Expected, a.Received, a.Noisy = 100, 400, 400, true
	b.Sent, b.Expected, b.Received = 10, 40, 40
	r, done := stepVote([]throughputResult{a, b})
	if !done || !r.Pass || r.Latency.P99 != 4 {
		t.Fatalf("done %v pass %v p99 %v; want a pass showing the 4 ms window", done, r.Pass, r.Latency.P99)
	}
	if r.Sent != 110 || r.Expected != 440 || r.Received != 440 || !r.Noisy {
		t.Errorf("sent %d owed %d received %d noisy %v; want 110, 440, 440, true", r.Sent, r.Expected, r.Received, r.Noisy)
	}
}

// A window that kept within the limits but delivered less than offered
// votes against the step.
func TestStepVoteCountsShortDeliveryAsFailure(t *testing.T) {
	short := win(2, 0)
	short.Delivered = 30_000
	if r, done := stepVote([]throughputResult{short, short}); !done || r.Pass {
		t.Errorf("two windows that delivered 30k of 40k: done %v pass %v, want a failed step", done, r.Pass)
	}
}
