package main

import (
	"context"
	"fmt"
	"io"
	"time"
)

// The host is shared: other processes (builds, tests, fuzzers) can take
// a core in the middle of a window and bend the latencies. jamload waits
// for a quiet host before each throughput run, and runs a window again
// when other processes used more than noiseLimit of a core over it, or
// more than noisePeak in any noiseSlot of it: a burst of a fraction of a
// second barely moves the average but freezes every delivery meanwhile,
// and at 40k deliveries/s a 100 ms freeze is already 1% of the samples.
const (
	noiseLimit = 25.0 // % of one core used by other processes, window average
	noisePeak  = 60.0 // % of one core used by other processes, in one slot
	noiseSlot  = 500 * time.Millisecond
	quietProbe = 500 * time.Millisecond
	quietWait  = 30 * time.Second // longest wait for a quiet host
)

// hostBusy returns how busy the whole host is over d, in % of one core.
func hostBusy(ctx context.Context, d time.Duration, hz int64) (float64, error) {
	a, err := hostCPU()
	if err != nil {
		return 0, err
	}
	t0 := time.Now()
	if err := sleepUntil(ctx, t0.Add(d)); err != nil {
		return 0, err
	}
	b, err := hostCPU()
	if err != nil {
		return 0, err
	}
	cpu := time.Duration(b-a) * (time.Second / time.Duration(hz))
	return 100 * cpu.Seconds() / time.Since(t0).Seconds(), nil
}

// patience is the extra time the whole run may still spend on noise:
// waiting for a quiet host and re-running disturbed windows. Owned by
// run's goroutine.
type patience struct{ left time.Duration }

func (p *patience) spend(d time.Duration) { p.left -= max(d, 0) }

// waitQuiet waits, at most quietWait and what patience is left, until the
// host is quiet: between two runs jamload itself uses next to no CPU, so
// what is busy is others.
func waitQuiet(ctx context.Context, hz int64, log io.Writer, pat *patience) error {
	t0 := time.Now()
	defer func() { pat.spend(time.Since(t0) - quietProbe) }() // the first probe is routine
	wait := min(quietWait, max(pat.left, 0))
	said := false
	for {
		busy, err := hostBusy(ctx, quietProbe, hz)
		if err != nil || busy <= noiseLimit {
			return err
		}
		if time.Since(t0) >= wait {
			fmt.Fprintf(log, "jamload: the host is %.0f%% busy with other work; measuring anyway\n", busy)
			return nil
		}
		if !said {
			fmt.Fprintf(log, "jamload: the host is %.0f%% busy with other work; waiting up to %s for it to calm down\n",
				busy, wait.Round(time.Second))
			said = true
		}
	}
}

// noiseScore ranks disturbed runs: the lower the better.
func noiseScore(r throughputResult) float64 {
	return max(r.OtherCPU/noiseLimit, r.OtherPeak/noisePeak)
}
