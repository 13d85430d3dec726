package relay_test

import (
	"strings"
	"testing"
	"time"

	"github.com/jambridge/jambridge/relay"
)

// A member that never reads loses its own oldest events and is then
// disconnected; the others get every event, in order, and the sender is
// never held up.
func TestSlowMemberNeverDelaysTheOthers(t *testing.T) {
	r := newRelay(t, relay.Config{SendQueue: 256, WriteTimeout: 300 * time.Millisecond, EventRate: 1e6, EventBurst: 1e6})
	code, p := session(t, r, "alice", "bob")
	alice, bob := p[0], p[1]

	// The stuck member: a tiny receive window, and it never reads again.
	rawMember(t, r, code, "stuck", 4096)
	alice.next("session:user-joined")
	bob.next("session:user-joined")

	// Alice plays in chunks that bob acknowledges by receiving them, so
	// bob's queue never holds more than a chunk; the stuck member's queue
	// and socket buffers fill up and stay full.
	const n, chunk = 4000, 100
	pad := strings.Repeat("x", 2000)
	for start := 0; start < n; start += chunk {
		for i := start; i < start+chunk; i++ {
			if err := alice.Emit("event:broadcast", map[string]any{"roomCode": code, "eventName": "piano_note", "payload": map[string]any{"i": i, "pad": pad}}); err != nil {
				t.Fatalf("alice held up at event %d: %v", i, err)
			}
		}
		for i := start; i < start+chunk; i++ {
			var ev struct{ Payload struct{ I int } }
			bob.decode("event:broadcast", &ev)
			if ev.Payload.I != i {
				t.Fatalf("bob got event %d at position %d: lost or reordered", ev.Payload.I, i)
			}
		}
	}
	var left struct{ UserID string }
	alice.decode("session:user-left", &left)
	// Disconnected as stuck: by its write deadline, or by a queue that
	// stayed full (which of the two fires first depends on the load).
	if st := r.Stats(); st.Stuck != 1 {
		t.Errorf("stats %+v: want the stuck member counted", st)
	}
	bob.next("session:user-left")
	alice.quiet("error")
}

// A member that stops taking its data (here a long-polling client that
// never polls again) loses its oldest relayed events, counted, keeps its
// presence packets, and is disconnected once stuck for WriteTimeout.
func TestOverflowDropsOldestEventsThenDisconnects(t *testing.T) {
	clock := newFakeClock()
	r := newRelay(t, relay.Config{SendQueue: 8, WriteTimeout: time.Second, Now: clock.Now})
	code, p := session(t, r, "alice")
	pl := pollingMember(t, r, code, p[0])
	for i := range 20 {
		p[0].emit("event:broadcast", map[string]any{"roomCode": code, "eventName": "drum_hit", "payload": i})
	}
	p[0].sync()
	if st := r.Stats(); st.Dropped != 12 {
		t.Errorf("dropped %d, want 12 (20 events into a queue of 8)", st.Dropped)
	}
	// The newest 8 are still queued, in order.
	got := pl.get()
	if len(got) != 8 || !strings.Contains(got[0], `"payload":12,`) || !strings.Contains(got[7], `"payload":19,`) {
		t.Errorf("queued %d packets: %q", len(got), got)
	}
	// Full again, and nobody polls for longer than WriteTimeout: the next
	// overflow disconnects it as stuck.
	for i := range 8 {
		p[0].emit("event:broadcast", map[string]any{"roomCode": code, "eventName": "drum_hit", "payload": i})
	}
	p[0].sync()
	if st := r.Stats(); st.Stuck != 0 || st.Dropped != 12 {
		t.Fatalf("stats %+v: want a full queue, nothing more dropped, not stuck yet", st)
	}
	clock.Advance(2 * time.Second)
	p[0].emit("event:broadcast", map[string]any{"roomCode": code, "eventName": "drum_hit", "payload": "last"})
	p[0].next("session:user-left")
	if st := r.Stats(); st.Stuck != 1 {
		t.Errorf("stuck = %d, want 1", st.Stuck)
	}
}

// A full send queue drops the oldest ordinary events but keeps those
// that end a sound (a note-off, a pedal up), as it keeps presence: the
// slow member hears the end of every note it heard begin.
func TestOverflowKeepsReleases(t *testing.T) {
	r := newRelay(t, relay.Config{SendQueue: 8, WriteTimeout: time.Minute})
	code, p := session(t, r, "alice")
	pl := pollingMember(t, r, code, p[0])
	note := func(vel int) {
		p[0].emit("event:broadcast", map[string]any{"roomCode": code, "eventName": "piano_note",
			"payload": map[string]any{"note": "C4", "velocity": vel, "timestamp": 1}})
	}
	pedal := func(val int) {
		p[0].emit("event:broadcast", map[string]any{"roomCode": code, "eventName": "control_change",
			"payload": map[string]any{"controller": 64, "value": val, "channel": 1, "timestamp": 1}})
	}
	note(90)
	pedal(127)
	p[0].sync()
	if got := pl.get(); len(got) != 2 {
		t.Fatalf("the member heard %q, want the note and the pedal down", got)
	}
	note(0)
	pedal(0)
	for i := range 20 {
		p[0].emit("event:broadcast", map[string]any{"roomCode": code, "eventName": "drum_hit", "payload": i})
	}
	p[0].sync()
	if st := r.Stats(); st.Dropped != 14 {
		t.Errorf("dropped %d, want 14 (22 events into a queue of 8, the 2 releases kept)", st.Dropped)
	}
	got := pl.get()
	if len(got) != 8 || !strings.Contains(got[0], `"velocity":0`) || !strings.Contains(got[1], `"value":0`) ||
		!strings.Contains(got[2], `"payload":14,`) || !strings.Contains(got[7], `"payload":19,`) {
		t.Errorf("queued %d packets: %q; want the note-off, the pedal up, then drum hits 14 to 19", len(got), got)
	}
}
