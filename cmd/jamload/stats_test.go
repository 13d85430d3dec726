package main

import (
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	hundred := make([]uint32, 100)
	for i := range hundred {
		hundred[i] = uint32(i + 1) // 1..100
	}
	tests := []struct {
		sorted []uint32
		p      float64
		want   uint32
	}{
		{nil, 50, 0},
		{[]uint32{7}, 50, 7},
		{[]uint32{7}, 99, 7},
		{[]uint32{1, 2}, 50, 1},
		{[]uint32{1, 2, 3}, 50, 2},
		{hundred, 50, 50},
		{hundred, 99, 99},
		{hundred, 99.5, 100},
		{hundred, 100, 100},
		{hundred, 1, 1},
		{hundred, 0, 1},
	}
	for _, tt := range tests {
		if got := percentile(tt.sorted, tt.p); got != tt.want {
			t.Errorf("percentile(%d samples, %v) = %d, want %d", len(tt.sorted), tt.p, got, tt.want)
		}
	}
}

func TestSummarize(t *testing.T) {
	samples := make([]uint32, 1000)
	for i := range samples {
		samples[i] = uint32(1000 * (1000 - i)) // 1000 ms down to 1 ms, unsorted
	}
	got := summarize(samples)
	want := latencySummary{Samples: 1000, P50: 500, P99: 990, Max: 1000}
	if got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

func TestMicros(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want uint32
	}{
		{-300 * time.Nanosecond, 0},
		{1500 * time.Nanosecond, 1},
		{67 * time.Millisecond, 67_000},
		{100 * time.Hour, 1<<32 - 1},
	}
	for _, tt := range tests {
		if got := micros(tt.d); got != tt.want {
			t.Errorf("micros(%v) = %d, want %d", tt.d, got, tt.want)
		}
	}
}

func TestPerHundredK(t *testing.T) {
	// 0.5 s of CPU for 400k deliveries is 125 ms per 100k.
	if got := perHundredK(500*time.Millisecond, 400_000); got != 125 {
		t.Errorf("got %v, want 125", got)
	}
	if got := perHundredK(time.Second, 0); got != 0 {
		t.Errorf("no deliveries: got %v, want 0", got)
	}
}

func TestCPUBetween(t *testing.T) {
	t0 := time.Unix(100, 0)
	a := cpuSample{at: t0, relay: 1000, relayUser: 400, self: 500, hostBusy: 10_000}
	b := cpuSample{at: t0.Add(2 * time.Second), relay: 1100, relayUser: 440, self: 560, hostBusy: 10_200}
	got := cpuBetween(a, b, 100)
	// 100 ticks in 2 s is 50%; 60 ticks is 30%; the host did 200, so 20% is others'.
	if got.relay != 50 || got.gen != 30 || got.other != 20 || got.relayCPU != time.Second || got.relayUser != 400*time.Millisecond {
		t.Errorf("got %+v, want relay 50%%, gen 30%%, other 20%%, relay cpu 1s, user 400ms", got)
	}
}

func TestParseStatCPU(t *testing.T) {
	// A command name may hold spaces and parentheses.
	line := []byte("4242 (node (x) y) S 1 4242 4242 0 -1 4194560 100 0 0 0 1234 567 0 0 20 0 11 0 99 1000 200\n")
	user, sys, err := parseStatCPU(line)
	if err != nil || user != 1234 || sys != 567 {
		t.Errorf("got %d, %d, %v; want 1234, 567", user, sys, err)
	}
	if _, _, err := parseStatCPU([]byte("4242 (x) S 1")); err == nil {
		t.Error("short line: want an error")
	}
}
