package main

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/jambridge/jambridge/relay"
)

// inProcessRelay serves a jamrelay in the test process: its CPU and RSS
// are the test's own, which is enough to exercise the measurements.
func inProcessRelay(t *testing.T, cfg relay.Config) *relayProc {
	t.Helper()
	srv, err := relay.NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", srv)
	hs := httptest.NewServer(mux)
	t.Cleanup(func() { srv.Close(); hs.Close() })
	return &relayProc{name: "jamrelay", pid: os.Getpid(), base: hs.URL, done: make(chan struct{}), bases: []string{hs.URL}, pids: []int{os.Getpid()}}
}

func TestThroughputAgainstJamrelay(t *testing.T) {
	// Pings every 200 ms: a connection that failed to pong would be
	// dropped within the run, and its events would show up as lost.
	rp := inProcessRelay(t, relay.Config{PingInterval: 200 * time.Millisecond, PingTimeout: 200 * time.Millisecond})
	sc := scenario{name: "2x3x20", sessions: 2, members: 3, rate: 20}
	o := options{duration: time.Second, warmup: 300 * time.Millisecond, clockHz: 100}
	r, err := runThroughput(context.Background(), rp, sc, o)
	if err != nil {
		t.Fatal(err)
	}
	// 6 members sending 20/s for 1.3 s, each event received by 2 others.
	if r.Sent < 130 || r.Expected != 2*r.Sent {
		t.Errorf("sent %d, expected %d receipts; want about 156 and twice that", r.Sent, r.Expected)
	}
	if r.Lost != 0 || r.Reordered != 0 || r.WriteErrors != 0 || r.Foreign != 0 {
		t.Errorf("lost %d, reordered %d, write errors %d, foreign %d; want none", r.Lost, r.Reordered, r.WriteErrors, r.Foreign)
	}
	if got, want := r.Latency.Samples, int(sc.offered()); got < want*9/10 || got > want*11/10 {
		t.Errorf("%d latency samples in a 1 s window, want about %d", got, want)
	}
	if r.Latency.P50 <= 0 || r.Latency.P50 > r.Latency.P99 || r.Latency.P99 > r.Latency.Max {
		t.Errorf("latency %+v: want 0 < p50 <= p99 <= max", r.Latency)
	}
	if r.Delivered < 0.9*sc.offered() || r.RSSMB <= 0 {
		t.Errorf("delivered %.0f/s, rss %.1f MB; want about %.0f/s and some memory", r.Delivered, r.RSSMB, sc.offered())
	}
}

func TestConnectSessionsReportsRefusal(t *testing.T) {
	rp := inProcessRelay(t, relay.Config{MaxMembers: 2})
	_, err := connectSessions(context.Background(), []string{rp.base}, 3, 3, nil)
	if err == nil {
		t.Fatal("a session of 3 with at most 2 members: want an error")
	}
	if !errors.Is(err, errRelay) {
		t.Errorf("got %v, want a relay refusal", err)
	}
}
