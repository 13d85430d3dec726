package main

import (
	"context"
	"fmt"
	"io"
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
// of it, on one relay process per relay.
const (
	capacitySessions = 40
	capacityMembers  = 5
	capacityP99Ms    = 10.0
	// capacityPrecision: bisect until the lowest failing rate is at
	// most this times the highest passing one.
	capacityPrecision = 1.1
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
	Relay    string             `json:"relay"`
	Steps    []throughputResult `json:"steps"`
	best     float64            // offered deliveries/s of the step Capacity comes from
	Capacity float64            `json:"capacityPerSec"` // deliveries/s of the highest step within the limits; 0: none
	// FirstFail is the offered deliveries/s of the lowest step that
	// failed; 0: none did. The capacity lies between Capacity and it.
	FirstFail float64 `json:"firstFailPerSec"`
}

// withinLimits reports whether a step passes: p99, nothing lost, and
// the load delivered.
func withinLimits(r throughputResult) bool {
	return r.Latency.P99 <= capacityP99Ms && r.Lost <= 0 && r.WriteErrors == 0 && r.Delivered >= fastRateSlack*r.Offered
}

// measureCapacity runs the steps on one fresh relay from spec.
func (b *bench) measureCapacity(ctx context.Context, spec relaySpec) (capacityResult, error) {
	o := b.o
	o.duration, o.warmup = o.capacityWindow, o.capacityWindow/4
	return withRelay(ctx, spec, func(rp *relayProc) (capacityResult, error) {
		res := capacityResult{Relay: spec.name}
		var tried []stepOutcome
		for {
			rate, more := nextCapacityRate(capacityRates, tried)
			if !more {
				break
			}
			r, err := b.capacityStep(ctx, rp, capacityStep(rate), o)
			if err != nil {
				return res, err
			}
			res.Steps = append(res.Steps, r)
			pass := withinLimits(r)
			tried = append(tried, stepOutcome{rate, pass})
			res.addStep(r, pass)
		}
		return res, nil
	})
}

// capacityStep runs one step, and again (up to --retries times, while
// patience lasts) when it failed in a window other processes disturbed:
// a neighbour's burst must not end the search below the relay's
// capacity. A step that passes once passes.
func (b *bench) capacityStep(ctx context.Context, rp *relayProc, sc scenario, o options) (throughputResult, error) {
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
		if withinLimits(r) || !r.Noisy || attempt == o.retries || b.patience.left <= 0 {
			return r, nil
		}
		fmt.Fprintf(b.log, "jamload: capacity on %s: %.0f/s failed while other processes used %.0f%% of a core (%.0f%% at peak); running it again\n",
			rp.name, sc.offered(), r.OtherCPU, r.OtherPeak)
	}
}

// addStep folds one step into the capacity and the lowest failure.
func (c *capacityResult) addStep(r throughputResult, pass bool) {
	switch {
	case pass && r.Offered > c.best:
		c.best, c.Capacity = r.Offered, r.Delivered
	case !pass && (c.FirstFail == 0 || r.Offered < c.FirstFail):
		c.FirstFail = r.Offered
	}
}

// printCapacity prints every relay's steps, its capacity and the ratio.
func printCapacity(w io.Writer, rs []capacityResult) {
	fmt.Fprintf(w, "\n== capacity: %d sessions x %d members, events/s raised until p99 > %.0f ms, a loss, or less delivered than offered ==\n",
		capacitySessions, capacityMembers, capacityP99Ms)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "relay\toffered/s\tdeliv/s\tlost\tstalls\tp50 ms\tp99 ms\tCPU ms/100k\trelay CPU%\tgen CPU%\tother CPU% avg/peak")
	var g, n float64
	for _, c := range rs {
		for _, r := range c.Steps {
			fmt.Fprintf(tw, "%s\t%.0f\t%.0f\t%d\t%d\t%.2f\t%.2f\t%.0f\t%.0f\t%.0f\t%.0f/%.0f\n", c.Relay, r.Offered, r.Delivered, r.Lost,
				r.Stalls, r.Latency.P50, r.Latency.P99, r.CPUPer100k, r.RelayCPU, r.GenCPU, r.OtherCPU, r.OtherPeak)
		}
		fmt.Fprintf(tw, "%s capacity\t\t%.0f\t%s\t\t\t\t\t\t\t\n", c.Relay, c.Capacity, capacityBound(c))
		switch c.Relay {
		case "jamrelay":
			g = c.Capacity
		case "node":
			n = c.Capacity
		}
	}
	if g > 0 && n > 0 {
		fmt.Fprintf(tw, "%s\t\t%.2f\t\t\t\t\t\t\t\t\n", ratioLabel, ratio(g, n))
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
