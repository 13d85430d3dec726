package redisbroker

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Drop reasons, the values of jamrelay_redis_dropped_total's label.
const (
	dropRedisDown  = "redis_down"  // an event while Redis was unreachable
	dropRedisError = "redis_error" // an event in a publish batch that failed
	dropQueueFull  = "queue_full"  // an event past maxQueuedEvents
	dropMalformed  = "malformed"   // a message from the channel that did not decode
)

type metrics struct {
	up        prometheus.Gauge
	published prometheus.Counter
	received  prometheus.Counter
	dropped   *prometheus.CounterVec
	latency   prometheus.Histogram
	// lostLeaves and forgotten: the leaves waiting for a re-assertion
	// (Broker.lost), and those its bound made the node forget.
	lostLeaves prometheus.Gauge
	forgotten  prometheus.Counter
}

func newMetrics() *metrics {
	m := &metrics{
		up: prometheus.NewGauge(prometheus.GaugeOpts{Name: "jamrelay_redis_up",
			Help: "1 while Redis answers and the node's sessions are asserted there, else 0."}),
		published: prometheus.NewCounter(prometheus.CounterOpts{Name: "jamrelay_redis_published_total",
			Help: "Events published to other nodes (one per event, whatever the receivers)."}),
		received: prometheus.NewCounter(prometheus.CounterOpts{Name: "jamrelay_redis_received_total",
			Help: "Events received from other nodes."}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "jamrelay_redis_dropped_total",
			Help: "Cross-node events dropped, by reason."}, []string{"reason"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "jamrelay_redis_latency_seconds",
			Help:    "From an event leaving its node to its arrival at another (node clocks must agree).",
			Buckets: prometheus.ExponentialBuckets(50e-6, 2, 16)}),
		lostLeaves: prometheus.NewGauge(prometheus.GaugeOpts{Name: "jamrelay_redis_lost_leaves",
			Help: "Leaves that may not be in Redis (dropped or failed while it was out of reach), waiting for the next re-assertion."}),
		forgotten: prometheus.NewCounter(prometheus.CounterOpts{Name: "jamrelay_redis_leaves_forgotten_total",
			Help: fmt.Sprintf("Lost leaves forgotten because %d already waited: each may leave a ghost member in Redis.", maxLost)}),
	}
	for _, r := range []string{dropRedisDown, dropRedisError, dropQueueFull, dropMalformed} {
		m.dropped.WithLabelValues(r)
	}
	return m
}

// Describe implements prometheus.Collector: the broker's metrics.
func (b *Broker) Describe(ch chan<- *prometheus.Desc) {
	b.m.up.Describe(ch)
	b.m.published.Describe(ch)
	b.m.received.Describe(ch)
	b.m.dropped.Describe(ch)
	b.m.latency.Describe(ch)
	b.m.lostLeaves.Describe(ch)
	b.m.forgotten.Describe(ch)
}

// Collect implements prometheus.Collector.
func (b *Broker) Collect(ch chan<- prometheus.Metric) {
	b.m.up.Collect(ch)
	b.m.published.Collect(ch)
	b.m.received.Collect(ch)
	b.m.dropped.Collect(ch)
	b.m.latency.Collect(ch)
	b.m.lostLeaves.Collect(ch)
	b.m.forgotten.Collect(ch)
}
