package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"gitlab.com/gomidi/midi/v2"

	"github.com/jambridge/jambridge/bridge"
	"github.com/jambridge/jambridge/bridge/miditest"
	"github.com/jambridge/jambridge/relay"
)

// A hosting daemon with --metrics-listen serves the bridge's metrics and
// the embedded relay's on their own listener, and stops it on shutdown.
func TestMetricsListenServesBridgeAndHostedRelay(t *testing.T) {
	logs, out := &syncBuf{}, &syncBuf{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	host, err := hostRelay("127.0.0.1:0", nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer host.Close()
	sys := &miditest.System{}
	keys := sys.PlugIn("Keys")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- runJam(ctx, jamSetup{
			Session: relay.SessionConfig{URL: host.localURL, Room: "JAM-METRICS", Name: "alice", Logger: log},
			Bridge:  bridge.Config{Rescan: 10 * time.Millisecond, Logger: log},
			MIDI:    sys, Host: host, Out: out, Log: log, Metrics: "127.0.0.1:0",
		})
	}()
	defer func() {
		cancel()
		select {
		case <-done:
		case <-time.After(wait):
		}
	}()

	addrRE := regexp.MustCompile(`msg="metrics listening" addr=(\S+)`)
	var addr string
	eventually(t, "metrics listening", func() bool {
		if m := addrRE.FindStringSubmatch(logs.String()); m != nil {
			addr = m[1]
		}
		return addr != ""
	})
	eventually(t, "session open and keys listening", func() bool {
		return strings.Contains(out.String(), "Jam session JAM-METRICS is open") && keys.Listening()
	})
	keys.Play(midi.NoteOn(0, 60, 100))
	var body string
	eventually(t, "jambridge_events_sent_total 1 and jambridge_inputs 1", func() bool {
		// Both are counted after what the test waits on (the session's
		// event, the port listening): wait for the counts themselves.
		body = scrapeMetrics(t, "http://"+addr+"/metrics")
		return strings.Contains(body, "\njambridge_events_sent_total 1\n") && strings.Contains(body, "\njambridge_inputs 1\n")
	})
	for _, name := range []string{"jambridge_inputs 1", "jamrelay_connections 1", "jamrelay_sessions 1",
		"jamrelay_send_queue_wait_seconds_count", "go_goroutines", "process_"} {
		if !strings.Contains(body, name) {
			t.Errorf("/metrics lacks %q", name)
		}
	}

	cancel()
	select {
	case err := <-done:
		done <- err // for the deferred wait
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(wait):
		t.Fatal("jam did not stop")
	}
	if resp, err := http.Get("http://" + addr + "/metrics"); err == nil {
		resp.Body.Close()
		t.Error("metrics still served after the daemon stopped")
	}
}

func scrapeMetrics(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s\n%s", url, resp.Status, b)
	}
	return string(b)
}

func TestMetricsListenRefusesABusyAddress(t *testing.T) {
	r := startRelay(t, "127.0.0.1:0")
	err := runJam(context.Background(), jamSetup{
		Session: relay.SessionConfig{URL: r.url(), Room: "JAM-METRICS", Name: "alice"},
		Bridge:  bridge.Config{}, MIDI: &miditest.System{}, Out: io.Discard,
		Log: slog.New(slog.DiscardHandler), Metrics: r.addr,
	})
	if err == nil || !strings.Contains(err.Error(), "--metrics-listen on "+r.addr) {
		t.Errorf("run with a busy metrics address: %v, want a --metrics-listen error", err)
	}
}
