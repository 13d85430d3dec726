package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
)

// scenario is one load shape: NxMxR (N sessions of M members, each
// sending R events per second), or idle connections.
type scenario struct {
	name                    string
	sessions, members, rate int
	idle                    bool
	capacity                bool // raise the rate step by step: see capacity.go
}

// offered is the deliveries per second the scenario asks for.
func (sc scenario) offered() float64 {
	return float64(sc.sessions * sc.members * (sc.members - 1) * sc.rate)
}

// parseScenarios reads a comma list such as "40x5x50,idle".
func parseScenarios(list string) ([]scenario, error) {
	var out []scenario
	for name := range strings.SplitSeq(list, ",") {
		name = strings.TrimSpace(name)
		if name == "idle" || name == "capacity" {
			out = append(out, scenario{name: name, idle: name == "idle", capacity: name == "capacity"})
			continue
		}
		f := strings.Split(name, "x")
		var v [3]int
		ok := len(f) == 3
		for i := 0; ok && i < 3; i++ {
			n, err := strconv.Atoi(f[i])
			v[i], ok = n, err == nil && n > 0
		}
		if !ok || v[1] < 2 {
			return nil, fmt.Errorf("scenario %q: want idle, capacity or NxMxR (sessions x members x events/s, M >= 2)", name)
		}
		out = append(out, scenario{name: name, sessions: v[0], members: v[1], rate: v[2]})
	}
	return out, nil
}

// Drain: after the senders stop, wait for the last events until all
// have arrived, nothing has arrived for drainQuiet, or drainMax passed.
const (
	drainMax   = 3 * time.Second
	drainQuiet = time.Second
	drainPoll  = 20 * time.Millisecond
	// startDelay leaves the goroutines time to start before the first send.
	startDelay = 100 * time.Millisecond
	// writerWait bounds how long the senders may take to stop after the
	// window: longer means a relay stopped reading and writes are stuck.
	writerWait = 5 * time.Second
)

// runThroughput runs scenario sc against the relay rp.
func runThroughput(ctx context.Context, rp *relayProc, sc scenario, o options) (throughputResult, error) {
	groups, err := connectSessions(ctx, rp.bases, sc.sessions*sc.members, sc.members, nil)
	if err != nil {
		return throughputResult{}, fmt.Errorf("set up sessions: %w", err)
	}
	start := time.Now().Add(startDelay)
	p := plan{start: start, winStart: start.Add(o.warmup), winEnd: start.Add(o.warmup + o.duration),
		period: time.Second / time.Duration(sc.rate)}
	senders := make([]*sender, runtime.GOMAXPROCS(0))
	for i := range senders {
		senders[i] = newSender(p)
	}
	var members []*member
	var readers, writers sync.WaitGroup
	for _, g := range groups {
		for i, c := range g {
			m := newMember(c, i, len(g), p, rand.N(p.period))
			senders[len(members)%len(senders)].add(m)
			members = append(members, m)
			readers.Go(func() { m.readLoop(p) })
		}
	}
	for _, s := range senders {
		writers.Go(func() { s.run(ctx) })
	}
	w, werr := measureWindow(ctx, rp.pids, p, o.clockHz)
	if !waitTimeout(&writers, writerWait) {
		closeGroups(groups) // a relay that stopped reading blocks writes; unblock them
		writers.Wait()
	}
	if werr == nil {
		drain(ctx, members, expectedReceipts(members, sc.members))
	}
	closeGroups(groups)
	readers.Wait()
	if werr != nil {
		return throughputResult{}, werr
	}
	return collect(sc, rp.name, members, w, o.duration), nil
}

// waitTimeout waits for wg at most d and reports whether it is done.
func waitTimeout(wg *sync.WaitGroup, d time.Duration) bool {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-done:
		return true
	case <-t.C:
		return false
	}
}

// window is what was measured of the relay during the window.
type window struct {
	cpu         cpuUse
	otherPeak   float64 // other processes' CPU in the busiest noiseSlot, % of one core
	rss         int64   // bytes, at the end of the window
	k0, k1      kernelSample
	syscallRate float64 // per second, counted by perf during the warm-up (countSyscalls); -1: perf did not count
}

// measureWindow counts the relay's system calls during the warm-up
// (countSyscalls), then samples CPU use every noiseSlot from the start
// to the end of the window, and the relay's RSS at its end: of every
// process of the relay (its nodes and its Redis) together.
func measureWindow(ctx context.Context, pids []int, p plan, hz int64) (window, error) {
	var w window
	var err error
	if w.syscallRate, err = countSyscalls(ctx, pids, p); err != nil {
		return w, err
	}
	if err := sleepUntil(ctx, p.winStart); err != nil {
		return w, err
	}
	first, err := takeCPUSample(pids...)
	if err != nil {
		return w, err
	}
	if w.k0, err = takeKernelSample(pids...); err != nil {
		return w, err
	}
	for prev := first; prev.at.Before(p.winEnd); {
		if err := sleepUntil(ctx, minTime(prev.at.Add(noiseSlot), p.winEnd)); err != nil {
			return w, err
		}
		s, err := takeCPUSample(pids...)
		if err != nil {
			return w, err
		}
		if s.at.Sub(prev.at) >= noiseSlot/2 { // a short last slot is too coarse
			w.otherPeak = max(w.otherPeak, cpuBetween(prev, s, hz).other)
		}
		w.cpu, prev = cpuBetween(first, s, hz), s
	}
	if w.k1, err = takeKernelSample(pids...); err != nil {
		return w, err
	}
	for _, pid := range pids {
		rss, err := procRSS(pid)
		if err != nil {
			return w, fmt.Errorf("relay rss: %w", err)
		}
		w.rss += rss
	}
	return w, nil
}

// minSyscallCount is the shortest count worth perf's start.
const minSyscallCount = 200 * time.Millisecond

// countSyscalls runs perf over the middle half of the warm-up and
// returns the relay's system calls per second, or -1 when perf cannot
// count or too little of the warm-up is left: the fallback then counts
// over the window (kernel.go). The count ends a quarter of the warm-up
// before the window, whenever it started, so perf has exited before the
// window opens and its tracer does not weigh on the window's CPU
// figures; jamload says so if it did not.
func countSyscalls(ctx context.Context, pids []int, p plan) (float64, error) {
	quarter := p.winStart.Sub(p.start) / 4
	if err := sleepUntil(ctx, p.start.Add(quarter)); err != nil {
		return -1, err
	}
	d := time.Until(p.winStart.Add(-quarter))
	if d < minSyscallCount {
		return -1, nil
	}
	rate, ok := countSyscallRate(ctx, d, pids...)
	if !ok {
		rate = -1
	}
	if late := time.Since(p.winStart); late > 0 {
		fmt.Fprintf(os.Stderr, "jamload: perf exited %v into the window: its CPU figures carry perf's cost\n", late.Round(time.Millisecond))
	}
	return rate, ctx.Err()
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// expectedReceipts is how many events the members should have received:
// every event sent, once by each other member of the session.
func expectedReceipts(members []*member, size int) int64 {
	var n int64
	for _, m := range members {
		n += m.sent * int64(size-1)
	}
	return n
}

func totalReceived(members []*member) int64 {
	var n int64
	for _, m := range members {
		n += m.received.Load()
	}
	return n
}

// drain waits for the events still in flight; see drainMax.
func drain(ctx context.Context, members []*member, expected int64) {
	deadline := time.Now().Add(drainMax)
	last, lastChange := int64(-1), time.Now()
	for ctx.Err() == nil {
		got, now := totalReceived(members), time.Now()
		if got >= expected || now.After(deadline) || now.Sub(lastChange) > drainQuiet {
			return
		}
		if got != last {
			last, lastChange = got, now
		}
		time.Sleep(drainPoll)
	}
}
