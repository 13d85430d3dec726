package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestParseScenarios(t *testing.T) {
	got, err := parseScenarios("40x5x50, idle,2x2x1,capacity")
	if err != nil {
		t.Fatal(err)
	}
	want := []scenario{
		{name: "40x5x50", sessions: 40, members: 5, rate: 50},
		{name: "idle", idle: true},
		{name: "2x2x1", sessions: 2, members: 2, rate: 1},
		{name: "capacity", capacity: true},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("scenario %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
	if got[0].offered() != 40_000 {
		t.Errorf("40x5x50 offers %v deliveries/s, want 40000", got[0].offered())
	}
	for _, bad := range []string{"", "40x5", "40x1x50", "40x5x0", "axbxc", "busy"} {
		if _, err := parseScenarios(bad); err == nil {
			t.Errorf("parseScenarios(%q): want an error", bad)
		}
	}
}

func result(relay, sc string, p99, cpu, delivered float64, lost int64) throughputResult {
	return throughputResult{Scenario: sc, Relay: relay, Offered: 80_000, Delivered: delivered,
		Lost: lost, Latency: latencySummary{P99: p99}, CPUPer100k: cpu}
}

func TestEvaluate(t *testing.T) {
	tp := []throughputResult{
		result("jamrelay", "40x5x100", 5, 300, 80_010, 0),
		result("node", "40x5x100", 400, 1000, 78_000, 0),
	}
	tp[0].UserPer100k, tp[1].UserPer100k = 100, 700 // system: 200 and 300
	idle := []idleResult{{Relay: "jamrelay", Conns: 10_000, KBPerConn: 13.7}, {Relay: "node", Conns: 10_000, KBPerConn: 17}}
	// The cluster runs are in the capacity results too; the target
	// compares the single relays.
	cp := []capacityResult{{Relay: "jamrelay", Capacity: 80_000}, {Relay: "jamrelay-2nodes", Capacity: 40_000},
		{Relay: "node", Capacity: 24_000}, {Relay: "node-2nodes", Capacity: 4_000}}
	got := map[string]string{}
	for _, tg := range evaluate(tp, idle, cp) {
		got[tg.Name] = tg.Status
	}
	want := map[string]string{
		"nothing lost (jamrelay)":                       "PASS",
		"p99 <= node p99 / 5 at 40x5x100":               "PASS",
		"CPU/delivery <= node x 0.6 at 40x5x100":        "PASS",
		"system time/delivery <= node's at 40x5x100":    "PASS",
		"p99 < 10 ms at >= 80k deliveries/s (jamrelay)": "PASS",
		"KB per idle connection <= node x 0.75 at 10k":  "MISS",
		"capacity (p99 <= 10 ms) >= node x 3":           "PASS",
	}
	for name, status := range want {
		if got[name] != status {
			t.Errorf("%s: got %q, want %q", name, got[name], status)
		}
	}
	if len(got) != len(want) {
		t.Errorf("got targets %v, want %v", got, want)
	}
}

func TestEvaluateMisses(t *testing.T) {
	tp := []throughputResult{
		result("jamrelay", "40x5x100", 12, 700, 79_000, 3),
		result("node", "40x5x100", 50, 1000, 78_000, 0),
	}
	tp[0].UserPer100k, tp[1].UserPer100k = 350, 700 // system: 350 and 300
	for _, tg := range evaluate(tp, nil, nil) {
		want := "MISS"
		if strings.HasPrefix(tg.Name, "KB") || strings.HasPrefix(tg.Name, "capacity") {
			want = "n/a" // no idle or capacity run
		}
		if tg.Status != want {
			t.Errorf("%s: got %s (%s), want %s", tg.Name, tg.Status, tg.Detail, want)
		}
	}
}

func TestPrintThroughputRatioRow(t *testing.T) {
	var buf bytes.Buffer
	sc := scenario{name: "40x5x100", sessions: 40, members: 5, rate: 100}
	g, n := result("jamrelay", sc.name, 5, 300, 80_000, 0), result("node", sc.name, 400, 1000, 78_000, 0)
	g.Kernel = kernelCost{SyscallsPer1k: 1500, CtxSwPer1k: 100, SyscallSource: sourcePerf}
	n.Kernel = kernelCost{SyscallsPer1k: 3000, CtxSwPer1k: 400, SyscallSource: sourcePerf}
	printThroughput(&buf, sc, []throughputResult{g, n})
	var last []string
	for line := range strings.Lines(buf.String()) {
		if strings.HasPrefix(line, ratioLabel) {
			last = strings.Fields(line)
		}
	}
	want := []string{"ratio", "jamrelay/node", "0.013", "0.300", "0.000", "0.500", "0.250"}
	if strings.Join(last, " ") != strings.Join(want, " ") {
		t.Errorf("ratio row: got %q, want %q", last, want)
	}
}

// Over several rounds a relay's row is its run of median CPU, whole,
// with what was lost in any round added up and the ranges beside it.
func TestMedianRun(t *testing.T) {
	run := func(cpu, p99 float64, lost int64) throughputResult {
		return throughputResult{Relay: "jamrelay", CPUPer100k: cpu, Latency: latencySummary{P99: p99}, Lost: lost}
	}
	cases := []struct {
		name     string
		rs       []throughputResult
		cpu, p99 float64
		lost     int64
		rounds   int
	}{
		{"one run is itself", []throughputResult{run(1200, 3, 5)}, 1200, 3, 5, 0},
		{"odd: the middle", []throughputResult{run(1300, 9, 0), run(1100, 2, 1), run(1200, 4, 0)}, 1200, 4, 1, 3},
		{"even: the lower middle", []throughputResult{run(1400, 1, 0), run(1000, 8, 0), run(1300, 5, 2), run(1100, 7, 0)}, 1100, 7, 2, 4},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := medianRun(c.rs)
			if m.CPUPer100k != c.cpu || m.Latency.P99 != c.p99 || m.Lost != c.lost || m.Rounds != c.rounds {
				t.Fatalf("got CPU %v p99 %v lost %d rounds %d; want %v %v %d %d", m.CPUPer100k, m.Latency.P99, m.Lost, m.Rounds, c.cpu, c.p99, c.lost, c.rounds)
			}
			if c.rounds > 1 {
				lo, hi := c.rs[0].CPUPer100k, c.rs[0].CPUPer100k
				plo, phi := c.rs[0].Latency.P99, c.rs[0].Latency.P99
				for _, r := range c.rs {
					lo, hi = min(lo, r.CPUPer100k), max(hi, r.CPUPer100k)
					plo, phi = min(plo, r.Latency.P99), max(phi, r.Latency.P99)
				}
				if m.CPURange != [2]float64{lo, hi} || m.P99Range != [2]float64{plo, phi} {
					t.Fatalf("ranges CPU %v p99 %v; want [%v %v] [%v %v]", m.CPURange, m.P99Range, lo, hi, plo, phi)
				}
			}
		})
	}
}

// A disturbed round marks the relay's row, even when the median run was
// quiet.
func TestMedianRunKeepsANoisyRound(t *testing.T) {
	rs := []throughputResult{{CPUPer100k: 1000}, {CPUPer100k: 1100}, {CPUPer100k: 1900, Noisy: true}}
	if m := medianRun(rs); m.CPUPer100k != 1100 || !m.Noisy {
		t.Fatalf("median CPU %v, noisy %v; want 1100, noisy", m.CPUPer100k, m.Noisy)
	}
}
