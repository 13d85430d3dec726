package bridge

import (
	"math"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Collector returns a Prometheus collector of the bridge's counters, for
// the caller to register on a registry of its own: the bridge keeps no
// global registry state. Each scrape reads Stats, and asks the player for
// Participants, so the hot paths pay nothing beyond the atomics they
// already keep. Per-participant gauges cover the musicians heard from in
// the current session only: one who leaves drops out of the next scrape,
// which keeps the label set bounded.
//
// A scrape waits for the player's answer at most scrapeWait: while the
// player is stuck in a port's Send (a hung device), and after Run has
// returned, it reports no participants.
func (b *Bridge) Collector() prometheus.Collector {
	return &collector{b: b}
}

// Drop reasons, the values of jambridge_events_dropped_total's reason
// label.
const (
	dropRelayUnreachable = "relay_unreachable" // local events: no session to send to
	dropInputOverflow    = "input_overflow"    // MIDI messages: the input loop fell behind
	dropEcho             = "echo"              // inputs that were copies of our own output
	dropPlayerOverflow   = "player_overflow"   // remote events: the player fell behind
	dropSendOverflow     = "send_overflow"     // local events: the relay connection backed up
	dropUnplayable       = "unplayable"        // remote events we could not turn into MIDI
	dropUnsounded        = "release_unsounded" // releases of notes dropped before they sounded
	dropCoalesced        = "release_coalesced" // releases merged into a later one of the same key
)

var (
	descInputs = prometheus.NewDesc("jambridge_inputs",
		"MIDI input ports open now.", nil, nil)
	descOutputs = prometheus.NewDesc("jambridge_outputs",
		"MIDI output ports remote events play on now.", nil, nil)
	descSent = prometheus.NewDesc("jambridge_events_sent_total",
		"Local events sent to the session.", nil, nil)
	descDropped = prometheus.NewDesc("jambridge_events_dropped_total",
		"Events dropped, by reason: relay_unreachable (a local event with no session to send to), "+
			"input_overflow (a MIDI message the input loop was too far behind for), "+
			"echo (an input that was a copy of our own output), "+
			"player_overflow (a remote event the player was too far behind for), "+
			"send_overflow (a local event the relay connection was too far behind for), "+
			"unplayable (a remote event with no MIDI meaning under the output rules), "+
			"release_unsounded (a note-off or pedal up whose note-on was dropped on overflow: nothing to release), "+
			"release_coalesced (a release that waited in a queue and was merged into a later release of the same key). "+
			"The overflows drop the oldest events first; releases are never dropped otherwise.",
		[]string{"reason"}, nil)
	descPlayed = prometheus.NewDesc("jambridge_events_played_total",
		"Remote events played on the outputs.", nil, nil)
	descReleased = prometheus.NewDesc("jambridge_notes_released_total",
		"Notes released because their player left or the session was lost.", nil, nil)
	descLate = prometheus.NewDesc("jambridge_late_total",
		"Remote events that arrived after their playout slot and played at arrival.", nil, nil)
	descSendErrors = prometheus.NewDesc("jambridge_output_errors_total",
		"Failed sends to an output port.", nil, nil)
	descLatencyP50 = prometheus.NewDesc("jambridge_participant_latency_p50_seconds",
		"Median one-way latency of a remote musician's recent events (relay-time arrival minus their timestamp).",
		[]string{"participant"}, nil)
	descLatencyP95 = prometheus.NewDesc("jambridge_participant_latency_p95_seconds",
		"95th percentile one-way latency of a remote musician's recent events.",
		[]string{"participant"}, nil)
	descJitter = prometheus.NewDesc("jambridge_participant_jitter_seconds",
		"Smoothed interarrival jitter of a remote musician's events (RFC 3550).",
		[]string{"participant"}, nil)
	descRemoteLatency = prometheus.NewDesc("jambridge_remote_latency_seconds",
		"One-way latency of remote events played (relay-time arrival minus the sender's timestamp).", nil, nil)
)

// collector exports a Bridge's Stats and Participants as constant metrics.
type collector struct {
	b *Bridge
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		descInputs, descOutputs, descSent, descDropped, descPlayed, descReleased, descLate, descSendErrors,
		descLatencyP50, descLatencyP95, descJitter, descRemoteLatency,
	} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	st := c.b.Stats()
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	ch <- prometheus.MustNewConstMetric(descInputs, prometheus.GaugeValue, float64(st.Inputs))
	ch <- prometheus.MustNewConstMetric(descOutputs, prometheus.GaugeValue, float64(st.Outputs))
	counter(descSent, st.Sent)
	counter(descDropped, st.SendDropped, dropRelayUnreachable)
	counter(descDropped, st.InputDropped, dropInputOverflow)
	counter(descDropped, st.Echoes, dropEcho)
	counter(descDropped, st.RemoteDropped, dropPlayerOverflow)
	counter(descDropped, st.SendOverflow, dropSendOverflow)
	counter(descDropped, st.Unplayable, dropUnplayable)
	counter(descDropped, st.UnsoundedReleases, dropUnsounded)
	counter(descDropped, st.CoalescedReleases, dropCoalesced)
	counter(descPlayed, st.Played)
	counter(descReleased, st.Released)
	counter(descLate, st.Late)
	counter(descSendErrors, st.SendErrors)
	for _, p := range c.b.participants(time.After(scrapeWait)) {
		gauge := func(d *prometheus.Desc, v float64) {
			ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, p.ID)
		}
		gauge(descLatencyP50, p.Playout.LatencyP50.Seconds())
		gauge(descLatencyP95, p.Playout.LatencyP95.Seconds())
		gauge(descJitter, p.Playout.Jitter.Seconds())
	}
	ch <- c.b.stats.latency.metric()
}

// latencyBuckets are the upper bounds of jambridge_remote_latency_seconds:
// 1ms (a LAN) to about 2s (a relay across the world, or clocks apart).
var latencyBuckets = prometheus.ExponentialBuckets(0.001, 2, latencyBucketCount)

const latencyBucketCount = 12

// latencyHistogram counts one-way latencies into latencyBuckets. Its zero
// value is ready to use and it takes no lock: the player goroutine
// observes, scrapes read the atomics.
type latencyHistogram struct {
	counts [latencyBucketCount + 1]atomic.Uint64 // per bucket, not cumulative; the last is +Inf
	sumUs  atomic.Int64                          // sum of the latencies, in microseconds
}

// observe records the latency of an event stamped timestamp that arrived
// at arrival, both unix ms in relay time. Unstamped events (timestamp 0,
// or not finite) have no latency; a negative one (clocks apart) counts as
// 0.
func (h *latencyHistogram) observe(timestamp, arrival float64) {
	if !(timestamp > 0) || math.IsInf(timestamp, 0) || math.IsNaN(arrival) {
		return
	}
	sec := max(arrival-timestamp, 0) / 1000
	i := len(latencyBuckets) // +Inf
	for j, ub := range latencyBuckets {
		if sec <= ub {
			i = j
			break
		}
	}
	h.counts[i].Add(1)
	h.sumUs.Add(int64(math.Min(sec*1e6, math.MaxInt64/2)))
}

// metric is the histogram now, as a constant metric.
func (h *latencyHistogram) metric() prometheus.Metric {
	buckets := make(map[float64]uint64, len(latencyBuckets))
	var n uint64
	for i, ub := range latencyBuckets {
		n += h.counts[i].Load()
		buckets[ub] = n
	}
	n += h.counts[len(latencyBuckets)].Load()
	sum := float64(h.sumUs.Load()) / 1e6
	return prometheus.MustNewConstHistogram(descRemoteLatency, n, sum, buckets)
}
