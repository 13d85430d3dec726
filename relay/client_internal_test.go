package relay

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode"

	"github.com/jambridge/jambridge/internal/releasequeue"
)

// bareClient is a Client without a connection, for the decoders: what
// it would write stays in its queue.
func bareClient(onEvent func(Event)) *Client {
	return &Client{
		queue:   releasequeue.New[struct{}, string, []byte](releasequeue.Config{Size: 4, MaxReleases: 4}),
		pong:    make(chan struct{}, 1),
		done:    make(chan struct{}),
		acks:    map[int64]chan []json.RawMessage{},
		onEvent: onEvent,
	}
}

// FuzzClientHandle: any packet from the relay is handled or refused
// with one lowercase sentence about the relay, never a panic; a ping
// owes a pong, an ack reaches its Call.
func FuzzClientHandle(f *testing.F) {
	for _, s := range []string{"2", "3", "1", "6", "", "4", "40", "41", `42["event:broadcast",{"a":1}]`,
		`430[{"t0":1,"serverTime":2}]`, `431[]`, `42`, `42[`, `42["x"`, `44{"message":"no"}`, "42/admin,[\"x\"]",
		`4212["x"]`, `43`, "4\x00", `42[1]`, `42["x",` + strings.Repeat("[", 200)} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		events := 0
		c := bareClient(func(Event) { events++ })
		reply := make(chan []json.RawMessage, 1)
		c.acks[0] = reply
		err := c.handle(msg)
		if err != nil {
			if s := err.Error(); !strings.HasPrefix(s, "relay ") || unicode.IsUpper(rune(s[0])) {
				t.Errorf("error %q: want a lowercase sentence about the relay", s)
			}
			return
		}
		if len(msg) > 0 && msg[0] == eioPing && len(c.pong) != 1 {
			t.Error("a ping owes no pong")
		}
		if events > 1 {
			t.Errorf("%d events from one packet", events)
		}
	})
}

// FuzzParseClockAck: any answer to clock:sync is a server time or an
// ErrClockSync, never a panic; an answer that echoes t0 is taken.
func FuzzParseClockAck(f *testing.F) {
	for _, s := range []string{`{"t0":1000.5,"serverTime":2000}`, `{"t0":1,"serverTime":2}`, `{}`, `null`, `[]`,
		`{"t0":"1000.5","serverTime":2}`, `{"t0":1000.5}`, `{"t0":1000.5,"serverTime":1e400}`, `x`} {
		f.Add([]byte(s), 1000.5)
	}
	f.Fuzz(func(t *testing.T, arg []byte, t0 float64) {
		server, err := parseClockAck([]json.RawMessage{arg}, t0)
		if err != nil {
			if !errors.Is(err, ErrClockSync) {
				t.Errorf("error %v is not an ErrClockSync", err)
			}
			return
		}
		var r struct{ T0, ServerTime float64 }
		if json.Unmarshal(arg, &r) != nil || r.T0 != t0 || r.ServerTime != server {
			t.Errorf("%s at t0 %v: took server time %v", arg, t0, server)
		}
	})
}

// FuzzLinkOnEvent: any event from the relay, in any state of the join,
// leaves the Session consistent: in it with an id and a room, or out of
// it, never a panic.
func FuzzLinkOnEvent(f *testing.F) {
	for _, c := range []struct{ name, arg string }{
		{"session:joined", `{"roomCode":"ABC","userId":"u1","participants":[{"id":"u1","name":"me"}]}`},
		{"session:created", `{"roomCode":"ABC","userId":"u1"}`},
		{"session:joined", `{"roomCode":""}`},
		{"session:user-joined", `{"user":{"id":"u2","name":"x"}}`},
		{"session:user-left", `{"userId":"u2"}`},
		{"event:broadcast", `{"eventName":"piano_note","payload":{"note":"C4"},"senderId":"u2","seq":1,"serverTime":1}`},
		{"error", `{"message":"full","code":"session_full"}`},
		{"error", `"just text"`},
		{"other", `1`},
	} {
		f.Add(c.name, []byte(c.arg), c.name == "session:joined")
	}
	f.Fuzz(func(t *testing.T, name string, arg []byte, joinFirst bool) {
		s, err := NewSession(SessionConfig{URL: "http://relay.invalid"})
		if err != nil {
			t.Fatal(err)
		}
		l := &link{s: s, replies: make(chan error, 4)}
		if joinFirst {
			l.onEvent(Event{Name: "session:joined", Args: []json.RawMessage{
				json.RawMessage(`{"roomCode":"ABC","userId":"u1","participants":[{"id":"u1"}]}`)}})
		}
		l.onEvent(Event{Name: name, Args: []json.RawMessage{arg}})
		l.onEvent(Event{Name: name}) // no argument at all
		s.mu.Lock()
		defer s.mu.Unlock()
		if in := s.cur == l; in != l.joined || in && (s.room == "" || len(l.replies) == 0) {
			t.Errorf("in the session %v, joined %v, room %q, %d replies", in, l.joined, s.room, len(l.replies))
		}
	})
}

// The send queue of a Client that cannot write: ordinary packets drop
// oldest-first, counted; every release of a key whose start was sent
// comes after it, none of a key whose start was dropped.
func TestEmitHoldKeepsReleases(t *testing.T) {
	c := bareClient(func(Event) {})
	c.queue = releasequeue.New[struct{}, string, []byte](releasequeue.Config{Size: clientQueue, MaxReleases: maxHeldKeys})
	for i := range 3000 {
		key := string(rune('a' + i%100))
		if err := c.EmitHold("piano_note", []byte(`{"on":"`+key+`"}`), key, false); err != nil {
			t.Fatal(err)
		}
		if err := c.EmitHold("piano_note", []byte(`{"off":"`+key+`"}`), key, true); err != nil {
			t.Fatal(err)
		}
		if i%7 == 0 {
			c.EmitRaw("chat", []byte(`"hi"`))
		}
	}
	held := map[string]bool{}
	for {
		it, ok := c.queue.Pop()
		if !ok {
			break
		}
		switch it.Kind {
		case releasequeue.Start:
			held[it.Key] = true
		case releasequeue.Release:
			if !held[it.Key] {
				t.Fatalf("release of %q, never sent", it.Key)
			}
			delete(held, it.Key)
		}
	}
	st := c.Stats()
	if len(held) > 0 || st.Dropped == 0 {
		t.Errorf("%d keys left held, stats %+v: want none held and drops counted", len(held), st)
	}
	close(c.done)
	if err := c.EmitHold("piano_note", nil, "a", true); !errors.Is(err, ErrClosed) {
		t.Errorf("EmitHold after the end = %v, want ErrClosed", err)
	}
}
