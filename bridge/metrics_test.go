package bridge_test

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"gitlab.com/gomidi/midi/v2"

	"github.com/jambridge/jambridge/bridge"
	"github.com/jambridge/jambridge/bridge/miditest"
)

func registry(t *testing.T, b *bridge.Bridge) *prometheus.Registry {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(b.Collector()); err != nil {
		t.Fatal(err)
	}
	return reg
}

func TestMetricsCountLocalEvents(t *testing.T) {
	f := &miditest.System{}
	kb := f.PlugIn("Launchkey Mini MIDI 1")
	h := start(t, bridge.Config{}, f)
	reg := registry(t, h.b)
	// The port listens before the input loop counts it, and a note may
	// be handled before the count: wait for both.
	eventually(t, "keyboard opened and counted", func() bool { return kb.Listening() && h.b.Stats().Inputs == 1 })
	kb.Play(midi.NoteOn(0, 60, 100))
	h.next()
	// The session has the event before the send returns and counts it.
	eventually(t, "the send counted", func() bool { return h.b.Stats().Sent == 1 })
	err := testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP jambridge_inputs MIDI input ports open now.
# TYPE jambridge_inputs gauge
jambridge_inputs 1
# HELP jambridge_events_sent_total Local events sent to the session.
# TYPE jambridge_events_sent_total counter
jambridge_events_sent_total 1
`), "jambridge_inputs", "jambridge_events_sent_total")
	if err != nil {
		t.Error(err)
	}
	problems, err := testutil.GatherAndLint(reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
}

// Remote events feed the played and dropped counters, the latency
// histogram, and per-participant gauges for those still in the session.
func TestMetricsFollowRemoteMusicians(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b, _, stop := playoutBridge(t, "immediate")
		defer stop()
		reg := registry(t, b)
		b.Remote(note("erin", 60, msNow()-12)) // 12 ms on the way
		b.Remote(note("erin", 62, msNow()-12))
		b.Remote(note("finn", 64, 0)) // unstamped: no latency
		bad := note("finn", 0, 0)
		bad.Payload = []byte(`{"note":"C4","midi":"sixty"}`)
		b.Remote(bad)
		synctest.Wait()
		b.Participants() // the player has handled everything before
		err := testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP jambridge_events_played_total Remote events played on the outputs.
# TYPE jambridge_events_played_total counter
jambridge_events_played_total 3
# HELP jambridge_participant_latency_p50_seconds Median one-way latency of a remote musician's recent events (relay-time arrival minus their timestamp).
# TYPE jambridge_participant_latency_p50_seconds gauge
jambridge_participant_latency_p50_seconds{participant="erin"} 0.012
jambridge_participant_latency_p50_seconds{participant="finn"} 0
# HELP jambridge_remote_latency_seconds One-way latency of remote events played (relay-time arrival minus the sender's timestamp).
# TYPE jambridge_remote_latency_seconds histogram
jambridge_remote_latency_seconds_bucket{le="0.001"} 0
jambridge_remote_latency_seconds_bucket{le="0.002"} 0
jambridge_remote_latency_seconds_bucket{le="0.004"} 0
jambridge_remote_latency_seconds_bucket{le="0.008"} 0
jambridge_remote_latency_seconds_bucket{le="0.016"} 2
jambridge_remote_latency_seconds_bucket{le="0.032"} 2
jambridge_remote_latency_seconds_bucket{le="0.064"} 2
jambridge_remote_latency_seconds_bucket{le="0.128"} 2
jambridge_remote_latency_seconds_bucket{le="0.256"} 2
jambridge_remote_latency_seconds_bucket{le="0.512"} 2
jambridge_remote_latency_seconds_bucket{le="1.024"} 2
jambridge_remote_latency_seconds_bucket{le="2.048"} 2
jambridge_remote_latency_seconds_bucket{le="+Inf"} 2
jambridge_remote_latency_seconds_sum 0.024
jambridge_remote_latency_seconds_count 2
`), "jambridge_events_played_total", "jambridge_participant_latency_p50_seconds", "jambridge_remote_latency_seconds")
		if err != nil {
			t.Error(err)
		}
		if got := dropped(t, reg, "unplayable"); got != 1 {
			t.Errorf(`jambridge_events_dropped_total{reason="unplayable"} = %v, want 1`, got)
		}

		b.Left("erin")
		synctest.Wait()
		if n := countParticipant(t, reg, "erin"); n != 0 {
			t.Errorf("erin left but has %d series", n)
		}
		if n := countParticipant(t, reg, "finn"); n != 3 {
			t.Errorf("finn has %d series, want 3 (p50, p95, jitter)", n)
		}
	})
}

// dropped reads jambridge_events_dropped_total{reason=reason}.
func dropped(t *testing.T, reg *prometheus.Registry, reason string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			if mf.GetName() == "jambridge_events_dropped_total" && m.GetLabel()[0].GetValue() == reason {
				return m.GetCounter().GetValue()
			}
		}
	}
	t.Fatalf("no jambridge_events_dropped_total{reason=%q}", reason)
	return 0
}

// countParticipant counts the series labelled participant=id.
func countParticipant(t *testing.T, reg *prometheus.Registry, id string) int {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "participant" && l.GetValue() == id {
					n++
				}
			}
		}
	}
	return n
}

// A scrape while the player is stuck in a port's Send (a hung device)
// answers after scrapeWait, with the counters and without the
// per-participant figures, instead of hanging with the player.
func TestScrapeDoesNotWaitForAStuckPlayer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sys := &miditest.System{}
		out := sys.PlugOut("Synth")
		stuck, unstick := make(chan struct{}), make(chan struct{})
		var once sync.Once
		out.OnSend = func([]byte) { once.Do(func() { close(stuck); <-unstick }) }
		b, err := bridge.New(bridge.Config{Output: bridge.MustMatch("synth"), Logger: slog.New(slog.DiscardHandler)}, sys, newSender())
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { b.Run(ctx); close(done) }()
		defer func() { close(unstick); cancel(); <-done }()
		time.Sleep(10 * time.Millisecond) // the scanner opens the synth
		synctest.Wait()
		b.Remote(note("erin", 60, 0))
		<-stuck
		reg := registry(t, b)
		if got := dropped(t, reg, "player_overflow"); got != 0 {
			t.Errorf(`dropped{reason="player_overflow"} = %v, want 0`, got)
		}
		if n := countParticipant(t, reg, "erin"); n != 0 {
			t.Errorf("erin has %d series while the player is stuck, want none", n)
		}
	})
}
