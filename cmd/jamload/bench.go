package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"
)

// fdSpare is the file descriptors a process needs besides its
// connections.
const fdSpare = 256

// bench is one invocation: the relays, where to print, and the results
// so far. Owned by run's goroutine.
type bench struct {
	o        options
	relays   []relaySpec
	out, log io.Writer
	tp       []throughputResult
	idle     []idleResult
	capacity []capacityResult
	patience patience
}

// run measures every scenario on every relay and prints the report. A
// scenario that cannot run is reported and skipped; the error returned
// then makes the exit status non-zero.
func run(ctx context.Context, o options, out, log io.Writer) error {
	hz, assumed := clockTicks()
	if assumed {
		fmt.Fprintln(log, "jamload: getconf CLK_TCK failed; assuming 100 ticks per second")
	}
	o.clockHz = hz
	if o.genProcs > 0 {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(o.genProcs))
	}
	cpus, err := setupCPUs(o.genCPUs, log)
	if err != nil {
		return err
	}
	raiseFileLimit(o, log)
	if o.profile != "" {
		stop, err := startProfile(o.profile)
		if err != nil {
			return err
		}
		defer stop()
	}
	b := &bench{o: o, relays: []relaySpec{jamrelaySpec(o.jamrelay)}, out: out, log: log, patience: patience{o.noiseWait}}
	if o.redis != "" {
		b.relays = append(b.relays, jamrelayClusterSpec(o.jamrelay, o.redis))
	}
	if o.nodeRelay != "" {
		b.relays = append(b.relays, nodeSpec(o.nodeRelay))
	}
	if o.nodeRelay != "" && o.redis != "" {
		b.relays = append(b.relays, nodeClusterSpec(o.nodeRelay, o.redis))
	}
	for i := range b.relays {
		b.relays[i].cpus = cpus
	}
	var failed []error
	for _, sc := range o.scenarios {
		if failed = append(failed, b.scenario(ctx, sc)...); ctx.Err() != nil {
			return errors.Join(failed...)
		}
	}
	ts := append(evaluate(b.tp, b.idle, b.capacity), evaluateCluster(b.tp)...)
	printTargets(out, ts)
	printNotes(out, b.tp)
	if o.json {
		printJSON(out, "target", anySlice(ts)...)
	}
	return errors.Join(failed...)
}

// scenario measures sc on every relay, prints its table and returns the
// errors of the relays it could not measure.
func (b *bench) scenario(ctx context.Context, sc scenario) []error {
	switch {
	case sc.capacity:
		return b.capacityScenario(ctx, sc)
	case sc.idle:
		return b.idleScenario(ctx, sc)
	}
	tp, errs := b.throughputRounds(ctx, sc)
	b.tp = append(b.tp, tp...)
	b.report(sc, tp, nil)
	return errs
}

// capacityScenario measures every relay's capacity, the relays taking
// turns (capacityTurns), and prints the table.
func (b *bench) capacityScenario(ctx context.Context, sc scenario) []error {
	fmt.Fprintf(b.log, "jamload: %s on %s, taking turns...\n", sc.name, relayNames(b.relays))
	cp, errs := b.capacityTurns(ctx) // each error logged as it came
	if ctx.Err() != nil {
		return errs
	}
	b.capacity = append(b.capacity, cp...)
	printCapacity(b.out, cp)
	if b.o.json {
		printJSON(b.out, "capacity", anySlice(cp)...)
	}
	return errs
}

// idleScenario measures the idle scenario on every single-process relay
// in turn and prints the table.
func (b *bench) idleScenario(ctx context.Context, sc scenario) []error {
	var (
		errs []error
		idle []idleResult
	)
	for _, spec := range b.relays {
		if spec.cluster != nil {
			continue // idle connections measure one process's memory
		}
		fmt.Fprintf(b.log, "jamload: %s on %s...\n", sc.name, spec.name)
		r, err := b.measureIdle(ctx, spec)
		if err == nil {
			idle = append(idle, r)
			continue
		}
		err = fmt.Errorf("%s on %s: %w", sc.name, spec.name, err)
		fmt.Fprintln(b.log, "jamload:", err)
		if errs = append(errs, err); ctx.Err() != nil {
			return errs
		}
	}
	b.idle = append(b.idle, idle...)
	b.report(sc, nil, idle)
	return errs
}

// throughputRounds measures sc on every relay --rounds times, the relays
// taking turns so that a slow drift of the host (a neighbour's load, the
// hypervisor's) reaches them alike, and returns each relay's run of
// median CPU per delivery (medianRun). A relay that fails is not run
// again.
func (b *bench) throughputRounds(ctx context.Context, sc scenario) ([]throughputResult, []error) {
	var errs []error
	runs := make([][]throughputResult, len(b.relays))
	failed := make([]bool, len(b.relays))
	for round := 0; round < b.o.rounds; round++ {
		for i, spec := range b.relays {
			if failed[i] {
				continue
			}
			fmt.Fprintf(b.log, "jamload: %s on %s (round %d of %d)...\n", sc.name, spec.name, round+1, b.o.rounds)
			r, err := b.measureThroughput(ctx, spec, sc)
			if err != nil {
				err = fmt.Errorf("%s on %s: %w", sc.name, spec.name, err)
				fmt.Fprintln(b.log, "jamload:", err)
				failed[i], errs = true, append(errs, err)
				if ctx.Err() != nil {
					return nil, errs
				}
				continue
			}
			runs[i] = append(runs[i], r)
		}
	}
	var tp []throughputResult
	for _, rs := range runs {
		if len(rs) > 0 {
			tp = append(tp, medianRun(rs))
		}
	}
	return tp, errs
}

// report prints the table of one scenario, and its JSON lines.
func (b *bench) report(sc scenario, tp []throughputResult, idle []idleResult) {
	if sc.idle {
		printIdle(b.out, idle)
		if b.o.json {
			printJSON(b.out, "idle", anySlice(idle)...)
		}
		return
	}
	printThroughput(b.out, sc, tp)
	if b.o.json {
		printJSON(b.out, "throughput", anySlice(tp)...)
	}
}

// withRelay starts a fresh relay from spec, runs f against it and stops
// it. A relay that died during f makes it fail.
func withRelay[T any](ctx context.Context, spec relaySpec, f func(*relayProc) (T, error)) (T, error) {
	rp, err := startRelay(ctx, spec)
	if err != nil {
		var zero T
		return zero, err
	}
	defer rp.stop()
	v, err := f(rp)
	if err == nil && rp.exited() {
		err = fmt.Errorf("%s exited during the run: %v", rp.name, rp.cmd.ProcessState)
	}
	return v, err
}

// measureThroughput runs sc on spec, again (up to --retries times, while
// patience lasts) when other processes disturbed the window, and keeps the
// least disturbed run.
func (b *bench) measureThroughput(ctx context.Context, spec relaySpec, sc scenario) (throughputResult, error) {
	var best throughputResult
	for attempt := 0; ; attempt++ {
		if err := waitQuiet(ctx, b.o.clockHz, b.log, &b.patience); err != nil {
			return best, err
		}
		t0 := time.Now()
		r, err := withRelay(ctx, spec, func(rp *relayProc) (throughputResult, error) {
			return runThroughput(ctx, rp, sc, b.o)
		})
		if err != nil {
			return best, err
		}
		if attempt > 0 {
			b.patience.spend(time.Since(t0))
		}
		r.Noisy = r.OtherCPU > noiseLimit || r.OtherPeak > noisePeak
		if attempt == 0 || best.Noisy && noiseScore(r) < noiseScore(best) {
			best = r
		}
		if !r.Noisy || attempt == b.o.retries || b.patience.left <= 0 {
			return best, nil
		}
		fmt.Fprintf(b.log, "jamload: %s on %s: other processes used %.0f%% of a core during the window, %.0f%% at peak; running it again\n",
			sc.name, spec.name, r.OtherCPU, r.OtherPeak)
	}
}

// measureIdle runs the idle scenario on spec once the host is quiet.
func (b *bench) measureIdle(ctx context.Context, spec relaySpec) (idleResult, error) {
	if err := waitQuiet(ctx, b.o.clockHz, b.log, &b.patience); err != nil {
		return idleResult{}, err
	}
	return withRelay(ctx, spec, func(rp *relayProc) (idleResult, error) {
		return runIdle(ctx, rp, b.o.idleConns, b.o.clockHz)
	})
}

// raiseFileLimit raises the soft limit on open files to the hard limit,
// for this process and the relays it starts (set explicitly, the raised
// limit is inherited by children), and says so if even that is too low
// for the idle scenario.
func raiseFileLimit(o options, log io.Writer) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		fmt.Fprintln(log, "jamload: read the open file limit:", err)
		return
	}
	lim.Cur = lim.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		fmt.Fprintln(log, "jamload: raise the open file limit:", err)
	}
	need := uint64(o.idleConns + fdSpare)
	if hasIdle(o.scenarios) && uint64(lim.Cur) < need { // int64 on some systems
		fmt.Fprintf(log, "jamload: the open file limit is %d, too low for %d idle connections (each side needs about %d): raise ulimit -Hn or lower --idle-conns\n",
			lim.Cur, o.idleConns, need)
	}
}

// startProfile starts profiling the generator's CPU into file.
func startProfile(file string) (stop func(), err error) {
	f, err := os.Create(file)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

func hasIdle(scs []scenario) bool {
	for _, sc := range scs {
		if sc.idle {
			return true
		}
	}
	return false
}

func anySlice[T any](xs []T) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
}

// Sanity thresholds for printNotes.
const (
	stallShare  = 0.001 // generator stalls above this share of the sends
	hostBusyPct = 90    // relay + generator + rest of host, % of all cores
)

// printNotes flags results the generator or the host may have bent.
func printNotes(out io.Writer, tp []throughputResult) {
	for _, r := range tp {
		if r.Sent > 0 && float64(r.Stalls) > stallShare*float64(r.Sent) {
			fmt.Fprintf(out, "note: %s on %s: the generator skipped %d of %d sends (its writers ran late: short of CPU)\n",
				r.Scenario, r.Relay, r.Stalls, r.Sent+r.Stalls)
		}
		if r.Noisy {
			fmt.Fprintf(out, "note: %s on %s: other processes used %.0f%% of a core during the window (%.0f%% at peak), even after re-runs: treat its numbers with care\n",
				r.Scenario, r.Relay, r.OtherCPU, r.OtherPeak)
		}
		if busy := r.RelayCPU + r.GenCPU + r.OtherCPU; busy > hostBusyPct*float64(runtime.NumCPU()) {
			fmt.Fprintf(out, "note: %s on %s: the host was %.0f%% busy (relay %.0f, generator %.0f, other %.0f): latency includes waiting for a CPU\n",
				r.Scenario, r.Relay, busy, r.RelayCPU, r.GenCPU, r.OtherCPU)
		}
	}
}

// relayNames lists the relays' names: "jamrelay, node".
func relayNames(specs []relaySpec) string {
	names := make([]string, len(specs))
	for i, s := range specs {
		names[i] = s.name
	}
	return strings.Join(names, ", ")
}
