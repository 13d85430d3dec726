package bridge

import (
	"strconv"
	"testing"
	"time"

	"gitlab.com/gomidi/midi/v2"
	"gitlab.com/gomidi/midi/v2/drivers"
)

// sentOut is an output port that keeps what it is sent.
type sentOut struct {
	drivers.Out
	sent []midi.Message
}

func (o *sentOut) Send(b []byte) error { o.sent = append(o.sent, midi.Message(b)); return nil }
func (o *sentOut) String() string      { return "synth" }

// A note whose slot has come while the player had not yet taken its timer
// (a busy machine: the timer and the next note are ready together), and a
// note of the same sender that plays at once: the waiting one plays first.
// The scheduler gives the second a slot no earlier than the first's, so
// playing it at once must first play what is due.
func TestEnqueuePlaysWhatIsDueBeforeANoteThatPlaysAtOnce(t *testing.T) {
	t0 := time.UnixMilli(1_800_000_000_000)
	now := t0
	cfg := Config{Playout: PlayoutMode{Kind: PlayoutFixed, Delay: 20 * time.Millisecond}, Now: func() time.Time { return now }}
	p := newPlayer(cfg.withDefaults(), &counters{}, newEchoGuard(0))
	out := &sentOut{}
	p.outs = []drivers.Out{out}
	remote := func(key int) {
		r := Remote{SenderID: "bob", EventName: "piano_note", Received: now,
			Payload: []byte(`{"note":"C4","midi":` + strconv.Itoa(key) + `,"velocity":90,"timestamp":` + strconv.FormatInt(t0.UnixMilli(), 10) + `}`)}
		if e, ok := p.prepare(r); ok {
			p.play(&e)
		} else {
			t.Fatalf("note %d did not decode", key)
		}
	}
	remote(60) // slot t0+20 ms: waits
	if len(out.sent) != 0 {
		t.Fatalf("note 60 played at once: %v", out.sent)
	}
	now = t0.Add(20 * time.Millisecond) // its slot, the timer not yet taken
	remote(62)                          // the same slot: plays at once
	var keys []uint8
	for _, m := range out.sent {
		var ch, key, vel uint8
		if m.GetNoteOn(&ch, &key, &vel) {
			keys = append(keys, key)
		}
	}
	if len(keys) != 2 || keys[0] != 60 || keys[1] != 62 {
		t.Errorf("played keys %v, want [60 62]", keys)
	}
}
