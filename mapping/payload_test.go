package mapping_test

import (
	"errors"
	"testing"

	"github.com/jambridge/jambridge/mapping"
)

func TestPayload(t *testing.T) {
	for _, tt := range []struct {
		e    mapping.Event
		want string
	}{
		{*drum("snare", 38, 100, 10, 1634567890123),
			`{"note":"snare","velocity":100,"timestamp":1634567890123,"midi":38,"channel":10}`},
		{*drum("", 36, 1, 0, 0.5), `{"note":"kick","velocity":1,"timestamp":0.5,"midi":36}`},
		{*drum("", 30, 1, 0, 0), `{"note":"F#1","velocity":1,"timestamp":0,"midi":30}`},
		{mapping.Event{Kind: mapping.DrumHit, Note: "kick", MIDI: 36, Velocity: 9, Duration: 5},
			`{"note":"kick","velocity":9,"timestamp":0,"midi":36}`},
		{*piano("D#5", 75, 80, 1, 1700000000000.25, 0),
			`{"note":"D#5","velocity":80,"timestamp":1700000000000.25,"midi":75,"channel":1}`},
		{*piano("C4", 60, 0, 1, 2000, 250.5),
			`{"note":"C4","velocity":0,"timestamp":2000,"duration":250.5,"midi":60,"channel":1}`},
		{*piano("", 0, 0, 0, 0, 0), `{"note":"C-1","velocity":0,"timestamp":0,"midi":0}`},
		{*cc(64, 127, 1, 3), `{"controller":64,"value":127,"channel":1,"timestamp":3}`},
		{mapping.Event{Kind: mapping.PatternChange, PatternID: "p1", BPM: 92.5, Timestamp: 4},
			`{"patternId":"p1","bpm":92.5,"timestamp":4}`},
		{mapping.Event{Kind: mapping.PatternChange, PatternID: "<&>"},
			`{"patternId":"\u003c\u0026\u003e","timestamp":0}`},
	} {
		got, err := tt.e.Payload()
		if err != nil || string(got) != tt.want {
			t.Errorf("Payload(%+v)\n got %s, %v\nwant %s", tt.e, got, err, tt.want)
		}
	}
}

func TestPayloadErrors(t *testing.T) {
	for _, tt := range []struct {
		e    mapping.Event
		want error
	}{
		{mapping.Event{}, mapping.ErrUnknownEvent},
		{mapping.Event{Kind: "drum"}, mapping.ErrUnknownEvent},
		{*drum("kick", 36, 0, 10, 0), mapping.ErrBadPayload},
		{*drum("kick", 36, 128, 10, 0), mapping.ErrBadPayload},
		{*drum("kick", 128, 1, 10, 0), mapping.ErrBadPayload},
		{*drum("kick", 36, 1, 17, 0), mapping.ErrBadPayload},
		{*drum("kick", 36, 1, -1, 0), mapping.ErrBadPayload},
		{*drum("kick", 36, 1, 1, -1), mapping.ErrBadPayload},
		{*piano("C4", 60, -1, 1, 0, 0), mapping.ErrBadPayload},
		{*piano("C4", 60, 0, 1, 0, -5), mapping.ErrBadPayload},
		{*cc(64, 128, 1, 0), mapping.ErrBadPayload},
		{*cc(-1, 0, 1, 0), mapping.ErrBadPayload},
		{mapping.Event{Kind: mapping.PatternChange}, mapping.ErrBadPayload},
		{mapping.Event{Kind: mapping.PatternChange, PatternID: "a", BPM: -1}, mapping.ErrBadPayload},
	} {
		if got, err := tt.e.Payload(); !errors.Is(err, tt.want) {
			t.Errorf("Payload(%+v) = %s, %v; want an error wrapping %v", tt.e, got, err, tt.want)
		}
	}
}

func TestParseEvent(t *testing.T) {
	for _, tt := range []struct {
		name, payload string
		want          mapping.Event
	}{
		{"drum_hit", `{"note":"snare","velocity":100,"timestamp":1634567890123,"midi":38,"channel":10}`,
			*drum("snare", 38, 100, 10, 1634567890123)},
		{"drum_hit", `{"note":"C4","velocity":80,"timestamp":1634567890123}`, // the story's example
			*drum("C4", 60, 80, 0, 1634567890123)},
		{"drum_hit", `{"note":"Snare","velocity":1,"timestamp":1}`, *drum("Snare", 38, 1, 0, 1)},
		{"drum_hit", `{"note":"hihat","velocity":127.0,"timestamp":1}`, *drum("hihat", 42, 127, 0, 1)},
		{"drum_hit", `{"note":"kick_custom","velocity":5,"timestamp":1,"midi":36}`, *drum("kick_custom", 36, 5, 0, 1)},
		{"drum_hit", `{"note":"kick","velocity":5,"duration":"x","extra":[1,{}]}`, *drum("kick", 36, 5, 0, 0)},
		{"drum_hit", `{"note":"kick","velocity":5,"timestamp":null,"midi":null,"channel":null}`, *drum("kick", 36, 5, 0, 0)},
		{"piano_note", `{"note":"D#5","velocity":80,"timestamp":5}`, *piano("D#5", 75, 80, 0, 5, 0)},
		{"piano_note", `{"note":"eb3","velocity":0,"timestamp":5,"duration":120.5,"channel":16}`,
			*piano("eb3", 51, 0, 16, 5, 120.5)},
		{"piano_note", `{"note":"C4","velocity":90,"duration":500}`, *piano("C4", 60, 90, 0, 0, 500)},
		{"piano_note", `{"note":"anything","velocity":90,"midi":0}`, *piano("anything", 0, 90, 0, 0, 0)},
		{"control_change", `{"controller":64,"value":127,"channel":1,"timestamp":3}`, *cc(64, 127, 1, 3)},
		{"control_change", `{"controller":1,"value":0}`, *cc(1, 0, 0, 0)},
		{"pattern_change", `{"patternId":"p1","bpm":92.5,"timestamp":4}`,
			mapping.Event{Kind: mapping.PatternChange, PatternID: "p1", BPM: 92.5, Timestamp: 4}},
		{"pattern_change", `{"patternId":"p1"}`, mapping.Event{Kind: mapping.PatternChange, PatternID: "p1"}},
	} {
		got, err := mapping.ParseEvent(tt.name, []byte(tt.payload))
		if err != nil || got != tt.want {
			t.Errorf("ParseEvent(%s, %s)\n got %+v, %v\nwant %+v", tt.name, tt.payload, got, err, tt.want)
		}
	}
}

func TestParseEventErrors(t *testing.T) {
	for _, tt := range []struct {
		name, payload string
		want          error
	}{
		{"chat", `{}`, mapping.ErrUnknownEvent},
		{"Drum_hit", `{"note":"kick","velocity":5}`, mapping.ErrUnknownEvent},
		{"", `{}`, mapping.ErrUnknownEvent},
		{"drum_hit", `{"note":"kick_custom","velocity":5}`, mapping.ErrUnknownNote},
		{"drum_hit", `{"note":"C10","velocity":5}`, mapping.ErrUnknownNote},
		{"piano_note", `{"note":"snare","velocity":5}`, mapping.ErrUnknownNote},
		{"piano_note", `{"note":"G#9","velocity":5}`, mapping.ErrUnknownNote},
		{"drum_hit", ``, mapping.ErrBadPayload},
		{"drum_hit", `null`, mapping.ErrBadPayload},
		{"drum_hit", `[]`, mapping.ErrBadPayload},
		{"drum_hit", `"kick"`, mapping.ErrBadPayload},
		{"drum_hit", `{"note":"kick","velocity":5} x`, mapping.ErrBadPayload},
		{"drum_hit", `{"velocity":5}`, mapping.ErrBadPayload},
		{"drum_hit", `{"note":"","velocity":5}`, mapping.ErrBadPayload},
		{"drum_hit", `{"note":36,"velocity":5}`, mapping.ErrBadPayload},
		{"drum_hit", `{"note":"kick"}`, mapping.ErrBadPayload},
		{"drum_hit", `{"note":"kick","velocity":0}`, mapping.ErrBadPayload},
		{"drum_hit", `{"note":"kick","velocity":128}`, mapping.ErrBadPayload},
		{"drum_hit", `{"note":"kick","velocity":80.5}`, mapping.ErrBadPayload},
		{"drum_hit", `{"note":"kick","velocity":"80"}`, mapping.ErrBadPayload},
		{"drum_hit", `{"note":"kick","velocity":1e300}`, mapping.ErrBadPayload},
		{"drum_hit", `{"note":"kick","velocity":1e999}`, mapping.ErrBadPayload},
		{"drum_hit", `{"note":"kick","velocity":5,"midi":128}`, mapping.ErrBadPayload},
		{"drum_hit", `{"note":"kick","velocity":5,"midi":-1}`, mapping.ErrBadPayload},
		{"drum_hit", `{"note":"kick","velocity":5,"channel":0}`, mapping.ErrBadPayload},
		{"drum_hit", `{"note":"kick","velocity":5,"channel":17}`, mapping.ErrBadPayload},
		{"drum_hit", `{"note":"kick","velocity":5,"timestamp":-1}`, mapping.ErrBadPayload},
		{"drum_hit", `{"note":"kick","velocity":5,"timestamp":"now"}`, mapping.ErrBadPayload},
		{"piano_note", `{"note":"C4","velocity":-1}`, mapping.ErrBadPayload},
		{"piano_note", `{"note":"C4","velocity":5,"duration":-1}`, mapping.ErrBadPayload},
		{"control_change", `{"value":5,"channel":1}`, mapping.ErrBadPayload},
		{"control_change", `{"controller":64,"channel":1}`, mapping.ErrBadPayload},
		{"control_change", `{"controller":128,"value":5,"channel":1}`, mapping.ErrBadPayload},
		{"control_change", `{"controller":64,"value":128,"channel":1}`, mapping.ErrBadPayload},
		{"control_change", `{"controller":64,"value":1,"channel":0}`, mapping.ErrBadPayload},
		{"pattern_change", `{"bpm":120}`, mapping.ErrBadPayload},
		{"pattern_change", `{"patternId":""}`, mapping.ErrBadPayload},
		{"pattern_change", `{"patternId":7}`, mapping.ErrBadPayload},
		{"pattern_change", `{"patternId":"a","bpm":0}`, mapping.ErrBadPayload},
		{"pattern_change", `{"patternId":"a","bpm":-120}`, mapping.ErrBadPayload},
	} {
		got, err := mapping.ParseEvent(tt.name, []byte(tt.payload))
		if !errors.Is(err, tt.want) {
			t.Errorf("ParseEvent(%q, %s) = %+v, %v; want an error wrapping %v", tt.name, tt.payload, got, err, tt.want)
		}
		if err != nil && got != (mapping.Event{}) {
			t.Errorf("ParseEvent(%q, %s) returned %+v with its error", tt.name, tt.payload, got)
		}
	}
}

var eventSeeds = []struct{ name, payload string }{
	{"drum_hit", `{"note":"snare","velocity":100,"timestamp":1634567890123,"midi":38,"channel":10}`},
	{"drum_hit", `{"note":"C4","velocity":80,"timestamp":1634567890123}`},
	{"piano_note", `{"note":"eb3","velocity":0,"timestamp":5,"duration":120.5,"channel":16}`},
	{"piano_note", `{"note":"C4","velocity":80.0,"timestamp":-0}`},
	{"control_change", `{"controller":64,"value":127,"channel":1,"timestamp":3}`},
	{"pattern_change", `{"patternId":"p1","bpm":92.5,"timestamp":4}`},
	{"pattern_change", `{"patternId":"\ud800","PATTERNID":"x"}`},
	{"drum_hit", `{"note":"kick","velocity":5e0,"midi":1e2}`},
	{"chat", `{}`},
}

// FuzzParseEvent: no panic; errors wrap a sentinel; an accepted event
// encodes, and decodes back to itself.
func FuzzParseEvent(f *testing.F) {
	for _, s := range eventSeeds {
		f.Add(s.name, []byte(s.payload))
	}
	f.Fuzz(func(t *testing.T, name string, payload []byte) {
		e, err := mapping.ParseEvent(name, payload)
		if err != nil {
			if !errors.Is(err, mapping.ErrUnknownEvent) && !errors.Is(err, mapping.ErrUnknownNote) && !errors.Is(err, mapping.ErrBadPayload) {
				t.Fatalf("ParseEvent(%q, %q) error %v wraps no sentinel", name, payload, err)
			}
			return
		}
		if string(e.Kind) != name {
			t.Fatalf("ParseEvent(%q) gave kind %q", name, e.Kind)
		}
		again, err := e.Payload()
		if err != nil {
			t.Fatalf("ParseEvent(%q, %q) = %+v, whose Payload fails: %v", name, payload, e, err)
		}
		back, err := mapping.ParseEvent(name, again)
		if err != nil || back != e {
			t.Fatalf("round trip of %q:\n got %+v, %v\nwant %+v", again, back, err, e)
		}
		if _, err := mapping.DefaultOutputRule().ToMIDI(e); err != nil {
			t.Fatalf("ToMIDI(%+v): %v", e, err)
		}
	})
}

func BenchmarkParseEvent(b *testing.B) {
	payload := []byte(`{"note":"snare","velocity":100,"timestamp":1634567890123,"midi":38,"channel":10}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := mapping.ParseEvent("drum_hit", payload); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPayload(b *testing.B) {
	e := *drum("snare", 38, 100, 10, 1634567890123)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.Payload(); err != nil {
			b.Fatal(err)
		}
	}
}
