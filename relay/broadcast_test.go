package relay_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jambridge/jambridge/relay"
)

type relayed struct {
	EventName  string
	Payload    json.RawMessage
	SenderID   string
	Seq        json.RawMessage
	ServerTime float64
}

// AC 1, 2, 3: Alice's drum hit reaches Bob and Carol with senderId and
// serverTime, never Alice, and the relay logs the story's line.
func TestBroadcastReachesOthersNotSender(t *testing.T) {
	r := newRelay(t, relay.Config{})
	code, p := session(t, r, "alice", "bob", "carol")
	alice, bob, carol := p[0], p[1], p[2]
	payload := `{"note":"C4","velocity":80,"timestamp":1634567890123}`
	before := float64(time.Now().UnixMicro()) / 1000
	alice.emit("event:broadcast", map[string]any{"roomCode": code, "eventName": "drum_hit", "payload": json.RawMessage(payload)})
	for _, rcv := range []*peer{bob, carol} {
		var got relayed
		rcv.decode("event:broadcast", &got)
		if got.EventName != "drum_hit" || string(got.Payload) != payload || got.SenderID != alice.ID() {
			t.Errorf("%s got %+v, want drum_hit %s from %s", rcv.ID(), got, payload, alice.ID())
		}
		if after := float64(time.Now().UnixMicro()) / 1000; got.ServerTime < before || got.ServerTime > after {
			t.Errorf("serverTime %f not within [%f, %f]", got.ServerTime, before, after)
		}
		if got.Seq != nil {
			t.Errorf("seq = %s, want absent when the sender gave none", got.Seq)
		}
	}
	alice.quiet("event:broadcast")
	want := fmt.Sprintf("Event broadcasted in %s: drum_hit from %s", code, alice.ID())
	if !strings.Contains(r.Logs.String(), want) {
		t.Errorf("logs lack %q:\n%s", want, r.Logs)
	}
}

// AC 4: every event type passes through unmodified, byte for byte, in
// order, and seq is passed through.
func TestBroadcastPassesEveryEventTypeThrough(t *testing.T) {
	r := newRelay(t, relay.Config{})
	code, p := session(t, r, "alice", "bob")
	payloads := []struct{ name, payload string }{
		{"drum_hit", `{"note":"snare","velocity":127,"timestamp":1.5,"midi":38,"channel":10}`},
		{"piano_note", `{"note":"D#5","velocity":0,"timestamp":1634567890123.25,"duration":250}`},
		{"pattern_change", `{"patternId":"p1","bpm":120,"timestamp":1}`},
		{"x.custom:v2", `{"nested":{"a":[1,2.5e300,null,"é♪"],"b":{}},"  spaced  ":  true}`},
		{"bare", `"a string"`},
		{"num", `42`},
	}
	for i, e := range payloads {
		// Raw JSON, so not even the sender's encoder touches the payload.
		arg := fmt.Sprintf(`{"roomCode":%q,"eventName":%q,"payload":%s,"seq":%d}`, code, e.name, e.payload, i+1)
		if err := p[0].EmitRaw("event:broadcast", []byte(arg)); err != nil {
			t.Fatal(err)
		}
	}
	for i, e := range payloads {
		var got relayed
		p[1].decode("event:broadcast", &got)
		if got.EventName != e.name || string(got.Payload) != e.payload || string(got.Seq) != fmt.Sprint(i+1) {
			t.Errorf("event %d = %s %s seq %s, want %s %s seq %d", i, got.EventName, got.Payload, got.Seq, e.name, e.payload, i+1)
		}
	}
}

// AC 5: broadcasting alone in a session is logged, harmless, and sends
// nothing back.
func TestBroadcastInSoloSession(t *testing.T) {
	r := newRelay(t, relay.Config{})
	code, p := session(t, r, "alice")
	p[0].emit("event:broadcast", map[string]any{"roomCode": code, "eventName": "drum_hit", "payload": map[string]any{"note": "kick", "velocity": 100}})
	p[0].quiet("event:broadcast")
	p[0].quiet("error")
	if want := "Event broadcasted in " + code + ": drum_hit from " + p[0].ID(); !strings.Contains(r.Logs.String(), want) {
		t.Errorf("logs lack %q", want)
	}
	if st := r.Stats(); st.EventsIn != 1 || st.Deliveries != 0 {
		t.Errorf("stats = %+v, want 1 event in and 0 deliveries", st)
	}
}

// The story's edge case: a broadcast to a session the sender is not in is
// dropped and logged, with no error, and the sender stays connected.
func TestBroadcastFromNonMemberIsDropped(t *testing.T) {
	r := newRelay(t, relay.Config{})
	code, p := session(t, r, "alice", "bob")
	mallory := connect(t, r)
	_, _ = session(t, r, "other")
	mallory.emit("event:broadcast", map[string]any{"roomCode": strings.ToLower(code), "eventName": "drum_hit", "payload": map[string]any{}})
	for _, m := range p {
		m.quiet("event:broadcast", mallory)
	}
	mallory.quiet("error")
	want := fmt.Sprintf("User %s tried to broadcast to %s but is not a member", mallory.ID(), strings.ToLower(code))
	if !strings.Contains(r.Logs.String(), want) {
		t.Errorf("logs lack %q:\n%s", want, r.Logs)
	}
}

// senderId and serverTime are the relay's: a sender cannot forge them.
func TestBroadcastSenderCannotForgeIdentity(t *testing.T) {
	r := newRelay(t, relay.Config{})
	code, p := session(t, r, "alice", "bob")
	p[0].emit("event:broadcast", map[string]any{"roomCode": code, "eventName": "drum_hit",
		"payload": map[string]any{"v": 1}, "senderId": "bob", "serverTime": 1})
	var got relayed
	p[1].decode("event:broadcast", &got)
	if got.SenderID != p[0].ID() || got.ServerTime == 1 {
		t.Errorf("got senderId %q serverTime %v, want the relay's", got.SenderID, got.ServerTime)
	}
}

func TestClockSyncAnswersThroughAck(t *testing.T) {
	r := newRelay(t, relay.Config{})
	p := connect(t, r)
	ctx, cancel := contextWithWait()
	defer cancel()
	args, err := p.Call(ctx, "clock:sync", map[string]any{"t0": 1234.5})
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		T0         float64
		ServerTime float64
	}
	if len(args) != 1 || json.Unmarshal(args[0], &got) != nil {
		t.Fatalf("ack args = %s, want one {t0, serverTime}", args)
	}
	now := float64(time.Now().UnixMicro()) / 1000
	if got.T0 != 1234.5 || got.ServerTime > now || got.ServerTime < now-float64(wait.Milliseconds()) {
		t.Errorf("ack = %+v, want t0 1234.5 and serverTime near %f", got, now)
	}
	// Without t0 the ack carries serverTime alone (as the Node relay's);
	// without an ack callback there is nobody to answer, and no error.
	args, err = p.Call(ctx, "clock:sync", nil)
	if err != nil || len(args) != 1 || !strings.HasPrefix(string(args[0]), `{"serverTime":`) {
		t.Errorf("ack without t0 = %s, %v", args, err)
	}
	p.emit("clock:sync", map[string]any{"t0": 1})
	p.quiet("error")
}

// Like a stock Socket.IO relay, ours is lenient where the story's page
// relies on it: unknown events are ignored (the page alerts on errors), a
// missing roomCode is a non-member broadcast, and a missing payload stays
// missing. (seq is checked: TestSeqMustBeAnInteger.)
func TestLenientWhereStockSocketIOIs(t *testing.T) {
	r := newRelay(t, relay.Config{})
	code, p := session(t, r, "alice", "bob")
	p[0].emit("cursor:move", map[string]any{"x": 1})
	p[0].emit("event:broadcast", map[string]any{"eventName": "drum_hit", "payload": 1})
	p[0].emit("event:broadcast", map[string]any{"roomCode": code, "eventName": "tick", "seq": 7})
	var got map[string]json.RawMessage
	p[1].decode("event:broadcast", &got)
	if string(got["seq"]) != `7` || got["payload"] != nil || string(got["eventName"]) != `"tick"` {
		t.Errorf("relayed %s, want seq 7 and no payload", got)
	}
	p[0].quiet("error")
	p[1].quiet("event:broadcast", p[0])
	if st := r.Stats(); st.Unknown != 1 || st.NotMember != 1 {
		t.Errorf("stats = %+v, want 1 unknown and 1 non-member", st)
	}
}

// One member's invalid UTF-8 must not reach the others: a websocket text
// frame that is not UTF-8 makes every browser drop its connection.
func TestInvalidUTF8ClosesOnlyTheSender(t *testing.T) {
	r := newRelay(t, relay.Config{})
	code, p := session(t, r, "alice", "bob")
	ws := rawWS(t, r)
	write(t, ws, fmt.Sprintf(`42["session:join",{"roomCode":%q}]`, code))
	readPrefix(t, ws, `42["session:joined"`)
	write(t, ws, fmt.Sprintf("42[\"event:broadcast\",{\"roomCode\":%q,\"eventName\":\"x\",\"payload\":\"\xff\xfe\"}]", code))
	readClosed(t, ws)
	for _, o := range p {
		o.next("session:user-left")
		o.quiet("event:broadcast")
	}
	if st := r.Stats(); st.Malformed != 1 {
		t.Errorf("malformed = %d, want 1", st.Malformed)
	}
}
