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
// when other processes used more than noiseLimit of a core during it.
const (
	noiseLimit = 25.0 // % of one core used by other processes
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

// waitQuiet waits, at most quietWait, until the host is quiet: between
// two runs jamload itself uses next to no CPU, so what is busy is others.
func waitQuiet(ctx context.Context, hz int64, log io.Writer) error {
	deadline := time.Now().Add(quietWait)
	said := false
	for {
		busy, err := hostBusy(ctx, quietProbe, hz)
		if err != nil || busy <= noiseLimit {
			return err
		}
		if time.Now().After(deadline) {
			fmt.Fprintf(log, "jamload: the host is still %.0f%% busy with other work; measuring anyway\n", busy)
			return nil
		}
		if !said {
			fmt.Fprintf(log, "jamload: the host is %.0f%% busy with other work; waiting up to %s for it to calm down\n", busy, quietWait)
			said = true
		}
	}
}

// measureThroughput runs sc on spec, again (up to o.retries times) while
// other processes disturbed the window, and keeps the least disturbed run.
func measureThroughput(ctx context.Context, spec relaySpec, sc scenario, o options, log io.Writer) (throughputResult, error) {
	var best throughputResult
	for attempt := 0; attempt <= o.retries; attempt++ {
		if err := waitQuiet(ctx, o.clockHz, log); err != nil {
			return best, err
		}
		r, err := withRelay(ctx, spec, func(rp *relayProc) (throughputResult, error) {
			return runThroughput(ctx, rp, sc, o)
		})
		if err != nil {
			return best, err
		}
		if attempt == 0 || r.OtherCPU < best.OtherCPU {
			best = r
		}
		if r.OtherCPU <= noiseLimit {
			break
		}
		if attempt < o.retries {
			fmt.Fprintf(log, "jamload: %s on %s: other processes used %.0f%% of a core during the window; running it again\n",
				sc.name, spec.name, r.OtherCPU)
		}
	}
	best.Noisy = best.OtherCPU > noiseLimit
	return best, nil
}
