package relay_test

import (
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/jambridge/jambridge/relay"
)

func TestSessionBadRequestEndsRun(t *testing.T) {
	r := newRelay(t, relay.Config{})
	ts := startSession(t, relay.SessionConfig{URL: r.URL, Room: "no!"})
	ts.wantErr = true
	err := ts.exit(false)
	var re *relay.RelayError
	if !errors.As(err, &re) || re.Code != relay.CodeBadRequest ||
		err.Error() != "a room code is 3 to 32 letters, digits or '-'" {
		t.Fatalf("Run = %v, want the relay's bad_request message", err)
	}
	if k := ts.kinds(); len(k) != 0 {
		t.Errorf("presence %v, want none", k)
	}
}

func TestSessionRetriesWhileFull(t *testing.T) {
	r := newRelay(t, relay.Config{MaxMembers: 1})
	code, peers := session(t, r, "alice")
	ts := startSession(t, relay.SessionConfig{URL: r.URL, Room: code})
	waitFor(t, "a session_full refusal", func() bool { return strings.Contains(ts.Logs.String(), "is full") })
	if err := ts.Broadcast("drum_hit", nil); !errors.Is(err, relay.ErrNotConnected) {
		t.Errorf("Broadcast while refused = %v, want ErrNotConnected", err)
	}
	peers[0].Close() // the room empties and goes away: we create it again
	c := ts.expect(relay.PresenceConnected)
	if c.Room != code || len(c.Participants) != 1 {
		t.Errorf("connected = %+v, want %s with us alone", c, code)
	}
}

// A relay that connects but never answers a join is retried after
// JoinTimeout, on a fresh connection.
func TestSessionRetriesAfterJoinTimeout(t *testing.T) {
	conns := make(chan struct{}, 100)
	var up websocket.Upgrader
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		conns <- struct{}{}
		ws.WriteMessage(websocket.TextMessage, []byte(`0{"sid":"e","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`))
		for {
			_, msg, err := ws.ReadMessage()
			if err != nil {
				return
			}
			if string(msg) == "40" {
				ws.WriteMessage(websocket.TextMessage, []byte(`40{"sid":"s"}`))
			}
		}
	}))
	t.Cleanup(hs.Close)
	ts := startSession(t, relay.SessionConfig{URL: hs.URL, Room: "quiet-1", JoinTimeout: 200 * time.Millisecond})
	for i := range 2 {
		select {
		case <-conns:
		case <-time.After(wait):
			t.Fatalf("connection %d not within %v", i+1, wait)
		}
	}
	if !strings.Contains(ts.Logs.String(), "no answer within") {
		t.Errorf("the log does not say the join timed out:\n%s", ts.Logs)
	}
	if k := ts.kinds(); len(k) != 0 {
		t.Errorf("presence %v, want none", k)
	}
}

// startRelayAt starts a relay listening on addr, or on a free loopback
// port when addr is "". stopRelay stops it; the test's cleanup does too.
func startRelayAt(t *testing.T, addr string) *testRelay {
	t.Helper()
	logs := &logBuffer{}
	srv, err := relay.NewServer(relay.Config{Logger: slog.New(slog.NewTextHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewUnstartedServer(srv)
	if addr != "" {
		hs.Listener.Close()
		hs.Listener = listenAt(t, addr)
	}
	hs.Start()
	r := &testRelay{Server: srv, URL: hs.URL, Logs: logs, http: hs}
	t.Cleanup(func() { stopRelay(r) })
	return r
}

func stopRelay(r *testRelay) {
	r.Server.Close()
	r.http.Close()
}

// listenAt listens on addr again, retrying while it is still busy.
func listenAt(t *testing.T, addr string) net.Listener {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		l, err := net.Listen("tcp", addr)
		if err == nil {
			return l
		}
		if time.Now().After(deadline) {
			t.Fatalf("listen again on %s: %v", addr, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

const dropLine = "relay unreachable: dropping events until reconnected"

func TestSessionReconnectsAfterRelayRestart(t *testing.T) {
	r1 := startRelayAt(t, "")
	addr := r1.http.Listener.Addr().String()
	ts := startSession(t, relay.SessionConfig{URL: r1.URL, Room: "restart-1", Name: "studio"})
	ts.expect(relay.PresenceConnected)
	alice := connect(t, r1)
	alice.join("restart-1", "alice")
	ts.expect(relay.PresenceJoined)
	ts.broadcast("drum_hit", `{"n":1}`)
	checkRelayed(t, alice, ts.ID(), "drum_hit", `{"n":1}`, 1)

	stopRelay(r1)
	if d := ts.await(relay.PresenceDisconnected); d.Err == nil || d.Room != "RESTART-1" {
		t.Errorf("disconnected = %+v, want a reason and the room", d)
	}
	if ts.ID() != "" || ts.Participants() != nil {
		t.Errorf("while down: ID %q, participants %v; want none", ts.ID(), ts.Participants())
	}
	for range 3 {
		if err := ts.Broadcast("drum_hit", []byte(`{"n":2}`)); !errors.Is(err, relay.ErrNotConnected) {
			t.Fatalf("Broadcast while down = %v, want ErrNotConnected", err)
		}
	}
	if n := strings.Count(ts.Logs.String(), dropLine); n != 1 {
		t.Errorf("%q logged %d times, want once per outage", dropLine, n)
	}

	r2 := startRelayAt(t, addr)
	c := ts.await(relay.PresenceConnected)
	if c.Room != "RESTART-1" || ts.Room() != "RESTART-1" || len(c.Participants) != 1 || c.Participants[0].ID != ts.ID() {
		t.Errorf("reconnected = %+v, want RESTART-1 recreated with us alone", c)
	}
	if n := ts.count(relay.PresenceDisconnected); n != 1 {
		t.Errorf("%d disconnected reports for one outage (%v), want 1", n, ts.kinds())
	}
	if logs := ts.Logs.String(); !strings.Contains(logs, `msg="disconnected from relay" room=RESTART-1`) ||
		!regexp.MustCompile(`msg="created session" room=RESTART-1 .* outage=\S+ dropped=3`).MatchString(logs) {
		t.Errorf("the log does not tell the outage:\n%s", logs)
	}

	bob := connect(t, r2)
	bob.join("restart-1", "bob")
	ts.await(relay.PresenceJoined)
	bob.emit("event:broadcast", map[string]any{"roomCode": "RESTART-1", "eventName": "drum_hit", "payload": json.RawMessage(`{"n":3}`)})
	checkReceived(t, ts.nextEvent(), bob, "drum_hit", `{"n":3}`, "")
	ts.broadcast("drum_hit", `{"n":4}`)
	checkRelayed(t, bob, ts.ID(), "drum_hit", `{"n":4}`, 1) // a new membership counts from 1
	if n := strings.Count(ts.Logs.String(), dropLine); n != 1 {
		t.Errorf("%q logged %d times, want once", dropLine, n)
	}
}

func TestBackoffDelay(t *testing.T) {
	top := math.Nextafter(1, 0) // the largest value a source may return
	fixed := func(x float64) func() float64 { return func() float64 { return x } }
	b := relay.Backoff{Min: 250 * time.Millisecond, Max: 10 * time.Second}
	ceilings := []time.Duration{250 * time.Millisecond, 500 * time.Millisecond, time.Second,
		2 * time.Second, 4 * time.Second, 8 * time.Second, 10 * time.Second, 10 * time.Second}
	for attempt, ceil := range ceilings {
		b.Rand = fixed(0)
		if got := b.Delay(attempt); got != 0 {
			t.Errorf("Delay(%d) with rand 0 = %v, want 0", attempt, got)
		}
		b.Rand = fixed(0.5)
		if got := b.Delay(attempt); got != ceil/2 {
			t.Errorf("Delay(%d) with rand 0.5 = %v, want %v", attempt, got, ceil/2)
		}
		b.Rand = fixed(top)
		if got := b.Delay(attempt); got >= ceil || got < ceil-time.Microsecond {
			t.Errorf("Delay(%d) with rand 1-ε = %v, want just under %v", attempt, got, ceil)
		}
	}
	for _, tc := range []struct {
		name    string
		b       relay.Backoff
		attempt int
		ceil    time.Duration
	}{
		{"a huge attempt stays capped", b, math.MaxInt, 10 * time.Second},
		{"defaults, first", relay.Backoff{}, 0, 250 * time.Millisecond},
		{"defaults, capped", relay.Backoff{}, 100, 10 * time.Second},
		{"max below min", relay.Backoff{Min: time.Second, Max: time.Millisecond}, 3, time.Second},
		{"max near the limit", relay.Backoff{Min: time.Second, Max: math.MaxInt64}, 80, math.MaxInt64},
	} {
		tc.b.Rand = fixed(top)
		if got := tc.b.Delay(tc.attempt); got >= tc.ceil || got < tc.ceil-tc.ceil/1000 {
			t.Errorf("%s: Delay(%d) = %v, want just under %v", tc.name, tc.attempt, got, tc.ceil)
		}
	}
	for _, x := range []float64{1, 2, -1, math.NaN()} {
		if got := (relay.Backoff{Rand: fixed(x)}).Delay(3); got != 0 {
			t.Errorf("Delay with a broken source returning %v = %v, want 0", x, got)
		}
	}
	// The real source stays within [0, ceiling).
	b.Rand = nil
	for attempt, ceil := range ceilings {
		for range 200 {
			if got := b.Delay(attempt); got < 0 || got >= ceil {
				t.Fatalf("Delay(%d) = %v, want in [0, %v)", attempt, got, ceil)
			}
		}
	}
}
