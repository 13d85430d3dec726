package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
)

// The capacity scenario raises the load step by step, capacitySessions
// sessions of capacityMembers, every member sending one of
// capacityRates events per second, until a step's p99 passes
// capacityP99Ms, or it loses an event, or it delivers less than it was
// offered. A relay's capacity is the deliveries per second of its last
// step inside all three. Each step is a window of --capacity-window after
// a warmup of a quarter of it, on one relay process per relay.
const (
	capacitySessions = 40
	capacityMembers  = 5
	capacityP99Ms    = 10.0
)

// capacityRates are the steps' events per second per member: 1.6k to
// 160k deliveries per second with 40 sessions of 5.
var capacityRates = []int{2, 5, 10, 20, 30, 50, 75, 100, 125, 150, 200}

// capacityResult is one relay's steps and its capacity.
type capacityResult struct {
	Relay    string             `json:"relay"`
	Steps    []throughputResult `json:"steps"`
	Capacity float64            `json:"capacityPerSec"` // deliveries/s of the last step within the limits; 0: none
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
		for _, rate := range capacityRates {
			sc := scenario{name: fmt.Sprintf("%dx%dx%d", capacitySessions, capacityMembers, rate),
				sessions: capacitySessions, members: capacityMembers, rate: rate}
			if err := waitQuiet(ctx, o.clockHz, b.log, &b.patience); err != nil {
				return res, err
			}
			fmt.Fprintf(b.log, "jamload: capacity on %s: %.0f deliveries/s...\n", spec.name, sc.offered())
			r, err := runThroughput(ctx, rp, sc, o)
			if err != nil {
				return res, fmt.Errorf("step %s: %w", sc.name, err)
			}
			res.Steps = append(res.Steps, r)
			if !withinLimits(r) {
				break
			}
			res.Capacity = r.Delivered
		}
		return res, nil
	})
}

// printCapacity prints every relay's steps, its capacity and the ratio.
func printCapacity(w io.Writer, rs []capacityResult) {
	fmt.Fprintf(w, "\n== capacity: %d sessions x %d members, events/s raised until p99 > %.0f ms, a loss, or less delivered than offered ==\n",
		capacitySessions, capacityMembers, capacityP99Ms)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "relay\toffered/s\tdeliv/s\tlost\tp50 ms\tp99 ms\tCPU ms/100k\trelay CPU%\tgen CPU%\tother CPU%")
	var g, n float64
	for _, c := range rs {
		for _, r := range c.Steps {
			fmt.Fprintf(tw, "%s\t%.0f\t%.0f\t%d\t%.2f\t%.2f\t%.0f\t%.0f\t%.0f\t%.0f\n", c.Relay, r.Offered, r.Delivered, r.Lost,
				r.Latency.P50, r.Latency.P99, r.CPUPer100k, r.RelayCPU, r.GenCPU, r.OtherCPU)
		}
		fmt.Fprintf(tw, "%s capacity\t\t%.0f\t\t\t\t\t\t\t\n", c.Relay, c.Capacity)
		switch c.Relay {
		case "jamrelay":
			g = c.Capacity
		case "node":
			n = c.Capacity
		}
	}
	if g > 0 && n > 0 {
		fmt.Fprintf(tw, "%s\t\t%.2f\t\t\t\t\t\t\t\n", ratioLabel, ratio(g, n))
	}
	tw.Flush()
	for _, c := range rs {
		if len(c.Steps) == len(capacityRates) && withinLimits(c.Steps[len(c.Steps)-1]) {
			fmt.Fprintf(w, "note: %s kept within the limits at every step: its capacity is at least the last one\n", c.Relay)
		}
	}
}
