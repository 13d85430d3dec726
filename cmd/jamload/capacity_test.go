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
		c.addStep(throughputResult{Offered: s.offered, Delivered: s.delivered}, s.pass)
	}
	if c.Capacity != 51_980 || c.FirstFail != 55_000 {
		t.Errorf("capacity %.0f, first failure %.0f; want 51980, 55000", c.Capacity, c.FirstFail)
	}
}
