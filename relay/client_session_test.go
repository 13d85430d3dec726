package relay_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jambridge/jambridge/relay"
)

// testSession runs a relay.Session and collects what it reports.
type testSession struct {
	*relay.Session
	t        *testing.T
	Logs     *logBuffer
	events   chan relay.Broadcast
	presence chan relay.Presence
	cancel   context.CancelFunc
	done     chan error // Run's result

	mu      sync.Mutex // guards history
	history []relay.PresenceKind

	once    sync.Once
	err     error // Run's result, once exit has it
	wantErr bool  // Run is expected to fail: the cleanup does not complain
}

// startSession runs a Session with cfg; the test's cleanup ends it and
// checks that Run returned nil. Reconnection backoff defaults to a few
// milliseconds so that tests do not wait for it.
func startSession(t *testing.T, cfg relay.SessionConfig) *testSession {
	t.Helper()
	ts := &testSession{
		t: t, Logs: &logBuffer{}, done: make(chan error, 1),
		events: make(chan relay.Broadcast, 1024), presence: make(chan relay.Presence, 1024),
	}
	cfg.Logger = slog.New(slog.NewTextHandler(ts.Logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg.OnEvent = func(b relay.Broadcast) {
		select {
		case ts.events <- b:
		default:
			t.Errorf("OnEvent: test inbox full")
		}
	}
	cfg.OnPresence = func(p relay.Presence) {
		ts.mu.Lock()
		ts.history = append(ts.history, p.Kind)
		ts.mu.Unlock()
		select {
		case ts.presence <- p:
		default:
			t.Errorf("OnPresence: test inbox full")
		}
	}
	if cfg.Backoff.Min == 0 {
		cfg.Backoff = relay.Backoff{Min: 5 * time.Millisecond, Max: 50 * time.Millisecond}
	}
	s, err := relay.NewSession(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts.Session = s
	ctx, cancel := context.WithCancel(context.Background())
	ts.cancel = cancel
	go func() { ts.done <- s.Run(ctx) }()
	t.Cleanup(func() {
		if err := ts.exit(true); err != nil && !ts.wantErr {
			t.Errorf("Run = %v, want nil", err)
		}
	})
	return ts
}

// exit waits for Run to return, ending its context first when stop is
// set, and returns Run's result.
func (ts *testSession) exit(stop bool) error {
	if stop {
		ts.cancel()
	}
	ts.once.Do(func() {
		select {
		case ts.err = <-ts.done:
		case <-time.After(wait):
			ts.err = fmt.Errorf("Run did not return within %v", wait)
		}
	})
	return ts.err
}

// next returns the next presence report.
func (ts *testSession) next() relay.Presence {
	ts.t.Helper()
	select {
	case p := <-ts.presence:
		return p
	case <-time.After(wait):
		ts.t.Fatalf("no presence report within %v (so far %v)", wait, ts.kinds())
		return relay.Presence{}
	}
}

// await returns the next presence report of kind, skipping others.
func (ts *testSession) await(kind relay.PresenceKind) relay.Presence {
	ts.t.Helper()
	timeout := time.After(wait)
	for {
		select {
		case p := <-ts.presence:
			if p.Kind == kind {
				return p
			}
		case <-timeout:
			ts.t.Fatalf("no %v report within %v (so far %v)", kind, wait, ts.kinds())
			return relay.Presence{}
		}
	}
}

// expect returns the next presence report, which must be of kind.
func (ts *testSession) expect(kind relay.PresenceKind) relay.Presence {
	ts.t.Helper()
	p := ts.next()
	if p.Kind != kind {
		ts.t.Fatalf("presence = %v %+v, want %v", p.Kind, p, kind)
	}
	return p
}

// kinds lists every presence report so far, in order.
func (ts *testSession) kinds() []relay.PresenceKind {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return append([]relay.PresenceKind(nil), ts.history...)
}

func (ts *testSession) count(kind relay.PresenceKind) int {
	n := 0
	for _, k := range ts.kinds() {
		if k == kind {
			n++
		}
	}
	return n
}

// nextEvent returns the next event:broadcast the session received.
func (ts *testSession) nextEvent() relay.Broadcast {
	ts.t.Helper()
	select {
	case b := <-ts.events:
		return b
	case <-time.After(wait):
		ts.t.Fatalf("session: no event:broadcast within %v", wait)
		return relay.Broadcast{}
	}
}

func (ts *testSession) broadcast(name, payload string) {
	ts.t.Helper()
	if err := ts.Broadcast(name, []byte(payload)); err != nil {
		ts.t.Fatalf("Broadcast(%s): %v", name, err)
	}
}

// heard is an event:broadcast as a peer receives it.
type heard struct {
	EventName  string
	Payload    json.RawMessage
	SenderID   string
	Seq        json.RawMessage
	ServerTime float64
}

// checkRelayed reads the next event:broadcast of p and compares it.
func checkRelayed(t *testing.T, p *peer, from, name, payload string, seq int) {
	t.Helper()
	var got heard
	p.decode("event:broadcast", &got)
	if got.EventName != name || string(got.Payload) != payload || got.SenderID != from ||
		string(got.Seq) != fmt.Sprint(seq) || got.ServerTime <= 0 {
		t.Errorf("relayed = %+v (payload %s, seq %s), want %s %s from %s with seq %d",
			got, got.Payload, got.Seq, name, payload, from, seq)
	}
}

// checkReceived checks an event the session received from p.
func checkReceived(t *testing.T, b relay.Broadcast, p *peer, name, payload, seq string) {
	t.Helper()
	if b.EventName != name || string(b.Payload) != payload || b.SenderID != p.ID() ||
		string(b.Seq) != seq || b.ServerTime <= 0 || b.Received.IsZero() {
		t.Errorf("received %+v (payload %s, seq %s), want %s %s from %s with seq %s",
			b, b.Payload, b.Seq, name, payload, p.ID(), seq)
	}
}

// join makes p join code and waits for the answer.
func (p *peer) join(code, name string) created {
	p.T.Helper()
	p.emit("session:join", map[string]any{"roomCode": code, "name": name, "kind": "web"})
	var j created
	p.decode("session:joined", &j)
	return j
}

// waitFor polls cond until it holds, failing the test after wait.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, wait)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

var generatedCode = regexp.MustCompile(`^[0-9A-Z]{4}-[0-9A-Z]{4}$`)

func TestSessionJoinsExistingRoom(t *testing.T) {
	r := newRelay(t, relay.Config{})
	code, peers := session(t, r, "alice")
	alice := peers[0]
	ts := startSession(t, relay.SessionConfig{URL: r.URL, Room: strings.ToLower(code), Name: "studio", Kind: "bridge"})
	c := ts.expect(relay.PresenceConnected)
	if c.Room != code || ts.Room() != code {
		t.Errorf("room = %q, Room() = %q, want the relay's spelling %q", c.Room, ts.Room(), code)
	}
	if len(c.Participants) != 2 || c.Participants[0].ID != alice.ID() || c.Participants[1].ID != ts.ID() ||
		c.Participants[1].Name != "studio" || c.Participants[1].Kind != "bridge" {
		t.Errorf("participants = %+v, want alice then us (%s, studio, bridge)", c.Participants, ts.ID())
	}
	var u struct{ User relay.Participant }
	alice.decode("session:user-joined", &u)
	if u.User.ID != ts.ID() || u.User.Name != "studio" || u.User.Kind != "bridge" {
		t.Errorf("user-joined = %+v, want us", u.User)
	}
	if !strings.Contains(ts.Logs.String(), "msg=\"joined session\" room="+code+" participants=2") {
		t.Errorf("no joined line with the room and the participant count in the log:\n%s", ts.Logs)
	}
}

func TestSessionJoinsOrCreatesTheGivenRoom(t *testing.T) {
	r := newRelay(t, relay.Config{})
	ts := startSession(t, relay.SessionConfig{URL: r.URL, Room: "jam-7", Name: "studio"})
	c := ts.expect(relay.PresenceConnected)
	if c.Room != "JAM-7" || ts.Room() != "JAM-7" || len(c.Participants) != 1 || c.Participants[0].ID != ts.ID() {
		t.Errorf("connected = %+v, Room() = %q; want JAM-7 with us alone", c, ts.Room())
	}
	if !strings.Contains(ts.Logs.String(), `msg="created session" room=JAM-7`) {
		t.Errorf("no created line in the log:\n%s", ts.Logs)
	}
	bob := connect(t, r)
	bob.join("jam-7", "bob")
	if j := ts.expect(relay.PresenceJoined); j.UserID != bob.ID() || j.Participant.Name != "bob" {
		t.Errorf("joined = %+v, want bob", j)
	}
}

func TestSessionCreatesWithoutCode(t *testing.T) {
	r := newRelay(t, relay.Config{})
	ts := startSession(t, relay.SessionConfig{URL: r.URL, Name: "studio"})
	c := ts.expect(relay.PresenceConnected)
	code := ts.Room()
	if !generatedCode.MatchString(code) || c.Room != code {
		t.Fatalf("Room() = %q, connected to %q; want the generated code", code, c.Room)
	}
	bob := connect(t, r)
	if j := bob.join(code, "bob"); len(j.Participants) != 2 || j.Participants[0].ID != ts.ID() {
		t.Errorf("bob joined %+v, want the session's room", j)
	}
	ts.expect(relay.PresenceJoined)
}

func TestSessionEventsBothWays(t *testing.T) {
	r := newRelay(t, relay.Config{})
	code, peers := session(t, r, "alice")
	alice := peers[0]
	ts := startSession(t, relay.SessionConfig{URL: r.URL, Room: code, Name: "studio"})
	ts.expect(relay.PresenceConnected)
	alice.next("session:user-joined")

	hit := `{"note":"kick","velocity":100,"timestamp":1.5}`
	alice.emit("event:broadcast", map[string]any{"roomCode": code, "eventName": "drum_hit", "payload": json.RawMessage(hit), "seq": 41})
	checkReceived(t, ts.nextEvent(), alice, "drum_hit", hit, "41")

	for i := 1; i <= 3; i++ {
		ts.broadcast("piano_note", fmt.Sprintf(`{"note":"C4","velocity":%d}`, i))
	}
	for i := 1; i <= 3; i++ {
		checkRelayed(t, alice, ts.ID(), "piano_note", fmt.Sprintf(`{"note":"C4","velocity":%d}`, i), i)
	}
	// An echo of ours would have reached us before alice's marker.
	alice.emit("event:broadcast", map[string]any{"roomCode": code, "eventName": "marker"})
	if b := ts.nextEvent(); b.EventName != "marker" || b.Payload != nil {
		t.Errorf("got %s %s, want alice's marker without payload: the relay echoed us", b.EventName, b.Payload)
	}

	if err := ts.Broadcast("bad name", nil); err == nil || errors.Is(err, relay.ErrNotConnected) {
		t.Errorf("Broadcast with a bad name = %v, want a name error", err)
	}
	if err := ts.Broadcast("drum_hit", []byte(`{"note":`)); err == nil || errors.Is(err, relay.ErrNotConnected) {
		t.Errorf("Broadcast with bad JSON = %v, want a payload error", err)
	}
	// Neither used a seq: the next one is 4.
	ts.broadcast("drum_hit", hit)
	checkRelayed(t, alice, ts.ID(), "drum_hit", hit, 4)
}

func TestSessionPresence(t *testing.T) {
	r := newRelay(t, relay.Config{})
	ts := startSession(t, relay.SessionConfig{URL: r.URL, Room: "presence-1", Name: "studio"})
	ts.expect(relay.PresenceConnected)
	alice, bob := connect(t, r), connect(t, r)
	for _, p := range []struct {
		*peer
		name string
	}{{alice, "alice"}, {bob, "bob"}} {
		p.join("presence-1", p.name)
		j := ts.expect(relay.PresenceJoined)
		if j.UserID != p.ID() || j.Participant.ID != p.ID() || j.Participant.Name != p.name || j.Room != "PRESENCE-1" {
			t.Errorf("joined = %+v, want %s (%s)", j, p.name, p.ID())
		}
	}
	if got := ids(ts.Participants()); got != ids3(ts.ID(), alice.ID(), bob.ID()) {
		t.Errorf("participants = %s, want us, alice, bob", got)
	}

	alice.emit("session:leave", map[string]any{"roomCode": "presence-1"})
	if l := ts.expect(relay.PresenceLeft); l.UserID != alice.ID() || l.Participant.Name != "alice" {
		t.Errorf("left = %+v, want alice", l)
	}
	bob.Close() // a lost connection leaves too
	if l := ts.expect(relay.PresenceLeft); l.UserID != bob.ID() || l.Participant.Name != "bob" {
		t.Errorf("left = %+v, want bob", l)
	}
	if got := ids(ts.Participants()); got != ts.ID() {
		t.Errorf("participants = %s, want us alone", got)
	}
}

func ids(ps []relay.Participant) string {
	var s []string
	for _, p := range ps {
		s = append(s, p.ID)
	}
	return strings.Join(s, ",")
}

func ids3(a, b, c string) string { return a + "," + b + "," + c }

func TestSessionLeavesWhenRunEnds(t *testing.T) {
	r := newRelay(t, relay.Config{})
	code, peers := session(t, r, "alice")
	alice := peers[0]
	ts := startSession(t, relay.SessionConfig{URL: r.URL, Room: code})
	ts.expect(relay.PresenceConnected)
	alice.next("session:user-joined")
	id := ts.ID()
	if err := ts.Run(context.Background()); err == nil {
		t.Error("a second Run returned nil, want an error")
	}

	if err := ts.exit(true); err != nil {
		t.Fatalf("Run = %v, want nil", err)
	}
	if d := ts.expect(relay.PresenceDisconnected); d.Err != nil || d.Room != code {
		t.Errorf("disconnected = %+v, want room %s and no error", d, code)
	}
	var left struct{ UserID string }
	alice.decode("session:user-left", &left)
	if left.UserID != id {
		t.Errorf("user-left %q, want %q", left.UserID, id)
	}
	// It left with session:leave before hanging up.
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("relay:\n%s\nsession:\n%s", r.Logs, ts.Logs)
		}
	})
	waitFor(t, "the relay logs the leave", func() bool { return strings.Contains(r.Logs.String(), `msg="session left"`) })
	if err := ts.Broadcast("drum_hit", nil); !errors.Is(err, relay.ErrNotConnected) {
		t.Errorf("Broadcast after Run = %v, want ErrNotConnected", err)
	}
	if ts.ID() != "" || ts.Participants() != nil {
		t.Errorf("after Run: ID %q, participants %v; want none", ts.ID(), ts.Participants())
	}
}

// A bridge keeps its membership with Run and sends with Broadcast; the
// relay here is an in-process one, as jamrelay serves.
func ExampleSession() {
	srv, _ := relay.NewServer(relay.Config{})
	hs := httptest.NewServer(srv)
	defer hs.Close()
	defer srv.Close()

	in := make(chan struct{}, 1)
	s, err := relay.NewSession(relay.SessionConfig{
		URL: hs.URL, Room: "jam-42", Name: "studio", Kind: "bridge",
		OnEvent: func(b relay.Broadcast) { fmt.Println(b.EventName, "from", b.SenderID) },
		OnPresence: func(p relay.Presence) {
			switch p.Kind {
			case relay.PresenceConnected:
				fmt.Printf("in %s with %d participant(s)\n", p.Room, len(p.Participants))
				in <- struct{}{}
			case relay.PresenceDisconnected: // release every remote note here
				fmt.Println("out of", p.Room)
			}
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	select {
	case <-in:
		fmt.Println("broadcast:", s.Broadcast("drum_hit", []byte(`{"note":"kick","velocity":100,"timestamp":0}`)))
	case <-time.After(5 * time.Second):
		fmt.Println("relay unreachable")
	}
	cancel()
	fmt.Println("run:", <-done)
	// Output:
	// in JAM-42 with 1 participant(s)
	// broadcast: <nil>
	// out of JAM-42
	// run: <nil>
}

// A watcher (JoinOnly) never creates the session it asks for: a code
// nobody hosts ends Run with the relay's own message.
func TestSessionJoinOnlyReportsAnUnknownSession(t *testing.T) {
	r := newRelay(t, relay.Config{})
	s, err := relay.NewSession(relay.SessionConfig{URL: r.URL, Room: "NOBODY-1", JoinOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	err = s.Run(ctx)
	var re *relay.RelayError
	if !errors.As(err, &re) || re.Code != relay.CodeSessionNotFound || err.Error() != "session NOBODY-1 does not exist" {
		t.Fatalf("Run = %v, want the relay's session_not_found message", err)
	}
	if n := r.Stats().Sessions; n != 0 {
		t.Errorf("%d sessions: a watcher created one", n)
	}
}

// A Session keeps the relay's clock: events are stamped in relay time.
func TestSessionEstimatesTheRelayClock(t *testing.T) {
	const ahead = 1234.567 // ms the relay's clock runs ahead of ours
	r := newRelay(t, relay.Config{Now: func() time.Time { return time.Now().Add(time.Duration(ahead * float64(time.Millisecond))) }})
	s, err := relay.NewSession(relay.SessionConfig{URL: r.URL, Room: "CLOCK-1"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	defer func() { cancel(); <-done }()
	deadline := time.Now().Add(wait)
	for !s.ClockStats().OK {
		if time.Now().After(deadline) {
			t.Fatal("no clock estimate")
		}
		time.Sleep(20 * time.Millisecond)
	}
	now := time.Now()
	got := s.RelayTime(now) - float64(now.UnixMicro())/1000
	if got < ahead-1 || got > ahead+1 {
		t.Errorf("relay clock estimated %.3f ms ahead, want %.3f ± 1", got, ahead)
	}
}
