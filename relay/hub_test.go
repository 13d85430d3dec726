package relay_test

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jambridge/jambridge/relay"
)

func TestCreateGeneratesHardToGuessCode(t *testing.T) {
	r := newRelay(t, relay.Config{})
	p := connect(t, r)
	seen := map[string]bool{}
	for range 20 {
		p.emit("session:create", map[string]any{"name": "alice", "kind": "bridge"})
		var c created
		p.decode("session:created", &c)
		if !regexp.MustCompile(`^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$`).MatchString(c.RoomCode) {
			t.Fatalf("roomCode %q: want 8 base32 symbols like K7QM-3XRD", c.RoomCode)
		}
		if seen[c.RoomCode] {
			t.Fatalf("roomCode %q generated twice", c.RoomCode)
		}
		seen[c.RoomCode] = true
		want := relay.Participant{ID: p.ID(), Name: "alice", Kind: "bridge", JoinedAt: c.Participants[0].JoinedAt}
		if c.UserID != p.ID() || len(c.Participants) != 1 || c.Participants[0] != want {
			t.Fatalf("created = %+v, want userId %s and participants [%+v]", c, p.ID(), want)
		}
	}
	// Creating a new session left the previous one, which was then empty.
	if n := r.Stats().Sessions; n != 1 {
		t.Errorf("sessions = %d, want 1", n)
	}
}

func TestJoinIsCaseInsensitiveAndAnnounced(t *testing.T) {
	r := newRelay(t, relay.Config{})
	alice := connect(t, r)
	alice.emit("session:create", map[string]any{"name": "alice", "roomCode": "music-42"})
	var c created
	alice.decode("session:created", &c)
	if c.RoomCode != "MUSIC-42" {
		t.Fatalf("roomCode = %q, want MUSIC-42", c.RoomCode)
	}
	bob := connect(t, r)
	bob.emit("session:join", map[string]any{"roomCode": "Music-42", "name": "bob", "kind": "web"})
	var j created
	bob.decode("session:joined", &j)
	if j.RoomCode != "MUSIC-42" || j.UserID != bob.ID() || len(j.Participants) != 2 ||
		j.Participants[0].ID != alice.ID() || j.Participants[1].Name != "bob" || j.Participants[1].Kind != "web" {
		t.Errorf("joined = %+v", j)
	}
	var u struct{ User relay.Participant }
	alice.decode("session:user-joined", &u)
	if u.User.ID != bob.ID() || u.User.Name != "bob" || u.User.JoinedAt == 0 {
		t.Errorf("user-joined = %+v", u)
	}
	// Joining again is harmless and announces nothing.
	bob.emit("session:join", map[string]any{"roomCode": "MUSIC-42"})
	bob.decode("session:joined", &j)
	alice.quiet("session:user-joined", bob)
}

func TestLeaveAndDisconnectAreAnnounced(t *testing.T) {
	r := newRelay(t, relay.Config{})
	code, p := session(t, r, "alice", "bob", "carol")
	alice, bob, carol := p[0], p[1], p[2]
	carol.emit("session:leave", map[string]any{"roomCode": code})
	var left struct{ RoomCode string }
	carol.decode("session:left", &left)
	if left.RoomCode != code {
		t.Errorf("left = %+v, want %s", left, code)
	}
	for _, o := range []*peer{alice, bob} {
		var u struct{ UserID string }
		o.decode("session:user-left", &u)
		if u.UserID != carol.ID() {
			t.Errorf("user-left = %q, want carol %q", u.UserID, carol.ID())
		}
	}
	// Carol no longer receives the session's events.
	alice.emit("event:broadcast", map[string]any{"roomCode": code, "eventName": "drum_hit", "payload": 1})
	bob.next("event:broadcast")
	carol.quiet("event:broadcast", alice)

	bob.Close()
	var u struct{ UserID string }
	alice.decode("session:user-left", &u)
	if u.UserID != bob.ID() {
		t.Errorf("user-left on disconnect = %q, want bob %q", u.UserID, bob.ID())
	}
	// Leaving a session one is not in is an error for that client only.
	carol.emit("session:leave", map[string]any{"roomCode": code})
	carol.wantError(relay.CodeNotInSession)
}

// A receiver gets every event a member sent before that member's
// user-left, never after: no note can outlive its player.
func TestLastEventsArriveBeforeUserLeft(t *testing.T) {
	r := newRelay(t, relay.Config{})
	code, p := session(t, r, "alice", "bob")
	for i := range 50 {
		p[0].emit("event:broadcast", map[string]any{"roomCode": code, "eventName": "piano_note", "payload": i})
	}
	p[0].Close()
	got := 0
	for ev := range p[1].Inbox {
		if ev.Name == "session:user-left" {
			break
		}
		if ev.Name == "event:broadcast" {
			got++
		}
	}
	if got != 50 {
		t.Errorf("got %d events before user-left, want 50", got)
	}
}

func TestErrorsGoToTheOffenderOnly(t *testing.T) {
	r := newRelay(t, relay.Config{MaxEventPayload: 64})
	code, p := session(t, r, "alice", "bob")
	bad := connect(t, r)
	cases := []struct {
		name  string
		event string
		arg   any
		code  string
	}{
		{"unknown session", "session:join", map[string]any{"roomCode": "NOPE-0000"}, relay.CodeSessionNotFound},
		{"taken code", "session:create", map[string]any{"roomCode": code}, relay.CodeSessionExists},
		{"join without code", "session:join", map[string]any{"name": "x"}, relay.CodeBadRequest},
		{"code too short", "session:join", map[string]any{"roomCode": "AB"}, relay.CodeBadRequest},
		{"code with space", "session:create", map[string]any{"roomCode": "MY ROOM"}, relay.CodeBadRequest},
		{"argument not an object", "session:create", "MUSIC-42", relay.CodeBadRequest},
		{"leave when in none", "session:leave", map[string]any{"roomCode": code}, relay.CodeNotInSession},
	}
	for _, c := range cases {
		bad.emit(c.event, c.arg)
		if msg := bad.wantError(c.code); strings.TrimSpace(msg) == "" {
			t.Errorf("%s: empty message", c.name)
		}
	}
	// Broadcast errors need membership.
	bad.emit("session:join", map[string]any{"roomCode": code})
	bad.next("session:joined")
	bcast := []struct {
		name string
		arg  any
		code string
	}{
		{"empty event name", map[string]any{"roomCode": code, "eventName": "", "payload": 1}, relay.CodeBadRequest},
		{"event name with space", map[string]any{"roomCode": code, "eventName": "drum hit", "payload": 1}, relay.CodeBadRequest},
		{"event name too long", map[string]any{"roomCode": code, "eventName": strings.Repeat("x", 65), "payload": 1}, relay.CodeBadRequest},
		{"payload too large", map[string]any{"roomCode": code, "eventName": "drum_hit", "payload": strings.Repeat("x", 100)}, relay.CodePayloadTooLarge},
		{"argument not an object", []int{1}, relay.CodeBadRequest},
	}
	for _, c := range bcast {
		bad.emit("event:broadcast", c.arg)
		bad.wantError(c.code)
	}
	// The others saw none of it, and the offender is still connected.
	for _, o := range p {
		o.quiet("error", bad)
		o.quiet("event:broadcast")
	}
	bad.sync()
	// An event of exactly the limit passes.
	bad.emit("event:broadcast", map[string]any{"roomCode": code, "eventName": "drum_hit", "payload": strings.Repeat("x", 62)})
	p[0].next("event:broadcast")
}

func TestSessionFull(t *testing.T) {
	r := newRelay(t, relay.Config{MaxMembers: 3})
	code, p := session(t, r, "a", "b", "c")
	d := connect(t, r)
	d.emit("session:join", map[string]any{"roomCode": code})
	if msg := d.wantError(relay.CodeSessionFull); !strings.Contains(msg, "3") {
		t.Errorf("message %q does not say the limit", msg)
	}
	p[0].quiet("session:user-joined", d)
	// A place frees up when someone leaves.
	p[2].Close()
	p[0].next("session:user-left")
	d.emit("session:join", map[string]any{"roomCode": code})
	d.next("session:joined")
}

func TestRateLimitDropsTheFloodNotTheSender(t *testing.T) {
	clock := newFakeClock() // stopped: no token refills until the test says so
	r := newRelay(t, relay.Config{EventRate: 1, EventBurst: 10, Now: clock.Now})
	code, p := session(t, r, "alice", "bob")
	for i := range 30 {
		p[0].emit("event:broadcast", map[string]any{"roomCode": code, "eventName": "drum_hit", "payload": i})
	}
	waitUntil(t, "the relay to take the flood", func() bool {
		st := r.Stats()
		return st.EventsIn+st.RateLimited == 30
	})
	// The limit refills: two seconds later alice is heard again (a
	// token for the event, one for her clock:sync below).
	clock.Advance(2 * time.Second)
	p[0].emit("event:broadcast", map[string]any{"roomCode": code, "eventName": "drum_hit", "payload": "again"})
	// Everything of the flood that passed reached bob before "again":
	// 10 tokens at the start, 1 spent on CONNECT and 1 on create.
	got := 0
	for {
		var ev struct{ Payload any }
		p[1].decode("event:broadcast", &ev)
		if ev.Payload == "again" {
			break
		}
		got++
	}
	if got != 8 {
		t.Errorf("bob got %d of 30 flooded events, want 8", got)
	}
	if st := r.Stats(); st.RateLimited != 22 {
		t.Errorf("rate limited %d, want 22", st.RateLimited)
	}
	// One rate_limited error per second at most, not one per event.
	p[0].sync()
	if n := p[0].count("error"); n != 1 {
		t.Errorf("alice got %d errors, want exactly 1 rate_limited", n)
	}
}

func TestParticipantNamesAreBounded(t *testing.T) {
	r := newRelay(t, relay.Config{})
	p := connect(t, r)
	p.emit("session:create", map[string]any{"name": strings.Repeat("é", 500)})
	var c created
	p.decode("session:created", &c)
	if n := len([]rune(c.Participants[0].Name)); n != 64 {
		t.Errorf("name is %d runes, want 64", n)
	}
	p.emit("session:create", map[string]any{})
	p.decode("session:created", &c)
	if c.Participants[0].Name != "Player" {
		t.Errorf("default name = %q, want Player", c.Participants[0].Name)
	}
}
