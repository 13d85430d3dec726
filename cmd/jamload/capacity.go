package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// The capacity scenario raises the load step by step, capacitySessions
// sessions of capacityMembers, every member sending one of
// capacityRates events per second, until a step's p99 passes
// capacityP99Ms, or it loses an event, or it delivers less than it was
// offered. It then bisects between the last step that passed and the
// first that failed until the two are within capacityPrecision of each
// other (a few more steps), so two relays' capacities compare within
// about 10 % instead of one coarse step. A relay's capacity is the
// deliveries per second of its highest step inside all three limits.
// Each step is a window of --capacity-window after a warmup of a quarter
// of it, on one relay process per relay; the relays' searches take
// turns window by window (capacity_turns.go).
//
// A step is a vote of up to capacityVotes windows at the same rate
// (stepVote): it passes when most of them keep within the limits, and
// fails at once if any window lost an event. One window's p99 is a
// noisy figure on a shared 2-core host: a single scheduling hiccup of
// 50 ms delays about 1 % of a 4-second window's deliveries by over
// 10 ms, and at a fixed rate the p99 of successive windows of the same
// relay ranged from 2 to 27 ms (README, Benchmarks). The median of three
// is the relay's typical p99 at that rate, for both relays alike; every
// window's p99 is printed beside it.
const (
	capacitySessions = 40
	capacityMembers  = 5
	capacityP99Ms    = 10.0
	// capacityPrecision: bisect until the lowest failing rate is at
	// most this times the highest passing one.
	capacityPrecision = 1.1
	// capacityVotes: the windows a step may take; the step goes the way
	// most of them go, and stops as soon as that is decided.
	capacityVotes = 3
)

// capacityRates are the coarse steps' events per second per member: 1.6k
// to 160k deliveries per second with 40 sessions of 5.
var capacityRates = []int{2, 5, 10, 20, 30, 50, 75, 100, 125, 150, 200}

// stepOutcome is one capacity step: its rate per member and whether it
// kept within the limits.
type stepOutcome struct {
	rate int
	pass bool
}

// nextCapacityRate returns the rate of the next capacity step after the
// steps tried so far, or ok false when the search is over: the next
// coarse step of ladder above every pass while nothing failed, then the
// midpoint between the highest pass and the lowest failure until they
// are within capacityPrecision (or one event/s) of each other. A first
// step that fails ends it: the capacity is below the ladder.
func nextCapacityRate(ladder []int, tried []stepOutcome) (rate int, ok bool) {
	lo, hi := 0, 0 // highest passing rate, lowest failing rate; 0: none
	for _, s := range tried {
		switch {
		case s.pass:
			lo = max(lo, s.rate)
		case hi == 0 || s.rate < hi:
			hi = s.rate
		}
	}
	if hi == 0 {
		for _, r := range ladder {
			if r > lo {
				return r, true
			}
		}
		return 0, false
	}
	if lo == 0 || hi-lo <= 1 || float64(hi) <= capacityPrecision*float64(lo) {
		return 0, false
	}
	return (lo + hi) / 2, true
}

// capacityStep is the scenario of one capacity step.
func capacityStep(rate int) scenario {
	return scenario{name: fmt.Sprintf("%dx%dx%d", capacitySessions, capacityMembers, rate),
		sessions: capacitySessions, members: capacityMembers, rate: rate}
}

// capacityResult is one relay's steps and its capacity.
type capacityResult struct {
	Relay    string               `json:"relay"`
	Steps    []capacityStepResult `json:"steps"`
	best     float64              // offered deliveries/s of the step Capacity comes from
	Capacity float64              `json:"capacityPerSec"` // deliveries/s of the highest step within the limits; 0: none
	// FirstFail is the offered deliveries/s of the lowest step that
	// failed; 0: none did. The capacity lies between Capacity and it.
	FirstFail float64 `json:"firstFailPerSec"`
}

// capacityStepResult is one step: the window of median p99 among those
// the step ran, with the losses of all of them, every window's p99 and
// the outcome of the vote.
type capacityStepResult struct {
	throughputResult
	WindowsP99 []float64 `json:"windowsP99Ms"`
	Pass       bool      `json:"pass"`
}

// stepVote decides a step from its windows so far: done once most of
// capacityVotes windows went one way, or any window lost an event or
// failed to send (a relay that loses is over its capacity whatever its
// latency). The result is the window of median p99 (of two, the higher),
// with every window's counts (sent, owed, received, and addFaults')
// added up, and noisy if any window was.
func stepVote(ws []throughputResult) (r capacityStepResult, done bool) {
	passes, broken := 0, false
	byP99 := slices.Clone(ws)
	slices.SortStableFunc(byP99, func(a, b throughputResult) int { return cmp.Compare(a.Latency.P99, b.Latency.P99) })
	r.throughputResult = byP99[len(byP99)/2]
	r.Sent, r.Expected, r.Received = 0, 0, 0
	r.clearFaults()
	for _, w := range ws {
		r.WindowsP99 = append(r.WindowsP99, w.Latency.P99)
		r.Sent += w.Sent
		r.Expected += w.Expected
		r.Received += w.Received
		r.addFaults(w)
		if withinLimits(w) {
			passes++
		}
		broken = broken || w.Lost > 0 || w.WriteErrors > 0
	}
	majority := capacityVotes/2 + 1
	r.Pass = !broken && passes >= majority
	return r, broken || passes >= majority || len(ws)-passes >= majority || len(ws) >= capacityVotes
}

// withinLimits reports whether one window of a step keeps within the
// limits: p99, nothing lost, and the load delivered.
func withinLimits(r throughputResult) bool {
	return r.Latency.P99 <= capacityP99Ms && r.Lost <= 0 && r.WriteErrors == 0 && r.Delivered >= fastRateSlack*r.Offered
}

// capacityWindow runs one window of a step, and again (up to --retries
// times, while patience lasts) when it failed while other processes
// disturbed it: a neighbour's burst must not end the search below the
// relay's capacity. A window that passes once passes; one that lost an
// event is never run again.
func (b *bench) capacityWindow(ctx context.Context, rp *relayProc, sc scenario, o options) (throughputResult, error) {
	for attempt := 0; ; attempt++ {
		if err := waitQuiet(ctx, o.clockHz, b.log, &b.patience); err != nil {
			return throughputResult{}, err
		}
		fmt.Fprintf(b.log, "jamload: capacity on %s: %.0f deliveries/s...\n", rp.name, sc.offered())
		t0 := time.Now()
		r, err := runThroughput(ctx, rp, sc, o)
		if err != nil {
			return r, fmt.Errorf("step %s: %w", sc.name, err)
		}
		if attempt > 0 {
			b.patience.spend(time.Since(t0))
		}
		r.Noisy = r.OtherCPU > noiseLimit || r.OtherPeak > noisePeak
		lost := r.Lost > 0 || r.WriteErrors > 0 // never re-run away: it fails the step (stepVote)
		if lost || withinLimits(r) || !r.Noisy || attempt == o.retries || b.patience.left <= 0 {
			return r, nil
		}
		fmt.Fprintf(b.log, "jamload: capacity on %s: %.0f/s failed while other processes used %.0f%% of a core (%.0f%% at peak); running it again\n",
			rp.name, sc.offered(), r.OtherCPU, r.OtherPeak)
	}
}

// addStep folds one step into the capacity and the lowest failure.
func (c *capacityResult) addStep(r capacityStepResult) {
	switch {
	case r.Pass && r.Offered > c.best:
		c.best, c.Capacity = r.Offered, r.Delivered
	case !r.Pass && (c.FirstFail == 0 || r.Offered < c.FirstFail):
		c.FirstFail = r.Offered
	}
}

// printCapacity prints every relay's steps, its capacity and the ratio.
func printCapacity(w io.Writer, rs []capacityResult) {
	fmt.Fprintf(w, "\n== capacity: %d sessions x %d members, events/s raised until p99 > %.0f ms, a loss, or less delivered than offered, in most of %d windows ==\n",
		capacitySessions, capacityMembers, capacityP99Ms, capacityVotes)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "relay\toffered/s\tpass\tdeliv/s\tlost\tstalls\tp50 ms\tp99 ms\twindows' p99 ms\tp99 at reader\tCPU ms/100k\trelay CPU%\tgen CPU%\tother CPU% avg/peak")
	var g, n float64
	for _, c := range rs {
		for _, r := range c.Steps {
			fmt.Fprintf(tw, "%s\t%.0f\t%s\t%.0f\t%d\t%d\t%.2f\t%.2f\t%s\t%.2f\t%.0f\t%.0f\t%.0f\t%.0f/%.0f\n", c.Relay, r.Offered, yesNo(r.Pass),
				r.Delivered, r.Lost, r.Stalls, r.Latency.P50, r.Latency.P99, joinMs(r.WindowsP99), r.AtReader.P99,
				r.CPUPer100k, r.RelayCPU, r.GenCPU, r.OtherCPU, r.OtherPeak)
		}
		fmt.Fprintf(tw, "%s capacity\t\t\t%.0f\t%s\t\t\t\t\t\t\t\t\t\n", c.Relay, c.Capacity, capacityBound(c))
		switch c.Relay {
		case "jamrelay":
			g = c.Capacity
		case "node":
			n = c.Capacity
		}
	}
	if g > 0 && n > 0 {
		fmt.Fprintf(tw, "%s\t\t\t%.2f\t\t\t\t\t\t\t\t\t\t\n", ratioLabel, ratio(g, n))
	}
	tw.Flush()
	for _, c := range rs {
		if c.FirstFail == 0 && len(c.Steps) > 0 {
			fmt.Fprintf(w, "note: %s kept within the limits at every step: its capacity is at least the last one\n", c.Relay)
		}
	}
}

// capacityBound says where the capacity lies: below the step that failed.
func capacityBound(c capacityResult) string {
	if c.FirstFail == 0 {
		return "(no step failed)"
	}
	return fmt.Sprintf("(%.0f/s offered failed)", c.FirstFail)
}

// joinMs prints latencies as "2.10/25.31/3.02".
func joinMs(ms []float64) string {
	parts := make([]string, len(ms))
	for i, v := range ms {
		parts[i] = strconv.FormatFloat(v, 'f', 2, 64)
	}
	return strings.Join(parts, "/")
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
