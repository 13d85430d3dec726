package bridge_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gitlab.com/gomidi/midi/v2"

	"github.com/jambridge/jambridge/bridge"
	"github.com/jambridge/jambridge/bridge/miditest"
	"github.com/jambridge/jambridge/mapping"
	"github.com/jambridge/jambridge/relay"
)

// stuckFor is how long the synth port stays stuck in the flood test.
const stuckFor = 2 * time.Second

// member is one relay.Session in the flood test, with what it received.
type member struct {
	*relay.Session
	received atomic.Int64 // event:broadcasts the reader handed on
	onEvent  func(relay.Broadcast)
	mu       sync.Mutex
	presence []relay.PresenceKind
	events   []relay.Broadcast // kept when keep is set
	keep     bool
	stop     func()
}

func join(t *testing.T, url, room string, m *member, onPresence func(relay.Presence)) {
	t.Helper()
	s, err := relay.NewSession(relay.SessionConfig{URL: url, Room: room, Name: "m", Kind: "bridge",
		OnEvent: func(b relay.Broadcast) {
			if m.keep {
				m.mu.Lock()
				m.events = append(m.events, b)
				m.mu.Unlock()
			}
			if m.onEvent != nil {
				m.onEvent(b)
			}
			m.received.Add(1)
		},
		OnPresence: func(p relay.Presence) {
			m.mu.Lock()
			m.presence = append(m.presence, p.Kind)
			m.mu.Unlock()
			if onPresence != nil {
				onPresence(p)
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	m.Session = s
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	m.stop = func() { cancel(); <-done }
	t.Cleanup(m.stop)
	eventually(t, "joined", func() bool { return s.ID() != "" })
}

func (m *member) kinds() []relay.PresenceKind {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]relay.PresenceKind(nil), m.presence...)
}

// gatedSender holds the bridge's input loop in its first Broadcast until
// the gate opens: a stalled loop, for a burst larger than its queue.
type gatedSender struct {
	*relay.Session
	gate    chan struct{}
	waiting chan struct{} // closed when the first call waits
	once    sync.Once
}

func (g *gatedSender) hold() {
	g.once.Do(func() { close(g.waiting); <-g.gate })
}

func (g *gatedSender) Broadcast(name string, payload []byte) error {
	g.hold()
	return g.Session.Broadcast(name, payload)
}

func (g *gatedSender) BroadcastHold(name string, payload []byte, key string, release bool) error {
	g.hold()
	return g.Session.BroadcastHold(name, payload, key, release)
}

// heldNotes follows note-ons and note-offs per (channel, key) and fails
// on a note-off for a note not sounding.
type heldNotes struct {
	held     map[[2]int]bool
	sounded  int
	released int
	bad      []string
}

func (h *heldNotes) on(ch, key int) {
	if !h.held[[2]int{ch, key}] {
		h.sounded++
	}
	h.held[[2]int{ch, key}] = true
}

func (h *heldNotes) off(ch, key int) {
	if !h.held[[2]int{ch, key}] {
		h.bad = append(h.bad, fmt.Sprintf("release of %d/%d, not sounding", ch, key))
		return
	}
	delete(h.held, [2]int{ch, key})
	h.released++
}

// stuckPort is a synth port whose first Send sticks until unstick.
type stuckPort struct {
	out          *miditest.Out
	stuck        chan struct{} // closed when a Send is stuck
	unstick      chan struct{}
	once, unOnce sync.Once
	mu           sync.Mutex
	sent         []midi.Message
}

func newStuckPort(t *testing.T, sys *miditest.System) *stuckPort {
	p := &stuckPort{out: sys.PlugOut("Synth"), stuck: make(chan struct{}), unstick: make(chan struct{})}
	t.Cleanup(p.release)
	p.out.OnSend = func(b []byte) {
		p.once.Do(func() { close(p.stuck); <-p.unstick })
		p.mu.Lock()
		p.sent = append(p.sent, midi.Message(append([]byte(nil), b...)))
		p.mu.Unlock()
	}
	return p
}

func (p *stuckPort) release() { p.unOnce.Do(func() { close(p.unstick) }) }

// check follows what reached the port: it fails on a note-off for a
// note not sounding (All Notes Off ends a channel) and on notes left
// sounding.
func (p *stuckPort) check(t *testing.T) *heldNotes {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	h := &heldNotes{held: map[[2]int]bool{}}
	for _, m := range p.sent {
		var ch, key, vel uint8
		switch {
		case m.GetNoteStart(&ch, &key, &vel):
			h.on(int(ch), int(key))
		case m.GetNoteEnd(&ch, &key):
			h.off(int(ch), int(key))
		case m.GetControlChange(&ch, &key, &vel) && key == 123:
			for k := range h.held {
				if k[0] == int(ch) {
					delete(h.held, k)
					h.released++
				}
			}
		}
	}
	if len(h.bad) > 0 {
		t.Errorf("%d bad releases, first %s", len(h.bad), h.bad[0])
	}
	if len(h.held) > 0 {
		t.Errorf("still sounding: %v", h.held)
	}
	return h
}

// floodRig is a relay, the bridge under test on member a with a stuck
// synth port and a keyboard, and member b that floods it and hears it.
type floodRig struct {
	srv   *relay.Server
	a, b  *member
	br    *bridge.Bridge
	send  *gatedSender
	kb    *miditest.In
	synth *stuckPort
}

func newFloodRig(t *testing.T) *floodRig {
	// A member silent for a second is dropped: a reader stuck with the
	// port would lose the connection. The relay's own queues are out of
	// this test (they drop oldest-first too, releases included): large
	// enough that it drops nothing, which the test checks.
	srv, err := relay.NewServer(relay.Config{PingInterval: 100 * time.Millisecond, PingTimeout: 900 * time.Millisecond,
		EventRate: 1e6, EventBurst: 1e6, SendQueue: 1 << 16,
		Logger: slog.New(slog.NewTextHandler(tlog{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(func() { srv.Close(); hs.Close() })
	sys := &miditest.System{}
	r := &floodRig{srv: srv, a: &member{}, b: &member{keep: true}, kb: sys.PlugIn("USB Keyboard")}
	r.synth = newStuckPort(t, sys)
	join(t, hs.URL, "FLOOD-1", r.a, func(p relay.Presence) {
		switch p.Kind {
		case relay.PresenceLeft:
			r.br.Left(p.UserID)
		case relay.PresenceDisconnected:
			r.br.ReleaseAll()
		}
	})
	r.send = &gatedSender{Session: r.a.Session, gate: make(chan struct{}), waiting: make(chan struct{})}
	r.br, err = bridge.New(bridge.Config{Output: bridge.MustMatch("synth"), Rescan: 10 * time.Millisecond,
		Logger: slog.New(slog.DiscardHandler)}, sys, r.send)
	if err != nil {
		t.Fatal(err)
	}
	r.a.onEvent = func(ev relay.Broadcast) {
		r.br.Remote(bridge.Remote{SenderID: ev.SenderID, EventName: ev.EventName, Payload: ev.Payload, Received: ev.Received})
	}
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan struct{})
	go func() { r.br.Run(ctx); close(ran) }()
	t.Cleanup(func() { cancel(); <-ran })
	eventually(t, "ports open", func() bool { return r.kb.Listening() && r.br.Stats().Outputs == 1 })
	join(t, hs.URL, "FLOOD-1", r.b, nil)
	return r
}

// Ten thousand notes flood a bridge whose synth port is stuck for two
// seconds, and a keyboard bursts more than the input queue holds while
// the input loop is stalled. The relay reader never waits, so pongs keep
// flowing and the connection stays up; afterwards every note sounded
// has been released, no release came without its note, and the drops
// are counted.
func TestFloodWithAStuckPortAndABurst(t *testing.T) {
	r := newFloodRig(t)
	sent := flood(t, r.b, r.a, r.synth.stuck)
	pongs := r.a.Stats().Pongs
	held := time.After(stuckFor)
	eventually(t, "pongs while the port is stuck", func() bool { return r.a.Stats().Pongs >= pongs+10 })
	<-held
	t.Logf("%d events sent by b, %d pongs from a while the port was stuck", sent, r.a.Stats().Pongs-pongs)
	r.synth.release()
	bridge.Flush(r.br)
	checkPort(t, r)

	burst(t, r.kb, r.send, r.b)
	if st := r.br.Stats(); st.InputDropped == 0 {
		t.Error("no MIDI input dropped: the burst never overflowed the input queue")
	} else {
		t.Logf("burst: %d MIDI messages dropped oldest-first, %d releases coalesced, %d unsounded (all queues)",
			st.InputDropped, st.CoalescedReleases, st.UnsoundedReleases)
	}
	if st := r.a.Stats(); st.Joins != 1 || len(r.a.kinds()) != 2 { // connected, then b joined
		t.Errorf("a joined %d times, presence %v: want the one connection kept", st.Joins, r.a.kinds())
	}
	if st := r.b.Stats(); st.Joins != 1 {
		t.Errorf("b joined %d times, want 1", st.Joins)
	}
	if st := r.srv.Stats(); st.Dropped != 0 || st.Stuck != 0 {
		t.Errorf("the relay dropped %d packets and %d connections: the test's premise is broken", st.Dropped, st.Stuck)
	}
}

// flood has b play 10,000 notes, three held at a time, paced so that
// b's own queue keeps up: each batch is waited for at a's reader. It
// returns how many events b sent.
func flood(t *testing.T, b, a *member, stuck <-chan struct{}) int {
	const notes = 10000
	sent := 0
	note := func(i, vel int) {
		ch, key := 1+i/48%4, 36+i%48
		payload := fmt.Sprintf(`{"note":%q,"midi":%d,"velocity":%d,"channel":%d}`, mapping.NoteName(key), key, vel, ch)
		if err := b.BroadcastHold("piano_note", []byte(payload), fmt.Sprint(ch, key), vel == 0); err != nil {
			t.Fatal(err)
		}
		sent++
	}
	for i := range notes + 2 {
		if i < notes {
			note(i, 80)
		}
		if i >= 2 {
			note(i-2, 0)
		}
		if sent%256 == 0 || i == notes+1 {
			eventually(t, "the flood at a's reader", func() bool {
				st := b.Stats()
				return a.received.Load()+int64(st.Dropped+st.Unsounded+st.Coalesced) >= int64(sent)
			})
		}
	}
	<-stuck
	return sent
}

// checkPort checks what reached the synth: no release without its note,
// every note released, and the remote queue's accounts.
func checkPort(t *testing.T, r *floodRig) {
	t.Helper()
	h := r.synth.check(t)
	st := r.br.Stats()
	t.Logf("flood: %d events at the reader, %d played, %d dropped oldest-first, %d releases coalesced, %d unsounded; %d notes sounded, %d released",
		r.a.received.Load(), st.Played, st.RemoteDropped, st.CoalescedReleases, st.UnsoundedReleases, h.sounded, h.released)
	if st.RemoteDropped == 0 {
		t.Error("no remote event dropped: the port was never stuck long enough")
	}
	if got := int64(st.Played + st.RemoteDropped + st.CoalescedReleases + st.UnsoundedReleases); got != r.a.received.Load() {
		t.Errorf("played+dropped+coalesced+unsounded = %d, want the %d received", got, r.a.received.Load())
	}
}

// burst plays 1500 notes on the keyboard while the input loop is stalled
// (3000 messages, its queue holds 1024), then one last note once it
// runs again, and checks what b heard.
func burst(t *testing.T, kb *miditest.In, send *gatedSender, b *member) {
	t.Helper()
	kb.Play(midi.NoteOn(15, 127, 64)) // the loop takes it and stalls in Broadcast
	<-send.waiting
	for i := range 1500 {
		ch, key := uint8(i/60%3), uint8(30+i%60)
		kb.Play(midi.NoteOn(ch, key, 90))
		kb.Play(midi.NoteOff(ch, key))
	}
	close(send.gate)
	kb.Play(midi.NoteOff(15, 127))
	kb.Play(midi.NoteOn(15, 100, 100)) // the last note: when b hears its end, it heard everything
	kb.Play(midi.NoteOff(15, 100))
	eventually(t, "the last note at b", func() bool {
		b.mu.Lock()
		defer b.mu.Unlock()
		n := len(b.events)
		return n > 0 && isRelease(b.events[n-1], 16, 100)
	})
	b.mu.Lock()
	defer b.mu.Unlock()
	h := &heldNotes{held: map[[2]int]bool{}}
	for _, ev := range b.events {
		var p struct{ MIDI, Velocity, Channel int }
		if err := json.Unmarshal(ev.Payload, &p); err != nil {
			t.Fatal(err)
		}
		if p.Velocity > 0 {
			h.on(p.Channel, p.MIDI)
		} else {
			h.off(p.Channel, p.MIDI)
		}
	}
	if len(h.bad) > 0 || len(h.held) > 0 {
		t.Errorf("b heard %d bad releases (%v) and %d notes left sounding: %v", len(h.bad), h.bad, len(h.held), h.held)
		t.Logf("a: %+v", send.Session.Stats())
	}
	t.Logf("burst: %d notes reached b, %d released", h.sounded, h.released)
}

func isRelease(ev relay.Broadcast, ch, key int) bool {
	var p struct{ MIDI, Velocity, Channel int }
	return json.Unmarshal(ev.Payload, &p) == nil && p.Channel == ch && p.MIDI == key && p.Velocity == 0
}

// tlog writes the relay's logs to the test's.
type tlog struct{ t *testing.T }

func (l tlog) Write(p []byte) (int, error) { l.t.Log(string(p)); return len(p), nil }
