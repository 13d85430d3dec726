package main

import (
	"cmp"
	"slices"
	"time"
)

// throughputResult is one relay's numbers for one NxMxR scenario.
type throughputResult struct {
	Scenario    string         `json:"scenario"`
	Relay       string         `json:"relay"`
	Offered     float64        `json:"offeredPerSec"`   // deliveries/s asked for
	Delivered   float64        `json:"deliveredPerSec"` // received inside the window, per second
	Sent        int64          `json:"sent"`            // events sent, warmup included
	Expected    int64          `json:"expected"`        // receipts owed for them
	Received    int64          `json:"received"`
	Lost        int64          `json:"lost"` // expected - received, after the drain
	Reordered   int64          `json:"reordered"`
	Foreign     int64          `json:"foreign,omitempty"`  // events with a bad sender index
	Stalls      int64          `json:"generatorStalls"`    // ticks the generator skipped
	WriteErrors int            `json:"writeErrors"`        // connections that failed to send
	Latency     latencySummary `json:"latency"`            // send to the kernel queueing the delivery on the receiver's socket
	AtReader    latencySummary `json:"atReader"`           // send to the generator's read
	Unstamped   int64          `json:"unstamped"`          // of Latency's samples, those charged up to the read (member.relayedAt)
	RelayCPU    float64        `json:"relayCpuPct"`        // % of one core, in the window
	CPUPer100k  float64        `json:"relayCpuMsPer100k"`  // relay CPU ms per 100k deliveries
	UserPer100k float64        `json:"relayUserMsPer100k"` // the user part of it
	RSSMB       float64        `json:"relayRssMB"`         // at the end of the window
	GenCPU      float64        `json:"generatorCpuPct"`    // % of one core
	OtherCPU    float64        `json:"otherCpuPct"`        // rest of the host, % of one core
	OtherPeak   float64        `json:"otherCpuPeakPct"`    // the same in the busiest noiseSlot
	Kernel      kernelCost     `json:"kernel"`             // syscalls and context switches per 1,000 deliveries
	WindowSec   float64        `json:"windowSec"`
	Noisy       bool           `json:"noisy"` // other processes used more than noiseLimit

	// With --rounds above 1 (medianRun): the rounds run, and the range of
	// CPU per 100k deliveries and of p99 across them.
	Rounds   int        `json:"rounds,omitempty"`
	CPURange [2]float64 `json:"relayCpuMsPer100kRange,omitzero"`
	P99Range [2]float64 `json:"p99MsRange,omitzero"`
}

// medianRun is one relay's result over several rounds of a scenario:
// the run of median CPU per delivery (the lower of the two middle ones
// for an even count), whole, so its figures belong together, with what
// was lost, reordered or stalled in every round added up (nothing lost
// must hold in each), noisy if any round was, and the ranges of CPU and
// p99 across the rounds.
func medianRun(rs []throughputResult) throughputResult {
	byCPU := slices.Clone(rs)
	slices.SortStableFunc(byCPU, func(a, b throughputResult) int { return cmp.Compare(a.CPUPer100k, b.CPUPer100k) })
	m := byCPU[(len(byCPU)-1)/2]
	if len(rs) == 1 {
		return m
	}
	m.Rounds = len(rs)
	m.clearFaults()
	m.CPURange = [2]float64{byCPU[0].CPUPer100k, byCPU[len(byCPU)-1].CPUPer100k}
	m.P99Range = [2]float64{rs[0].Latency.P99, rs[0].Latency.P99}
	for _, r := range rs {
		m.addFaults(r)
		m.P99Range = [2]float64{min(m.P99Range[0], r.Latency.P99), max(m.P99Range[1], r.Latency.P99)}
	}
	return m
}

// clearFaults zeroes what addFaults adds up, before a run stands for
// several (medianRun, stepVote).
func (r *throughputResult) clearFaults() {
	r.Lost, r.Reordered, r.Stalls, r.Foreign, r.WriteErrors, r.Noisy = 0, 0, 0, 0, 0, false
}

// addFaults adds what went wrong in o to r: what was lost, reordered or
// stalled, events from unknown senders, failed connections, and
// disturbance (a disturbed run is not hidden behind a quiet one).
func (r *throughputResult) addFaults(o throughputResult) {
	r.Lost += o.Lost
	r.Reordered += o.Reordered
	r.Stalls += o.Stalls
	r.Foreign += o.Foreign
	r.WriteErrors += o.WriteErrors
	r.Noisy = r.Noisy || o.Noisy
}

// collect adds up the members' counters once every goroutine is done.
func collect(sc scenario, relay string, members []*member, w window, dur time.Duration) throughputResult {
	r := throughputResult{Scenario: sc.name, Relay: relay, Offered: sc.offered(), WindowSec: w.cpu.wall.Seconds()}
	var inWindow int64
	var samples, atReader []uint32
	for _, m := range members {
		r.Sent += m.sent
		r.Stalls += m.stalls
		if m.writeErr != nil {
			r.WriteErrors++
		}
		for _, n := range m.rx.count {
			r.Received += n
		}
		r.Reordered += m.rx.reordered
		r.Foreign += m.rx.foreign
		inWindow += m.rx.inWindow
		samples = append(samples, m.rx.samples...)
		atReader = append(atReader, m.rx.atReader...)
		r.Unstamped += m.rx.unstamped
	}
	r.Expected = expectedReceipts(members, sc.members)
	r.Lost = r.Expected - r.Received
	r.Latency = summarize(samples)
	r.AtReader = summarize(atReader)
	r.Delivered = float64(inWindow) / dur.Seconds()
	r.RelayCPU, r.GenCPU, r.OtherCPU, r.OtherPeak = w.cpu.relay, w.cpu.gen, w.cpu.other, w.otherPeak
	r.CPUPer100k = perHundredK(w.cpu.relayCPU, inWindow)
	r.UserPer100k = perHundredK(w.cpu.relayUser, inWindow)
	r.RSSMB = float64(w.rss) / (1 << 20)
	r.Kernel = kernelCostOf(w.k0, w.k1, w.syscallRate, inWindow, dur)
	return r
}

// idleResult is one relay's numbers for the idle scenario.
type idleResult struct {
	Relay       string  `json:"relay"`
	Conns       int     `json:"conns"`
	SetupSec    float64 `json:"setupSec"`
	RSSBeforeMB float64 `json:"rssBeforeMB"`
	RSSAfterMB  float64 `json:"rssAfterMB"`
	KBPerConn   float64 `json:"kbPerConn"`
	IdleCPU     float64 `json:"idleCpuPct"` // relay, % of one core
	OtherCPU    float64 `json:"otherCpuPct"`
}
