package mapping

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
)

// noteJSON is the payload of drum_hit and piano_note, fields in the
// order of PROTOCOL.md. Duration is only ever set for piano_note.
type noteJSON struct {
	Note      string  `json:"note"`
	Velocity  int     `json:"velocity"`
	Timestamp float64 `json:"timestamp"`
	Duration  float64 `json:"duration,omitempty"`
	MIDI      int     `json:"midi"`
	Channel   int     `json:"channel,omitempty"`
}

type controlJSON struct {
	Controller int     `json:"controller"`
	Value      int     `json:"value"`
	Channel    int     `json:"channel,omitempty"`
	Timestamp  float64 `json:"timestamp"`
}

type patternJSON struct {
	PatternID string  `json:"patternId"`
	BPM       float64 `json:"bpm,omitempty"`
	Timestamp float64 `json:"timestamp"`
}

// Payload encodes e as the JSON payload of its Kind's event, with the
// fields of PROTOCOL.md: drum_hit {note, velocity, timestamp, midi,
// channel}, piano_note {note, velocity, timestamp, duration, midi,
// channel}, control_change {controller, value, channel, timestamp} and
// pattern_change {patternId, bpm, timestamp}. Zero Duration, BPM and
// Channel are left out; midi and timestamp are always written. An empty
// Note is filled from MIDI (the drum name, else the note name).
//
// Payload refuses what ParseEvent would refuse: the error wraps
// ErrBadPayload, or ErrUnknownEvent for a Kind it does not know.
func (e Event) Payload() ([]byte, error) {
	if e.Note == "" && (e.Kind == DrumHit || e.Kind == PianoNote) {
		e.Note = noteLabel(e.Kind, e.MIDI)
	}
	if err := e.validate(); err != nil {
		return nil, fmt.Errorf("encode %q: %w", clip(string(e.Kind)), err)
	}
	var v any
	switch e.Kind {
	case DrumHit, PianoNote:
		p := noteJSON{Note: e.Note, Velocity: e.Velocity, Timestamp: e.Timestamp, MIDI: e.MIDI, Channel: e.Channel}
		if e.Kind == PianoNote {
			p.Duration = e.Duration
		}
		v = p
	case ControlChange:
		v = controlJSON{Controller: e.Controller, Value: e.Value, Channel: e.Channel, Timestamp: e.Timestamp}
	case PatternChange:
		v = patternJSON{PatternID: e.PatternID, BPM: e.BPM, Timestamp: e.Timestamp}
	}
	return json.Marshal(v)
}

// noteLabel is the note name Payload and FromMIDI give a key.
func noteLabel(k Kind, key int) string {
	if k == DrumHit {
		return drumLabel(key)
	}
	return NoteName(key)
}

// The decoded forms of the payloads: a nil field was absent (or null).
type (
	drumWire struct {
		Note      *string  `json:"note"`
		Velocity  *float64 `json:"velocity"`
		Timestamp *float64 `json:"timestamp"`
		MIDI      *float64 `json:"midi"`
		Channel   *float64 `json:"channel"`
	}
	pianoWire struct {
		drumWire
		Duration *float64 `json:"duration"`
	}
	controlWire struct {
		Controller *float64 `json:"controller"`
		Value      *float64 `json:"value"`
		Channel    *float64 `json:"channel"`
		Timestamp  *float64 `json:"timestamp"`
	}
	patternWire struct {
		PatternID *string  `json:"patternId"`
		BPM       *float64 `json:"bpm"`
		Timestamp *float64 `json:"timestamp"`
	}
)

// ParseEvent decodes and validates the payload of a musical event.
//
// Fields follow PROTOCOL.md; unknown fields are ignored and a null field
// counts as absent. Numbers that are MIDI values must be whole. note and
// velocity (drum_hit 1-127, piano_note 0-127), controller and value, and
// patternId are required; timestamp, duration, bpm, midi and channel are
// optional. When midi is absent it is resolved from note: for drum_hit a
// drum name or a note name (ResolveDrum), for piano_note a note name;
// when that fails the error wraps ErrUnknownNote. A present channel must
// be 1-16; an absent one leaves Channel 0.
//
// Errors wrap ErrUnknownEvent for an event name that is not a musical
// event, ErrUnknownNote, or ErrBadPayload for everything else.
func ParseEvent(eventName string, payload []byte) (Event, error) {
	var (
		e   Event
		err error
	)
	switch k := Kind(eventName); k {
	case DrumHit:
		var w drumWire
		if err = decode(payload, &w); err == nil {
			e, err = w.event(k, nil)
		}
	case PianoNote:
		var w pianoWire
		if err = decode(payload, &w); err == nil {
			e, err = w.event(k, w.Duration)
		}
	case ControlChange:
		e, err = parseControl(payload)
	case PatternChange:
		e, err = parsePattern(payload)
	default:
		return Event{}, fmt.Errorf("event %q: %w", clip(eventName), ErrUnknownEvent)
	}
	if err == nil {
		err = e.validate()
	}
	if err != nil {
		return Event{}, fmt.Errorf("parse %s: %w", eventName, err)
	}
	return e, nil
}

// decode unmarshals a payload into one of the wire structs. Type errors
// are told in the protocol's words, not in the wire structs' Go names.
func decode(payload []byte, v any) error {
	err := json.Unmarshal(payload, v)
	var te *json.UnmarshalTypeError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &te) && te.Field == "":
		return fmt.Errorf("payload is a json %s, not an object: %w", te.Value, ErrBadPayload)
	case errors.As(err, &te):
		want := "a number"
		if te.Type.Kind() == reflect.String {
			want = "a string"
		}
		field := te.Field[strings.LastIndexByte(te.Field, '.')+1:] // drop "drumWire."
		return fmt.Errorf("%s is a json %s, not %s: %w", field, te.Value, want, ErrBadPayload)
	}
	return fmt.Errorf("%w: %w", ErrBadPayload, err)
}

// event builds a drum_hit or piano_note from w and the piano's duration.
func (w drumWire) event(k Kind, duration *float64) (Event, error) {
	e := Event{Kind: k}
	if w.Note == nil || *w.Note == "" {
		return e, fmt.Errorf("note missing: %w", ErrBadPayload)
	}
	e.Note = *w.Note
	if w.Velocity == nil {
		return e, fmt.Errorf("velocity missing: %w", ErrBadPayload)
	}
	var err error
	e.Velocity, err = wholeNumber("velocity", *w.Velocity)
	if err != nil {
		return e, err
	}
	if e.Channel, err = channel(w.Channel); err != nil {
		return e, err
	}
	e.Timestamp, e.Duration = orZero(w.Timestamp), orZero(duration)
	if w.MIDI != nil {
		e.MIDI, err = wholeNumber("midi", *w.MIDI)
		return e, err
	}
	e.MIDI, err = resolveNote(k, e.Note)
	return e, err
}

// resolveNote finds the key of a note that came without a midi hint.
func resolveNote(k Kind, note string) (int, error) {
	if k == PianoNote {
		return ParseNote(note)
	}
	if key, ok := ResolveDrum(note); ok {
		return key, nil
	}
	return 0, fmt.Errorf("drum %q: %w", clip(note), ErrUnknownNote)
}

func parseControl(payload []byte) (Event, error) {
	var w controlWire
	if err := decode(payload, &w); err != nil {
		return Event{}, err
	}
	if w.Controller == nil || w.Value == nil {
		return Event{}, fmt.Errorf("controller or value missing: %w", ErrBadPayload)
	}
	e := Event{Kind: ControlChange, Timestamp: orZero(w.Timestamp)}
	var err error
	if e.Controller, err = wholeNumber("controller", *w.Controller); err != nil {
		return e, err
	}
	if e.Value, err = wholeNumber("value", *w.Value); err != nil {
		return e, err
	}
	e.Channel, err = channel(w.Channel)
	return e, err
}

func parsePattern(payload []byte) (Event, error) {
	var w patternWire
	if err := decode(payload, &w); err != nil {
		return Event{}, err
	}
	if w.PatternID == nil || *w.PatternID == "" {
		return Event{}, fmt.Errorf("patternId missing: %w", ErrBadPayload)
	}
	e := Event{Kind: PatternChange, PatternID: *w.PatternID, Timestamp: orZero(w.Timestamp)}
	if w.BPM != nil && !(*w.BPM > 0) {
		return e, fmt.Errorf("bpm %v is not > 0: %w", *w.BPM, ErrBadPayload)
	}
	e.BPM = orZero(w.BPM)
	return e, nil
}

// channel decodes an optional channel: absent is 0, present is 1-16.
func channel(p *float64) (int, error) {
	if p == nil {
		return 0, nil
	}
	ch, err := wholeNumber("channel", *p)
	if err != nil {
		return 0, err
	}
	return ch, inRange("channel", ch, 1, 16)
}

// wholeNumber converts a JSON number that must be a whole number. Ranges
// are checked by Event.validate.
func wholeNumber(field string, v float64) (int, error) {
	if v != math.Trunc(v) || math.Abs(v) > math.MaxInt32 {
		return 0, fmt.Errorf("%s %v is not a whole number in range: %w", field, v, ErrBadPayload)
	}
	return int(v), nil
}

func orZero(p *float64) float64 {
	if p == nil {
		return 0
	}
	return *p
}

// clip shortens s for an error message; payloads may carry 16 KiB.
func clip(s string) string {
	const clipLen = 40
	if len(s) <= clipLen {
		return s
	}
	return s[:clipLen] + "..."
}
