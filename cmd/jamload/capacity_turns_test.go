package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
)

// fakeWindow is a window at rate events/s per member: within the limits
// up to limit, else p99 past them.
func fakeWindow(rate, limit int) throughputResult {
	w := capacityStep(rate)
	r := throughputResult{Offered: w.offered(), Delivered: w.offered(), Latency: latencySummary{P99: 2}}
	if rate > limit {
		r.Latency.P99 = 25
	}
	return r
}

// The searches take turns window by window, each ends with the capacity
// its limit gives, and the shorter one drops out of the turns while the
// other goes on.
func TestRunTurnsAlternatesWindowsAndFinishesEverySearch(t *testing.T) {
	limits := map[string]int{"a": 100, "b": 30}
	a := &capacitySearch{res: capacityResult{Relay: "a"}}
	b := &capacitySearch{res: capacityResult{Relay: "b"}}
	var order []string
	runTurns(context.Background(), []*capacitySearch{a, b}, func(s *capacitySearch, rate int) (throughputResult, error) {
		order = append(order, fmt.Sprint(s.res.Relay, rate))
		return fakeWindow(rate, limits[s.res.Relay]), nil
	})
	if want := []string{"a2", "b2", "a2", "b2", "a5", "b5"}; !slices.Equal(order[:6], want) {
		t.Errorf("first windows %v, want %v: one of each in turn", order[:6], want)
	}
	for _, s := range []*capacitySearch{a, b} {
		limit := limits[s.res.Relay]
		want := capacityStep(limit).offered()
		if s.res.Capacity != want || s.err != nil {
			t.Errorf("%s: capacity %.0f (err %v), want %.0f", s.res.Relay, s.res.Capacity, s.err, want)
		}
		for _, st := range s.res.Steps {
			if len(st.WindowsP99) != 2 {
				t.Errorf("%s: step at %.0f decided by %d windows, want 2 that agree", s.res.Relay, st.Offered, len(st.WindowsP99))
			}
		}
	}
	last := order[len(order)-1]
	if last[0] != 'a' {
		t.Errorf("last window %s: want a, still searching after b is done", last)
	}
}

// A search whose window fails stops; the others go on to their end.
func TestRunTurnsStopsOnlyTheSearchThatFailed(t *testing.T) {
	a := &capacitySearch{res: capacityResult{Relay: "a"}}
	b := &capacitySearch{res: capacityResult{Relay: "b"}}
	broken := errors.New("relay exited")
	windows := map[string]int{}
	runTurns(context.Background(), []*capacitySearch{a, b}, func(s *capacitySearch, rate int) (throughputResult, error) {
		windows[s.res.Relay]++
		if s.res.Relay == "b" && windows["b"] == 3 {
			return throughputResult{}, broken
		}
		return fakeWindow(rate, 50), nil
	})
	if !errors.Is(b.err, broken) || windows["b"] != 3 {
		t.Errorf("b: err %v after %d windows, want the failure after 3", b.err, windows["b"])
	}
	if a.err != nil || a.res.Capacity != capacityStep(50).offered() {
		t.Errorf("a: capacity %.0f, err %v; want %.0f", a.res.Capacity, a.err, capacityStep(50).offered())
	}
}

// A cancelled context ends the turns before the next window.
func TestRunTurnsEndsWithTheContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	a := &capacitySearch{res: capacityResult{Relay: "a"}}
	b := &capacitySearch{res: capacityResult{Relay: "b"}}
	n := 0
	runTurns(ctx, []*capacitySearch{a, b}, func(s *capacitySearch, rate int) (throughputResult, error) {
		n++
		cancel()
		return fakeWindow(rate, 50), nil
	})
	if n != 1 {
		t.Errorf("%d windows ran, want 1: none after the cancel", n)
	}
}

// A search that ran to its end keeps its result even when the run is
// cancelled after it; one still going reports the cancellation, and one
// that failed its own error.
func TestCapacityOutcomeKeepsFinishedSearches(t *testing.T) {
	finished := &capacitySearch{res: capacityResult{Relay: "done"}}
	runTurns(context.Background(), []*capacitySearch{finished}, func(s *capacitySearch, rate int) (throughputResult, error) {
		return fakeWindow(rate, 30), nil
	})
	going := &capacitySearch{res: capacityResult{Relay: "going"}}
	broken := errors.New("relay exited")
	failed := &capacitySearch{res: capacityResult{Relay: "failed"}, err: broken}
	out, errs := capacityOutcome([]*capacitySearch{finished, going, failed}, context.Canceled)
	if len(out) != 1 || out[0].Relay != "done" || out[0].Capacity != capacityStep(30).offered() {
		t.Errorf("results %+v, want the finished search's only", out)
	}
	if len(errs) != 2 || !errors.Is(errs[0], context.Canceled) || !errors.Is(errs[1], broken) {
		t.Errorf("errors %v, want the cancellation for going and the failure for failed", errs)
	}
	if out, errs := capacityOutcome([]*capacitySearch{finished}, nil); len(out) != 1 || len(errs) != 0 {
		t.Errorf("not cancelled: %d results, errors %v; want 1, none", len(out), errs)
	}
}
