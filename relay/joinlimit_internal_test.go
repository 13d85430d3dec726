package relay

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// stepClock is a Config.Now that moves only when told.
type stepClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *stepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *stepClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// fromAddr is a connected socket of srv whose client address is addr.
func fromAddr(t *testing.T, srv *Server, addr string) *socket {
	t.Helper()
	s := newSocket(srv)
	s.addr = addr
	s.register()
	t.Cleanup(func() { s.close("test over") })
	if err := s.handleEIO([]byte("40")); err != nil {
		t.Fatal(err)
	}
	s.w.pollBatch(nil) // the CONNECT reply
	return s
}

// ask sends one event from s and returns the name and code of what it
// answered ("error" and its code, or the event's name).
func ask(t *testing.T, s *socket, event string, arg any) string {
	t.Helper()
	b, _ := json.Marshal([]any{event, arg})
	if err := s.handleEIO(append([]byte("42"), b...)); err != nil {
		t.Fatal(err)
	}
	pkts, _, _ := s.w.pollBatch(nil)
	for _, p := range pkts {
		ev, err := DecodeEvent(mustPacket(t, p))
		if err != nil || ev.Name == "session:user-joined" || ev.Name == "session:user-left" {
			continue
		}
		if ev.Name != "error" {
			return ev.Name
		}
		var e struct{ Code, Message string }
		json.Unmarshal(ev.Args[0], &e)
		return "error " + e.Code
	}
	t.Fatalf("%s: no answer", event)
	return ""
}

func mustPacket(t *testing.T, eio []byte) Packet {
	t.Helper()
	if len(eio) < 2 || eio[0] != eioMessage {
		return Packet{Type: sioAck}
	}
	p, err := DecodePacket(eio[1:])
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// The failed-join limit, on a clock that moves only when told: ten
// failures (unknown codes, wrong secrets, taken codes) from one address
// in a minute, then rate_limited for everything that address tries
// (even a right code and secret: it tells nothing) until the minute
// since its first failure is over. A member's return from an address a
// member came from is never limited, and other addresses are not
// touched.
func TestFailedJoinLimit(t *testing.T) {
	clock := &stepClock{now: time.Unix(1_764_097_200, 0)}
	srv, err := NewServer(Config{Now: clock.Now, EventRate: 1e9, EventBurst: 1e9})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	host := fromAddr(t, srv, "192.0.2.1")
	if got := ask(t, host, "session:create", map[string]any{"roomCode": "BAND", "secret": "s3cret"}); got != "session:created" {
		t.Fatalf("create: %s", got)
	}
	member := fromAddr(t, srv, "198.51.100.7") // a real member, behind the same NAT as the guesser
	if got := ask(t, member, "session:join", map[string]any{"roomCode": "BAND", "secret": "s3cret"}); got != "session:joined" {
		t.Fatalf("member's join: %s", got)
	}
	guesser := fromAddr(t, srv, "198.51.100.7")
	stranger := fromAddr(t, srv, "203.0.113.9") // never a member of BAND
	for i := range 10 {
		clock.advance(time.Second)
		want := []string{"error session_not_found", "error forbidden", "error session_exists"}[i%3]
		arg := []map[string]any{{"roomCode": fmt.Sprintf("GUESS-%d", i)}, {"roomCode": "BAND", "secret": "nope"}, {"roomCode": "BAND"}}[i%3]
		event := []string{"session:join", "session:join", "session:create"}[i%3]
		if got := ask(t, guesser, event, arg); got != want {
			t.Fatalf("failure %d: %s, want %s", i+1, got, want)
		}
		if got := ask(t, stranger, "session:join", map[string]any{"roomCode": fmt.Sprintf("OTHER-%d", i)}); got != "error session_not_found" {
			t.Fatalf("stranger's failure %d: %s", i+1, got)
		}
	}
	// Both addresses have used up their minute.
	for _, tc := range []struct {
		s    *socket
		arg  map[string]any
		want string
	}{
		{guesser, map[string]any{"roomCode": "GUESS-X"}, "error rate_limited"},
		{guesser, map[string]any{"roomCode": "BAND", "secret": "wrong"}, "error rate_limited"},
		{stranger, map[string]any{"roomCode": "BAND", "secret": "s3cret"}, "error rate_limited"}, // right, but from a stranger
		{stranger, map[string]any{"roomCode": "BAND"}, "error rate_limited"},
	} {
		if got := ask(t, tc.s, "session:join", tc.arg); got != tc.want {
			t.Errorf("limited join %v: %s, want %s", tc.arg, got, tc.want)
		}
	}
	// The member's connection drops, and it comes back at once from the
	// same (limited) address: never slowed.
	member.close("network blip")
	back := fromAddr(t, srv, "198.51.100.7")
	if got := ask(t, back, "session:join", map[string]any{"roomCode": "BAND", "secret": "s3cret"}); got != "session:joined" {
		t.Fatalf("member's return: %s, want session:joined", got)
	}
	// The guesser's minute started at its first failure, 1 s in; at 60 s
	// in it is still limited, at 61 s it is not.
	clock.advance(50 * time.Second)
	if got := ask(t, stranger, "session:join", map[string]any{"roomCode": "BAND", "secret": "s3cret"}); got != "error rate_limited" {
		t.Fatalf("a second before the minute is over: %s, want rate_limited", got)
	}
	clock.advance(time.Second)
	if got := ask(t, stranger, "session:join", map[string]any{"roomCode": "BAND", "secret": "s3cret"}); got != "session:joined" {
		t.Fatalf("the minute over: %s, want session:joined", got)
	}
	if got := ask(t, guesser, "session:join", map[string]any{"roomCode": "GUESS-Y"}); got != "error session_not_found" {
		t.Fatalf("the minute over: %s, want session_not_found", got)
	}
	st := srv.Stats()
	if st.FailedJoins != 21 || st.JoinsLimited != 5 {
		t.Errorf("failed joins %d, limited %d: want 21 and 5", st.FailedJoins, st.JoinsLimited)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(srv.Collector())
	want := `
# HELP jamrelay_failed_joins_total Joins and creates refused, by reason: refused (an unknown code, a wrong secret, a taken code; what the per-address limit counts) and rate_limited (refused by that limit).
# TYPE jamrelay_failed_joins_total counter
jamrelay_failed_joins_total{reason="rate_limited"} 5
jamrelay_failed_joins_total{reason="refused"} 21
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "jamrelay_failed_joins_total"); err != nil {
		t.Error(err)
	}
}
