package relay_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/jambridge/jambridge/relay"
)

// Members that keep up get their events written at once by the sender's
// goroutine, in order.
func TestIdleMembersGetDirectWrites(t *testing.T) {
	r := newRelay(t, relay.Config{EventRate: 1e6, EventBurst: 1e6})
	code, p := session(t, r, "alice", "bob", "carol")
	before := r.Stats().DirectWrites
	const n = 50
	for i := range n {
		p[0].emit("event:broadcast", map[string]any{"roomCode": code, "eventName": "piano_note", "payload": i})
		for _, q := range p[1:] {
			var ev struct{ Payload int }
			q.decode("event:broadcast", &ev)
			if ev.Payload != i {
				t.Fatalf("got event %d at position %d", ev.Payload, i)
			}
		}
	}
	// A direct write is counted after it reached the socket; the
	// writes run on alice's reader, ahead of her clock:sync.
	p[0].sync()
	st := r.Stats()
	if got := st.DirectWrites - before; got < n { // 2n deliveries, each one idle when it came
		t.Errorf("%d of %d deliveries written directly, want most: stats %+v", got, 2*n, st)
	}
}

// A member that stops reading for a while and then reads again gets an
// intact websocket stream: direct writes the kernel took only part of
// are finished by the writer before anything else, and nothing is
// reordered (overflow may drop the oldest, never reorder).
func TestStalledReaderResumesWithIntactFrames(t *testing.T) {
	r := newRelay(t, relay.Config{SendQueue: 4096, SendQueueBytes: 64 << 20, WriteTimeout: 20 * time.Second,
		EventRate: 1e6, EventBurst: 1e6, MaxEventPayload: 1 << 16})
	code, p := session(t, r, "alice")
	ws := rawMember(t, r, code, "stalled", 64<<10 /* wide enough to read it all back fast */)
	p[0].next("session:user-joined")

	// Odd-sized events, until a direct write has been cut short (the
	// socket buffers are full) and a few more went through the queue.
	pad := strings.Repeat("x", 9999)
	sent := 0
	for deadline := time.Now().Add(wait); relay.PartialWrites(r.Server) == 0 || sent%64 != 0; sent++ {
		if time.Now().After(deadline) {
			t.Fatalf("no direct write was cut short after %d events of %d bytes", sent, len(pad))
		}
		p[0].emit("event:broadcast", map[string]any{"roomCode": code, "eventName": "piano_note", "payload": map[string]any{"i": sent, "pad": pad}})
		if sent%32 == 31 {
			p[0].sync() // alice's own send queue is bounded too
		}
	}
	p[0].sync()

	last := -1
	for last < sent-1 {
		ws.SetReadDeadline(time.Now().Add(wait))
		typ, msg, err := ws.ReadMessage()
		if err != nil {
			t.Fatalf("after event %d of %d: %v (a broken frame?)", last, sent, err)
		}
		if typ != websocket.TextMessage || string(msg) == "2" {
			continue // a ping
		}
		var ev []json.RawMessage
		if err := json.Unmarshal(msg[2:], &ev); err != nil || len(ev) != 2 {
			t.Fatalf("not an event after event %d: %.80q", last, msg)
		}
		var b struct{ Payload struct{ I int } }
		if err := json.Unmarshal(ev[1], &b); err != nil {
			t.Fatalf("bad event after event %d: %v", last, err)
		}
		if b.Payload.I <= last {
			t.Fatalf("event %d after event %d: reordered", b.Payload.I, last)
		}
		last = b.Payload.I
	}
	if st := r.Stats(); st.Dropped != 0 || st.Stuck != 0 {
		t.Errorf("stats %+v: want nothing dropped or stuck (the queue holds them all)", st)
	}
}

// A member that reads slowly while events keep coming sees its writer
// and direct writes take turns: every event still arrives once, in
// order (a direct write never overtakes what is queued).
func TestSlowReaderGetsEveryEventInOrder(t *testing.T) {
	r := newRelay(t, relay.Config{SendQueue: 1 << 14, SendQueueBytes: 64 << 20, WriteTimeout: 20 * time.Second,
		EventRate: 1e6, EventBurst: 1e6, MaxEventPayload: 1 << 16})
	code, p := session(t, r, "alice")
	ws := rawMember(t, r, code, "slow", 32<<10)
	p[0].next("session:user-joined")

	const n = 3000
	queuedBefore := relay.QueuedPackets(r.Server)
	sending := make(chan struct{})
	go func() {
		defer close(sending)
		pad := strings.Repeat("y", 3333)
		for i := range n {
			p[0].Emit("event:broadcast", map[string]any{"roomCode": code, "eventName": "piano_note", "payload": map[string]any{"i": i, "pad": pad}})
			if i%16 == 15 {
				p[0].Call(context.Background(), "clock:sync", map[string]any{"t0": 0}) // pace alice by a round trip
			}
		}
	}()
	// The slow member reads nothing until the relay has had to queue
	// for it: its socket buffers hold far less than the n events, so
	// this happens whatever the host's speed.
	for deadline := time.Now().Add(wait); relay.QueuedPackets(r.Server) == queuedBefore; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("nothing was queued for a member that reads nothing")
		}
	}
	for want := 0; want < n; {
		ws.SetReadDeadline(time.Now().Add(wait))
		_, msg, err := ws.ReadMessage()
		if err != nil {
			t.Fatalf("waiting for event %d: %v", want, err)
		}
		if !strings.HasPrefix(string(msg), `42["event:broadcast"`) {
			continue // a ping
		}
		var ev []json.RawMessage
		var b struct{ Payload struct{ I int } }
		if json.Unmarshal(msg[2:], &ev) != nil || len(ev) != 2 || json.Unmarshal(ev[1], &b) != nil {
			t.Fatalf("waiting for event %d: a broken event %.80q", want, msg)
		}
		if b.Payload.I != want {
			t.Fatalf("got event %d, want %d: lost or reordered", b.Payload.I, want)
		}
		want++
		if want%2 == 0 {
			time.Sleep(time.Millisecond) // slower than alice
		}
	}
	<-sending
	st, queued := r.Stats(), relay.QueuedPackets(r.Server)-queuedBefore
	if st.Dropped != 0 || queued == 0 || queued >= n {
		t.Errorf("stats %+v, %d queued: want nothing dropped, and events both written directly and queued", st, queued)
	}
}
