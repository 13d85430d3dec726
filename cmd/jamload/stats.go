package main

import (
	"slices"
	"time"
)

// latencySummary is the distribution of delivery latencies, in ms.
type latencySummary struct {
	Samples int     `json:"samples"`
	P50     float64 `json:"p50Ms"`
	P99     float64 `json:"p99Ms"`
	Max     float64 `json:"maxMs"`
}

// summarize sorts samples (microseconds) in place and returns their
// nearest-rank percentiles.
func summarize(samples []uint32) latencySummary {
	if len(samples) == 0 {
		return latencySummary{}
	}
	slices.Sort(samples)
	ms := func(us uint32) float64 { return float64(us) / 1000 }
	return latencySummary{
		Samples: len(samples),
		P50:     ms(percentile(samples, 50)),
		P99:     ms(percentile(samples, 99)),
		Max:     ms(samples[len(samples)-1]),
	}
}

// percentile returns the nearest-rank p-th percentile of sorted: the
// smallest sample with at least p% of the samples at or below it.
func percentile(sorted []uint32, p float64) uint32 {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(p / 100 * float64(len(sorted))) // samples strictly below
	if float64(rank) < p/100*float64(len(sorted)) {
		rank++
	}
	return sorted[max(rank, 1)-1]
}

// micros converts a latency to whole microseconds for a sample, clamped
// to what a uint32 holds (about 71 minutes). A negative latency (the
// relay may round "t" by a few hundred ns) counts as zero.
func micros(d time.Duration) uint32 {
	switch us := d.Microseconds(); {
	case us < 0:
		return 0
	case us > 1<<32-1:
		return 1<<32 - 1
	default:
		return uint32(us)
	}
}

// perHundredK returns how much CPU (ms) n deliveries cost per 100,000.
func perHundredK(cpu time.Duration, n int64) float64 {
	if n <= 0 {
		return 0
	}
	return float64(cpu) / float64(time.Millisecond) * 1e5 / float64(n)
}

// ratio returns a/b, or 0 when b is 0.
func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}
