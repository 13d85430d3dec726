package relay_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/jambridge/jambridge/relay"
)

// metricsOf registers r's collector on a private registry.
func metricsOf(t *testing.T, r *testRelay) *prometheus.Registry {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(r.Collector()); err != nil {
		t.Fatal(err)
	}
	return reg
}

// scrape gathers reg into name -> value, with labels written as
// name{label="value"}.
func scrape(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			key := mf.GetName()
			for _, l := range m.GetLabel() {
				key += fmt.Sprintf("{%s=%q}", l.GetName(), l.GetValue())
			}
			switch {
			case m.GetCounter() != nil:
				out[key] = m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				out[key] = m.GetGauge().GetValue()
			}
		}
	}
	return out
}

// want checks the named metrics, waiting up to wait for them to settle:
// gauges fall when the relay notices a close, after the client's Close.
func want(t *testing.T, reg *prometheus.Registry, metrics map[string]float64) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		got := scrape(t, reg)
		var diff []string
		for name, w := range metrics {
			if g, ok := got[name]; !ok || g != w {
				diff = append(diff, fmt.Sprintf("%s = %v (present %v), want %v", name, g, ok, w))
			}
		}
		if len(diff) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("metrics:\n%s", strings.Join(diff, "\n"))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestMetricsFollowTheRelay(t *testing.T) {
	r := newRelay(t, relay.Config{MaxEventPayload: 8})
	reg := metricsOf(t, r)
	want(t, reg, map[string]float64{
		"jamrelay_connections":                               0,
		"jamrelay_sessions":                                  0,
		"jamrelay_events_in_total":                           0,
		`jamrelay_dropped_total{reason="queue_full"}`:        0,
		`jamrelay_dropped_total{reason="rate_limited"}`:      0,
		`jamrelay_dropped_total{reason="payload_too_large"}`: 0,
		`jamrelay_dropped_total{reason="not_member"}`:        0,
	})

	code, p := session(t, r, "alice", "bob", "carol")
	want(t, reg, map[string]float64{"jamrelay_connections": 3, "jamrelay_sessions": 1, "jamrelay_connects_total": 3})

	for i := range 2 {
		p[0].emit("event:broadcast", map[string]any{"roomCode": code, "eventName": "drum_hit", "payload": i})
	}
	p[1].emit("event:broadcast", map[string]any{"roomCode": code, "eventName": "x", "payload": "far too large"})
	p[1].wantError(relay.CodePayloadTooLarge)
	outsider := connect(t, r)
	outsider.emit("event:broadcast", map[string]any{"roomCode": code, "eventName": "x"})
	// A round trip after the broadcasts proves each was handled.
	p[0].sync()
	outsider.sync()
	want(t, reg, map[string]float64{"jamrelay_connections": 4})
	err := testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP jamrelay_deliveries_total Relayed events queued to receivers (one per receiver).
# TYPE jamrelay_deliveries_total counter
jamrelay_deliveries_total 4
# HELP jamrelay_events_in_total event:broadcast received past the rate limit, refused ones included.
# TYPE jamrelay_events_in_total counter
jamrelay_events_in_total 4
# HELP jamrelay_errors_sent_total error events sent to clients.
# TYPE jamrelay_errors_sent_total counter
jamrelay_errors_sent_total 1
`), "jamrelay_deliveries_total", "jamrelay_events_in_total", "jamrelay_errors_sent_total")
	if err != nil {
		t.Error(err) // 2 events to 2 receivers; 1 payload_too_large error
	}
	want(t, reg, map[string]float64{
		`jamrelay_dropped_total{reason="payload_too_large"}`: 1,
		`jamrelay_dropped_total{reason="not_member"}`:        1,
		`jamrelay_dropped_total{reason="queue_full"}`:        0,
		`jamrelay_dropped_total{reason="rate_limited"}`:      0,
	})

	for _, q := range append(p, outsider) {
		q.Close()
	}
	want(t, reg, map[string]float64{"jamrelay_connections": 0, "jamrelay_sessions": 0})
}

func TestMetricsCountRateLimitedDrops(t *testing.T) {
	r := newRelay(t, relay.Config{EventRate: 1, EventBurst: 5})
	reg := metricsOf(t, r)
	code, p := session(t, r, "alice", "bob")
	// 5 tokens at the start, 1 spent on CONNECT and 1 on create: of 10
	// events 3 pass, and perhaps one more on a token refilled meanwhile.
	for i := range 10 {
		p[0].emit("event:broadcast", map[string]any{"roomCode": code, "eventName": "drum_hit", "payload": i})
	}
	p[0].wantError(relay.CodeRateLimited)
	const limited = `jamrelay_dropped_total{reason="rate_limited"}`
	deadline := time.Now().Add(wait)
	for {
		m := scrape(t, reg)
		in, dropped := m["jamrelay_events_in_total"], m[limited]
		if in+dropped == 10 { // every event passed or was dropped
			if dropped < 6 || dropped > 7 {
				t.Errorf("%s = %v, want 7 (or 6 with a refilled token)", limited, dropped)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("events in %v + rate limited %v, want 10", in, dropped)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestMetricsMatchStatsAndLint(t *testing.T) {
	r := newRelay(t, relay.Config{})
	reg := metricsOf(t, r)
	code, p := session(t, r, "alice", "bob")
	p[0].emit("event:broadcast", map[string]any{"roomCode": code, "eventName": "x"})
	p[0].emit("nobody:listens", nil)
	p[0].sync()
	st := r.Stats()
	want(t, reg, map[string]float64{
		"jamrelay_connections":             float64(st.Connections),
		"jamrelay_sessions":                float64(st.Sessions),
		"jamrelay_connects_total":          float64(st.Connects),
		"jamrelay_events_in_total":         float64(st.EventsIn),
		"jamrelay_deliveries_total":        float64(st.Deliveries),
		"jamrelay_stuck_disconnects_total": float64(st.Stuck),
		"jamrelay_malformed_total":         float64(st.Malformed),
		"jamrelay_errors_sent_total":       float64(st.Errors),
		"jamrelay_unknown_events_total":    float64(st.Unknown),
	})
	problems, err := testutil.GatherAndLint(reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
}

// histogram returns the sample count and sum of the histogram name.
func histogram(t *testing.T, reg *prometheus.Registry, name string) (count uint64, sum float64) {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			h := mf.GetMetric()[0].GetHistogram()
			return h.GetSampleCount(), h.GetSampleSum()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0, 0
}

func TestMetricsSendQueueWaitMoves(t *testing.T) {
	r := newRelay(t, relay.Config{})
	reg := metricsOf(t, r)
	const name = "jamrelay_send_queue_wait_seconds"
	code, p := session(t, r, "alice", "bob")
	before, _ := histogram(t, reg, name)
	if before == 0 {
		t.Errorf("%s count = 0 after the handshakes, want > 0", name)
	}
	for i := range 5 {
		p[0].emit("event:broadcast", map[string]any{"roomCode": code, "eventName": "drum_hit", "payload": i})
	}
	p[0].sync()
	p[1].sync()
	deadline := time.Now().Add(wait)
	for {
		count, sum := histogram(t, reg, name)
		if sum < 0 {
			t.Fatalf("%s sum = %v, want >= 0", name, sum)
		}
		if count > before { // at least one batch of bob's deliveries
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s count = %d, want more than %d after 5 deliveries", name, count, before)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
