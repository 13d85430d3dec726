package mapping_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/jambridge/jambridge/mapping"
	"gitlab.com/gomidi/midi/v2"
)

func TestToMIDI(t *testing.T) {
	gm := mapping.DefaultOutputRule()
	custom := mapping.OutputRule{
		DrumChannel: 11, KeysChannel: 3, Transpose: -12,
		DrumMap: map[string]int{"hihat": 22, "F#1": 26, "Cowbell_2": 80, "snare": 40},
	}
	for _, tt := range []struct {
		name string
		r    mapping.OutputRule
		e    mapping.Event
		want []midi.Message
	}{
		{"drum", gm, *drum("snare", 38, 100, 10, 0), []midi.Message{midi.NoteOn(9, 38, 100)}},
		{"drum hint channel ignored", gm, *drum("kick", 36, 90, 3, 0), []midi.Message{midi.NoteOn(9, 36, 90)}},
		{"drum no channel", gm, *drum("C4", 60, 90, 0, 0), []midi.Message{midi.NoteOn(9, 60, 90)}},
		{"drum zero rule", mapping.OutputRule{}, *drum("snare", 38, 100, 0, 0), []midi.Message{midi.NoteOn(9, 38, 100)}},
		{"drum map by alias of key", custom, *drum("hihat_closed", 42, 64, 10, 0), []midi.Message{midi.NoteOn(10, 22, 64)}},
		{"drum map by name sent", custom, *drum("HiHat", 42, 64, 10, 0), []midi.Message{midi.NoteOn(10, 22, 64)}},
		{"drum map by note name", custom, *drum("tom_floor_low", 30, 64, 10, 0), []midi.Message{midi.NoteOn(10, 26, 64)}},
		{"drum map custom name", custom, *drum("cowbell_2", 56, 64, 10, 0), []midi.Message{midi.NoteOn(10, 80, 64)}},
		{"drum map miss", custom, *drum("kick", 36, 64, 10, 0), []midi.Message{midi.NoteOn(10, 36, 64)}},
		{"drum not transposed", custom, *drum("snare", 38, 64, 10, 0), []midi.Message{midi.NoteOn(10, 40, 64)}},
		{"piano on hint", gm, *piano("D#5", 75, 70, 4, 0, 0), []midi.Message{midi.NoteOn(3, 75, 70)}},
		{"piano no hint", gm, *piano("C4", 60, 70, 0, 0, 0), []midi.Message{midi.NoteOn(0, 60, 70)}},
		{"piano keys channel", custom, *piano("C4", 60, 70, 0, 0, 0), []midi.Message{midi.NoteOn(2, 48, 70)}},
		{"piano release", gm, *piano("C4", 60, 0, 2, 0, 300), []midi.Message{midi.NoteOff(1, 60)}},
		{"piano release transposed", custom, *piano("C4", 60, 0, 2, 0, 300), []midi.Message{midi.NoteOff(1, 48)}},
		{"control", gm, *cc(64, 127, 5, 0), []midi.Message{midi.ControlChange(4, 64, 127)}},
		{"control no channel", custom, *cc(64, 0, 0, 0), []midi.Message{midi.ControlChange(2, 64, 0)}},
		{"pattern", gm, mapping.Event{Kind: mapping.PatternChange, PatternID: "a", BPM: 120}, nil},
	} {
		got, err := tt.r.ToMIDI(tt.e)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: ToMIDI(%+v) = %v, %v; want %v", tt.name, tt.e, got, err, tt.want)
		}
	}
}

func TestToMIDIErrors(t *testing.T) {
	gm := mapping.DefaultOutputRule()
	for _, tt := range []struct {
		name string
		r    mapping.OutputRule
		e    mapping.Event
		want error
	}{
		{"unknown kind", gm, mapping.Event{Kind: "chord"}, mapping.ErrUnknownEvent},
		{"drum velocity 0", gm, *drum("kick", 36, 0, 10, 0), mapping.ErrBadPayload},
		{"midi 128", gm, *piano("C4", 128, 10, 1, 0, 0), mapping.ErrBadPayload},
		{"velocity 128", gm, *piano("C4", 60, 128, 1, 0, 0), mapping.ErrBadPayload},
		{"channel 17", gm, *piano("C4", 60, 1, 17, 0, 0), mapping.ErrBadPayload},
		{"controller", gm, *cc(128, 1, 1, 0), mapping.ErrBadPayload},
		{"transposed up", mapping.OutputRule{Transpose: 10}, *piano("G9", 127, 1, 1, 0, 0), mapping.ErrOutOfRange},
		{"transposed down", mapping.OutputRule{Transpose: -1}, *piano("C-1", 0, 0, 1, 0, 0), mapping.ErrOutOfRange},
		{"rule drum channel", mapping.OutputRule{DrumChannel: 17}, *drum("kick", 36, 1, 0, 0), mapping.ErrOutOfRange},
		{"rule keys channel", mapping.OutputRule{KeysChannel: -1}, *cc(64, 1, 0, 0), mapping.ErrOutOfRange},
		{"drum map", mapping.OutputRule{DrumMap: map[string]int{"kick": 200}}, *drum("kick", 36, 1, 0, 0), mapping.ErrOutOfRange},
	} {
		got, err := tt.r.ToMIDI(tt.e)
		if !errors.Is(err, tt.want) {
			t.Errorf("%s: ToMIDI(%+v) = %v, %v; want an error wrapping %v", tt.name, tt.e, got, err, tt.want)
		}
	}
}

func TestNoteOff(t *testing.T) {
	r := mapping.OutputRule{Transpose: 2, DrumMap: map[string]int{"snare": 40}}
	for _, tt := range []struct {
		e    mapping.Event
		want midi.Message
	}{
		{*drum("snare", 38, 100, 4, 0), midi.NoteOff(9, 40)},
		{*piano("C4", 60, 100, 4, 0, 0), midi.NoteOff(3, 62)},
		{*piano("C4", 60, 0, 0, 0, 0), midi.NoteOff(0, 62)},
	} {
		got, err := r.NoteOff(tt.e)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("NoteOff(%+v) = %v, %v; want %v", tt.e, got, err, tt.want)
		}
	}
	if _, err := r.NoteOff(*cc(64, 0, 1, 0)); !errors.Is(err, mapping.ErrUnknownEvent) {
		t.Errorf("NoteOff(control_change) error %v, want ErrUnknownEvent", err)
	}
	if _, err := r.NoteOff(*piano("G9", 127, 0, 0, 0, 0)); !errors.Is(err, mapping.ErrOutOfRange) {
		t.Errorf("NoteOff(G9 + 2) error %v, want ErrOutOfRange", err)
	}
	if _, err := r.NoteOff(*piano("x", -1, 0, 0, 0, 0)); !errors.Is(err, mapping.ErrBadPayload) {
		t.Errorf("NoteOff(midi -1) error %v, want ErrBadPayload", err)
	}
}

func TestOutputRuleValidate(t *testing.T) {
	for _, tt := range []struct {
		r    mapping.OutputRule
		want string
	}{
		{mapping.DefaultOutputRule(), ""},
		{mapping.OutputRule{}, ""},
		{mapping.OutputRule{DrumMap: map[string]int{"hihat": 22, "hihat_closed": 22, "weird": 1}}, ""},
		{mapping.OutputRule{DrumChannel: 17}, "drum-channel: 17 is not in 1-16"},
		{mapping.OutputRule{KeysChannel: -1}, "keys-channel: -1 is not in 1-16"},
		{mapping.OutputRule{Transpose: -128}, "transpose: -128 is not between -127 and 127"},
		{mapping.OutputRule{DrumMap: map[string]int{"kick": 128}}, "drum-map: kick: 128 is not in 0-127"},
		{mapping.OutputRule{DrumMap: map[string]int{"hihat": 22, "hihat_closed": 23}}, "drum-map: hihat and hihat_closed both mean key 42: keep one"},
		{mapping.OutputRule{DrumMap: map[string]int{"kick": 1, "C2": 2}}, "drum-map: C2 and kick both mean key 36: keep one"},
	} {
		err := tt.r.Validate()
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("Validate(%+v) = %v", tt.r, err)
		case tt.want != "" && (err == nil || err.Error() != tt.want):
			t.Errorf("Validate(%+v) = %v, want %q", tt.r, err, tt.want)
		case err != nil && !errors.As(err, new(*mapping.FieldError)):
			t.Errorf("Validate(%+v) = %T, want a *mapping.FieldError", tt.r, err)
		}
	}
}

// TestInputToOutput plays a MIDI stream through an Input, the wire and an
// OutputRule, and checks the synth hears what was played.
func TestInputToOutput(t *testing.T) {
	in := newInput(t, mapping.DefaultInputRule())
	out := mapping.DefaultOutputRule()
	played := []midi.Message{
		midi.NoteOn(9, 38, 100), midi.NoteOn(0, 60, 80), midi.ControlChange(0, 64, 127),
		midi.NoteOn(0, 60, 0), midi.NoteOff(2, 61), midi.ControlChange(0, 64, 0),
	}
	want := []midi.Message{
		midi.NoteOn(9, 38, 100), midi.NoteOn(0, 60, 80), midi.ControlChange(0, 64, 127),
		midi.NoteOff(0, 60), midi.NoteOff(2, 61), midi.ControlChange(0, 64, 0),
	}
	var heard []midi.Message
	for i, msg := range played {
		e, ok := in.FromMIDI(msg, float64(i))
		if !ok {
			t.Fatalf("FromMIDI(%v): no event", msg)
		}
		payload, err := e.Payload()
		if err != nil {
			t.Fatal(err)
		}
		got, err := mapping.ParseEvent(string(e.Kind), payload)
		if err != nil {
			t.Fatal(err)
		}
		msgs, err := out.ToMIDI(got)
		if err != nil {
			t.Fatal(err)
		}
		heard = append(heard, msgs...)
	}
	if !reflect.DeepEqual(heard, want) {
		t.Errorf("heard %v, want %v", heard, want)
	}
}

func BenchmarkToMIDI(b *testing.B) {
	r := mapping.DefaultOutputRule()
	evs := []mapping.Event{*drum("snare", 38, 100, 10, 0), *piano("C4", 60, 80, 1, 0, 0), *piano("C4", 60, 0, 1, 0, 100), *cc(64, 127, 1, 0)}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := r.ToMIDI(evs[i%len(evs)]); err != nil {
			b.Fatal(err)
		}
	}
}
