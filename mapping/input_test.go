package mapping_test

import (
	"reflect"
	"testing"

	"github.com/jambridge/jambridge/mapping"
	"gitlab.com/gomidi/midi/v2"
)

func newInput(t testing.TB, r mapping.InputRule) *mapping.Input {
	t.Helper()
	in, err := mapping.NewInput(r)
	if err != nil {
		t.Fatalf("NewInput: %v", err)
	}
	return in
}

// step is one message fed to an Input at a time, and what it must give.
type step struct {
	msg  midi.Message
	now  float64
	want *mapping.Event // nil: no event
}

func run(t *testing.T, in *mapping.Input, steps []step) {
	t.Helper()
	for i, s := range steps {
		got, ok := in.FromMIDI(s.msg, s.now)
		switch {
		case s.want == nil && ok:
			t.Errorf("step %d %v: got %+v, want no event", i, s.msg, got)
		case s.want != nil && !ok:
			t.Errorf("step %d %v: no event, want %+v", i, s.msg, *s.want)
		case s.want != nil && got != *s.want:
			t.Errorf("step %d %v:\n got %+v\nwant %+v", i, s.msg, got, *s.want)
		}
	}
}

func drum(note string, key, vel, ch int, ts float64) *mapping.Event {
	return &mapping.Event{Kind: mapping.DrumHit, Note: note, MIDI: key, Velocity: vel, Channel: ch, Timestamp: ts}
}

func piano(note string, key, vel, ch int, ts, dur float64) *mapping.Event {
	return &mapping.Event{Kind: mapping.PianoNote, Note: note, MIDI: key, Velocity: vel, Channel: ch, Timestamp: ts, Duration: dur}
}

func cc(ctl, val, ch int, ts float64) *mapping.Event {
	return &mapping.Event{Kind: mapping.ControlChange, Controller: ctl, Value: val, Channel: ch, Timestamp: ts}
}

func TestInputDefaultRule(t *testing.T) {
	run(t, newInput(t, mapping.DefaultInputRule()), []step{
		{midi.NoteOn(9, 38, 100), 1, drum("snare", 38, 100, 10, 1)},
		{midi.NoteOn(9, 36, 90), 2, drum("kick", 36, 90, 10, 2)},
		{midi.NoteOn(9, 30, 90), 3, drum("F#1", 30, 90, 10, 3)}, // no GM name
		{midi.NoteOff(9, 38), 4, nil},                           // drums have no release
		{midi.NoteOn(9, 36, 0), 5, nil},
		{midi.NoteOn(0, 60, 80), 10, piano("C4", 60, 80, 1, 10, 0)},
		{midi.NoteOn(3, 75, 70), 11, piano("D#5", 75, 70, 4, 11, 0)},
		{midi.NoteOff(0, 60), 260.5, piano("C4", 60, 0, 1, 260.5, 250.5)},
		{midi.NoteOn(3, 75, 0), 111, piano("D#5", 75, 0, 4, 111, 100)}, // note-on 0 is a release
		{midi.NoteOff(0, 62), 300, piano("D4", 62, 0, 1, 300, 0)},      // never seen: no duration
		{midi.ControlChange(0, 64, 127), 400, cc(64, 127, 1, 400)},
		{midi.ControlChange(0, 64, 0), 401, cc(64, 0, 1, 401)},
		{midi.ControlChange(0, 1, 30), 402, nil}, // mod wheel not chosen
		{midi.Pitchbend(0, 100), 403, nil},
		{midi.AfterTouch(0, 100), 404, nil},
		{midi.PolyAfterTouch(0, 60, 100), 405, nil},
		{midi.ProgramChange(0, 5), 406, nil},
		{midi.TimingClock(), 407, nil},
		{midi.Start(), 408, nil},
		{midi.SysEx([]byte{0x7e, 0x7f, 0x06, 0x01}), 409, nil},
		{nil, 410, nil},
		{midi.Message{0x90, 60}, 411, nil}, // truncated
	})
}

func TestInputRoles(t *testing.T) {
	t.Run("drums", func(t *testing.T) {
		r := mapping.DefaultInputRule()
		r.Role = mapping.Drums
		run(t, newInput(t, r), []step{
			{midi.NoteOn(0, 38, 100), 1, drum("snare", 38, 100, 1, 1)},
			{midi.NoteOff(0, 38), 2, nil},
			{midi.NoteOn(9, 60, 100), 3, drum("bongo_high", 60, 100, 10, 3)},
		})
	})
	t.Run("keys", func(t *testing.T) {
		r := mapping.DefaultInputRule()
		r.Role = mapping.Keys
		run(t, newInput(t, r), []step{
			{midi.NoteOn(9, 38, 100), 1, piano("D2", 38, 100, 10, 1, 0)},
			{midi.NoteOff(9, 38), 2, piano("D2", 38, 0, 10, 2, 1)},
		})
	})
	t.Run("auto drum channels", func(t *testing.T) {
		r := mapping.DefaultInputRule()
		r.DrumChannels = []int{2, 11}
		run(t, newInput(t, r), []step{
			{midi.NoteOn(1, 38, 100), 1, drum("snare", 38, 100, 2, 1)},
			{midi.NoteOn(10, 38, 100), 1, drum("snare", 38, 100, 11, 1)},
			{midi.NoteOn(9, 38, 100), 1, piano("D2", 38, 100, 10, 1, 0)},
		})
	})
	t.Run("zero rule", func(t *testing.T) {
		run(t, newInput(t, mapping.InputRule{}), []step{
			{midi.NoteOn(9, 42, 50), 1, drum("hihat_closed", 42, 50, 10, 1)},
			{midi.NoteOn(0, 60, 50), 1, piano("C4", 60, 50, 1, 1, 0)},
			{midi.ControlChange(0, 64, 127), 1, nil}, // SendControl false
		})
	})
}

func TestInputChannels(t *testing.T) {
	r := mapping.DefaultInputRule()
	r.Channels = []int{1, 10}
	run(t, newInput(t, r), []step{
		{midi.NoteOn(0, 60, 80), 1, piano("C4", 60, 80, 1, 1, 0)},
		{midi.NoteOn(1, 60, 80), 1, nil},
		{midi.NoteOff(1, 60), 2, nil},
		{midi.ControlChange(1, 64, 127), 2, nil},
		{midi.NoteOn(9, 36, 80), 3, drum("kick", 36, 80, 10, 3)},
		{midi.NoteOn(15, 60, 80), 1, nil},
	})
}

func TestInputTranspose(t *testing.T) {
	r := mapping.DefaultInputRule()
	r.Transpose = 12
	run(t, newInput(t, r), []step{
		{midi.NoteOn(0, 60, 80), 1, piano("C5", 72, 80, 1, 1, 0)},
		{midi.NoteOff(0, 60), 3, piano("C5", 72, 0, 1, 3, 2)},
		{midi.NoteOn(0, 120, 80), 4, nil}, // 132: dropped
		{midi.NoteOff(0, 120), 5, nil},
		{midi.NoteOn(9, 38, 80), 6, drum("snare", 38, 80, 10, 6)}, // drums stay
	})
	r.Transpose = -61
	run(t, newInput(t, r), []step{
		{midi.NoteOn(0, 61, 80), 1, piano("C-1", 0, 80, 1, 1, 0)},
		{midi.NoteOn(0, 60, 80), 1, nil},
	})
}

func TestInputCurve(t *testing.T) {
	r := mapping.DefaultInputRule()
	r.Curve = mapping.Curve{Kind: mapping.Fixed, Fixed: 100}
	run(t, newInput(t, r), []step{
		{midi.NoteOn(0, 60, 5), 1, piano("C4", 60, 100, 1, 1, 0)},
		{midi.NoteOff(0, 60), 2, piano("C4", 60, 0, 1, 2, 1)},
		{midi.NoteOn(9, 36, 127), 3, drum("kick", 36, 100, 10, 3)},
		{midi.ControlChange(0, 64, 5), 4, cc(64, 5, 1, 4)}, // controllers untouched
	})
}

func TestInputMinVelocity(t *testing.T) {
	r := mapping.DefaultInputRule()
	r.MinVelocity = 10
	r.PadMinVelocity = map[int]int{38: 30}
	// The thresholds compare the velocity as played, before the curve.
	r.Curve = mapping.Curve{Kind: mapping.Fixed, Fixed: 127}
	run(t, newInput(t, r), []step{
		{midi.NoteOn(0, 60, 9), 1, nil},
		{midi.NoteOff(0, 60), 2, nil}, // its note-off goes too
		{midi.NoteOff(0, 60), 3, piano("C4", 60, 0, 1, 3, 0)},
		{midi.NoteOn(0, 62, 10), 4, piano("D4", 62, 127, 1, 4, 0)},
		{midi.NoteOn(0, 62, 3), 5, nil}, // soft retrigger of a held note: ignored
		{midi.NoteOff(0, 62), 6, piano("D4", 62, 0, 1, 6, 2)},
		{midi.NoteOn(9, 36, 9), 7, nil},
		{midi.NoteOn(9, 36, 10), 8, drum("kick", 36, 127, 10, 8)},
		{midi.NoteOn(9, 38, 29), 9, nil}, // crosstalk on the snare pad
		{midi.NoteOn(9, 38, 30), 10, drum("snare", 38, 127, 10, 10)},
	})
}

func TestInputRetrigger(t *testing.T) {
	run(t, newInput(t, mapping.DefaultInputRule()), []step{
		{midi.NoteOn(0, 60, 80), 100, piano("C4", 60, 80, 1, 100, 0)},
		{midi.NoteOn(0, 60, 90), 150, piano("C4", 60, 90, 1, 150, 0)},
		{midi.NoteOff(0, 60), 200, piano("C4", 60, 0, 1, 200, 50)},
		{midi.NoteOn(0, 61, 80), 300, piano("C#4", 61, 80, 1, 300, 0)},
		{midi.NoteOff(0, 61), 299, piano("C#4", 61, 0, 1, 299, 0)}, // clock went back
	})
}

func TestInputControllers(t *testing.T) {
	r := mapping.DefaultInputRule()
	r.Controllers = []int{1, 64, 127}
	run(t, newInput(t, r), []step{
		{midi.ControlChange(2, 1, 30), 1, cc(1, 30, 3, 1)},
		{midi.ControlChange(2, 127, 0), 1, cc(127, 0, 3, 1)},
		{midi.ControlChange(2, 7, 100), 1, nil},
	})
	r.Controllers = nil // means [64]
	run(t, newInput(t, r), []step{
		{midi.ControlChange(0, 64, 127), 1, cc(64, 127, 1, 1)},
		{midi.ControlChange(0, 1, 30), 1, nil},
	})
}

func TestInputRelease(t *testing.T) {
	r := mapping.DefaultInputRule()
	r.Transpose = 1
	r.MinVelocity = 5
	r.Controllers = []int{64, 67, 1}
	in := newInput(t, r)
	for _, s := range []step{
		{msg: midi.NoteOn(1, 64, 80), now: 100},
		{msg: midi.NoteOn(0, 60, 80), now: 200},
		{msg: midi.NoteOn(0, 62, 80), now: 300},
		{msg: midi.NoteOff(0, 62), now: 350},
		{msg: midi.NoteOn(0, 65, 2), now: 360}, // too soft
		{msg: midi.NoteOn(9, 36, 80), now: 400},
		{msg: midi.ControlChange(0, 64, 127), now: 410},
		{msg: midi.ControlChange(0, 67, 127), now: 420},
		{msg: midi.ControlChange(0, 67, 10), now: 430},
		{msg: midi.ControlChange(1, 64, 100), now: 440},
		{msg: midi.ControlChange(0, 1, 100), now: 450},
	} {
		in.FromMIDI(s.msg, s.now)
	}
	got := in.Release(1000)
	want := []mapping.Event{
		*piano("C#4", 61, 0, 1, 1000, 800),
		*piano("F4", 65, 0, 2, 1000, 900),
		*cc(64, 0, 1, 1000),
		*cc(64, 0, 2, 1000),
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Release:\n got %+v\nwant %+v", got, want)
	}
	if got := in.Release(1001); got != nil {
		t.Errorf("second Release = %+v, want nil", got)
	}
	run(t, in, []step{
		{midi.NoteOff(0, 60), 1100, piano("C#4", 61, 0, 1, 1100, 0)}, // forgotten
		{midi.NoteOff(0, 65), 1100, piano("F#4", 66, 0, 1, 1100, 0)}, // no longer suppressed
	})
}

func TestInputKeepsOwnRule(t *testing.T) {
	r := mapping.DefaultInputRule()
	r.Channels = []int{1}
	in := newInput(t, r)
	r.Channels[0] = 2
	run(t, in, []step{{midi.NoteOn(0, 60, 80), 1, piano("C4", 60, 80, 1, 1, 0)}})
}

// FuzzFromMIDI feeds arbitrary bytes as messages: no panic, and every
// event is one Payload accepts.
func FuzzFromMIDI(f *testing.F) {
	for _, m := range []midi.Message{
		midi.NoteOn(9, 38, 100), midi.NoteOn(0, 60, 80), midi.NoteOff(0, 60), midi.NoteOn(0, 60, 0),
		midi.ControlChange(0, 64, 127), midi.Pitchbend(0, 100), midi.TimingClock(), {0x90}, {},
	} {
		f.Add([]byte(m), uint8(0))
	}
	f.Fuzz(func(t *testing.T, b []byte, role uint8) {
		r := mapping.DefaultInputRule()
		r.Role, r.Transpose, r.MinVelocity = mapping.Role(role%3), int(role%25)-12, int(role%7)
		r.Controllers = []int{1, 64, 66}
		in := newInput(t, r)
		for i := 0; i < len(b); i += 3 {
			msg := midi.Message(b[i:min(i+3, len(b))])
			if e, ok := in.FromMIDI(msg, float64(i)); ok {
				if _, err := e.Payload(); err != nil {
					t.Fatalf("FromMIDI(% x) = %+v, whose Payload fails: %v", []byte(msg), e, err)
				}
			}
		}
		for _, e := range in.Release(float64(len(b))) {
			if _, err := e.Payload(); err != nil || (e.Velocity != 0 || e.Value != 0) {
				t.Fatalf("Release gave %+v (payload error %v)", e, err)
			}
		}
	})
}

func BenchmarkFromMIDI(b *testing.B) {
	in := newInput(b, mapping.DefaultInputRule())
	msgs := []midi.Message{midi.NoteOn(0, 60, 80), midi.NoteOn(9, 38, 100), midi.NoteOff(0, 60), midi.ControlChange(0, 64, 127)}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, ok := in.FromMIDI(msgs[i%len(msgs)], float64(i)); !ok {
			b.Fatal("no event")
		}
	}
}
