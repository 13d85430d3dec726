package main

import (
	"context"
	"fmt"
	"sync"
	"time"
)

const (
	// idleGroup is the size of the sessions the idle connections form.
	idleGroup = 5
	// idleBaseline lets a fresh relay finish starting before its RSS is
	// taken as the baseline.
	idleBaseline = 500 * time.Millisecond
	// idleSettle is the wait after the last connection before the RSS is
	// read; idleCPUWindow is how long idle CPU is measured after that.
	idleSettle    = 3 * time.Second
	idleCPUWindow = 3 * time.Second
)

// runIdle opens conns connections to rp, each a member of a session of
// idleGroup, and measures what they cost the relay while nobody plays.
// Each connection has one goroutine that answers pings.
func runIdle(ctx context.Context, rp *relayProc, conns int, hz int64) (idleResult, error) {
	r := idleResult{Relay: rp.name, Conns: conns}
	if err := sleepUntil(ctx, time.Now().Add(idleBaseline)); err != nil {
		return r, err
	}
	before, err := procRSS(rp.pid)
	if err != nil {
		return r, fmt.Errorf("relay rss: %w", err)
	}
	var readers sync.WaitGroup
	defer readers.Wait()
	t0 := time.Now()
	groups, err := connectSessions(ctx, []string{rp.base}, conns, idleGroup, func(g []*eioConn) {
		for _, c := range g {
			readers.Go(c.answerPings)
		}
	})
	if err != nil {
		return r, fmt.Errorf("open %d idle connections: %w", conns, err)
	}
	defer closeGroups(groups)
	r.SetupSec = time.Since(t0).Seconds()
	if err := sleepUntil(ctx, time.Now().Add(idleSettle)); err != nil {
		return r, err
	}
	after, err := procRSS(rp.pid)
	if err != nil {
		return r, fmt.Errorf("relay rss: %w", err)
	}
	use, err := idleCPU(ctx, rp.pid, hz)
	if err != nil {
		return r, err
	}
	r.RSSBeforeMB, r.RSSAfterMB = float64(before)/(1<<20), float64(after)/(1<<20)
	r.KBPerConn = float64(after-before) / 1024 / float64(conns)
	r.IdleCPU, r.OtherCPU = use.relay, use.other
	return r, nil
}

// idleCPU measures CPU use over idleCPUWindow.
func idleCPU(ctx context.Context, pid int, hz int64) (cpuUse, error) {
	a, err := takeCPUSample(pid)
	if err != nil {
		return cpuUse{}, err
	}
	if err := sleepUntil(ctx, time.Now().Add(idleCPUWindow)); err != nil {
		return cpuUse{}, err
	}
	b, err := takeCPUSample(pid)
	if err != nil {
		return cpuUse{}, err
	}
	return cpuBetween(a, b, hz), nil
}
