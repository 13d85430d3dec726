package relay

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Collector returns a Prometheus collector of the relay's counters, for
// the caller to register on a registry of its own: the relay keeps no
// global registry state. Each scrape reads Stats once, so the hot path
// pays nothing for metrics beyond the atomic counters it already keeps.
//
// Drops are counted per reason, and reasons count different things:
// queue_full counts packets dropped from one member's send queue, full
// in packets or in bytes (one relayed event to one receiver), rate_limited counts inbound Socket.IO
// packets refused by a connection's token bucket, payload_too_large and
// not_member count refused event:broadcast.
//
// jamrelay_send_queue_wait_seconds is a histogram of how long a batch of
// packets waits in a member's send queue before it is written: from the
// first packet's push to the end of the batch's writev, or of the
// long-poll response that carries it. A packet written at once by its
// sender (the connection idle, see jamrelay_direct_writes_total) is a
// batch of one that waited in no queue: 0 s (collectQueueWait).
func (s *Server) Collector() prometheus.Collector {
	return &collector{srv: s}
}

// queueWaitBuckets span 50µs (a writer that was idle) to about 1.6s (a
// connection near its write timeout).
var queueWaitBuckets = prometheus.ExponentialBuckets(50e-6, 2, 16)

// observeQueueWait records a batch written now whose first packet was
// queued at since; a zero since (a ping or control frame alone) is not a
// batch of data.
func (s *Server) observeQueueWait(since time.Time) {
	if since.IsZero() {
		return
	}
	s.queueWait.Observe(max(s.cfg.Now().Sub(since), 0).Seconds())
}

// Drop reasons, the values of jamrelay_dropped_total's reason label.
const (
	dropQueueFull       = "queue_full"
	dropRateLimited     = "rate_limited"
	dropPayloadTooLarge = "payload_too_large"
	dropNotMember       = "not_member"
)

var (
	descConnections = prometheus.NewDesc("jamrelay_connections",
		"Engine.IO connections open now (websocket or long-polling).", nil, nil)
	descSessions = prometheus.NewDesc("jamrelay_sessions",
		"Jam sessions open now.", nil, nil)
	descConnects = prometheus.NewDesc("jamrelay_connects_total",
		"Socket.IO connects to the main namespace.", nil, nil)
	descEventsIn = prometheus.NewDesc("jamrelay_events_in_total",
		"event:broadcast received past the rate limit, refused ones included.", nil, nil)
	descDeliveries = prometheus.NewDesc("jamrelay_deliveries_total",
		"Relayed events queued to receivers (one per receiver).", nil, nil)
	descDropped = prometheus.NewDesc("jamrelay_dropped_total",
		"Packets dropped, by reason: queue_full (a relayed event dropped from a slow member's queue, full in packets or bytes), "+
			"rate_limited (an inbound packet over the token bucket), "+
			"payload_too_large and not_member (a refused event:broadcast).",
		[]string{"reason"}, nil)
	descDirect = prometheus.NewDesc("jamrelay_direct_writes_total",
		"Packets written at once by the goroutine that sent them, the member's connection being idle; "+
			"the others went through its send queue and writer.", nil, nil)
	descRingWrites = prometheus.NewDesc("jamrelay_ring_writes_total",
		"Direct writes made several in one system call (an io_uring submission, Linux): "+
			"a relayed event's writes to the session's idle members. 0 where the system gives no io_uring.", nil, nil)
	descStuck = prometheus.NewDesc("jamrelay_stuck_disconnects_total",
		"Connections closed for not taking their data within the write timeout.", nil, nil)
	descConnectTimeouts = prometheus.NewDesc("jamrelay_connect_timeouts_total",
		"Connections closed for sending no Socket.IO CONNECT within the connect timeout.", nil, nil)
	descMalformed = prometheus.NewDesc("jamrelay_malformed_total",
		"Connections closed for a packet that breaks the protocol.", nil, nil)
	descErrorsSent = prometheus.NewDesc("jamrelay_errors_sent_total",
		"error events sent to clients.", nil, nil)
	descUnknown = prometheus.NewDesc("jamrelay_unknown_events_total",
		"Events with an unknown name, ignored.", nil, nil)
	descFailedJoins = prometheus.NewDesc("jamrelay_failed_joins_total",
		"Joins and creates refused, by reason: refused (an unknown code, a wrong secret, a taken code; "+
			"what the per-address limit counts) and rate_limited (refused by that limit).",
		[]string{"reason"}, nil)
	descConnectsRefused = prometheus.NewDesc("jamrelay_connects_refused_total",
		"Socket.IO CONNECTs refused for a missing, expired or invalid access token.", nil, nil)
	descRefused = prometheus.NewDesc("jamrelay_refused_total",
		"Clients refused or expired, by reason: per_address_limit (the address holds --max-connections-per-ip), "+
			"max_connections (the relay is full), origin (a foreign page), handshake_window (a long-polling "+
			"session that never came back), control_flood (pongs, noops or ping frames over their budget).",
		[]string{"reason"}, nil)
)

// collector exports a Server's Stats as constant metrics.
type collector struct {
	srv *Server
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		descConnections, descSessions, descConnects, descEventsIn, descDeliveries,
		descDirect, descRingWrites, descDropped, descStuck, descConnectTimeouts, descMalformed, descErrorsSent, descUnknown,
		descFailedJoins, descConnectsRefused, descRefused,
	} {
		ch <- d
	}
	c.srv.queueWait.Describe(ch)
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	st := c.srv.Stats()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge(descConnections, float64(st.Connections))
	gauge(descSessions, float64(st.Sessions))
	counter(descConnects, st.Connects)
	counter(descEventsIn, st.EventsIn)
	counter(descDeliveries, st.Deliveries)
	counter(descDirect, st.DirectWrites)
	counter(descRingWrites, st.RingWrites)
	counter(descDropped, st.Dropped, dropQueueFull)
	counter(descDropped, st.RateLimited, dropRateLimited)
	counter(descDropped, st.TooLarge, dropPayloadTooLarge)
	counter(descDropped, st.NotMember, dropNotMember)
	counter(descStuck, st.Stuck)
	counter(descConnectTimeouts, st.ConnectTimeouts)
	counter(descMalformed, st.Malformed)
	counter(descErrorsSent, st.Errors)
	counter(descUnknown, st.Unknown)
	counter(descFailedJoins, st.FailedJoins, "refused")
	counter(descFailedJoins, st.JoinsLimited, "rate_limited")
	counter(descConnectsRefused, st.ConnectsRefused)
	for reason, n := range c.srv.Refused() {
		counter(descRefused, n, reason)
	}
	c.srv.collectQueueWait(ch, st.DirectWrites)
}
