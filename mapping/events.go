package mapping

import (
	"errors"
	"fmt"
	"math"
)

// Kind is a musical event's eventName on the wire.
type Kind string

// The musical events of PROTOCOL.md.
const (
	DrumHit       Kind = "drum_hit"
	PianoNote     Kind = "piano_note"
	ControlChange Kind = "control_change"
	PatternChange Kind = "pattern_change"
)

// Sentinel errors; the errors of this package wrap them with context.
var (
	// ErrUnknownEvent: an event name (or Kind) this package does not know.
	// Receivers ignore such events.
	ErrUnknownEvent = errors.New("unknown event")
	// ErrUnknownNote: a note that is neither a drum name nor a note name
	// (for piano_note: not a note name), or a note name outside 0-127.
	ErrUnknownNote = errors.New("unknown note")
	// ErrBadPayload: a payload (or Event) that breaks PROTOCOL.md: not a
	// JSON object, a missing or mistyped field, a value out of range.
	ErrBadPayload = errors.New("bad payload")
	// ErrOutOfRange: ToMIDI was asked for a key outside 0-127 (after the
	// output rule's transposition) or a velocity, channel or controller
	// outside its MIDI range.
	ErrOutOfRange = errors.New("out of midi range")
)

// Event is one musical event, the decoded payload of PROTOCOL.md's
// "Musical events". Which fields mean something depends on Kind:
//
//	DrumHit        Note, MIDI, Velocity (1-127), Channel, Timestamp
//	PianoNote      Note, MIDI, Velocity (0-127, 0 releases), Channel, Timestamp, Duration
//	ControlChange  Controller, Value, Channel, Timestamp
//	PatternChange  PatternID, BPM, Timestamp
//
// MIDI is the key the event plays, and is authoritative: FromMIDI and
// ParseEvent always set it (ParseEvent resolves it from Note when the
// payload has no midi field), and ToMIDI plays it. Note is the name as
// sent or received, kept verbatim ("Snare", "eb3"); Payload fills an empty
// Note from MIDI.
type Event struct {
	Kind       Kind
	Note       string  // drum name or note name
	MIDI       int     // key, 0-127
	Velocity   int     // 0-127
	Channel    int     // 1-16 on the wire; 0 = none given
	Controller int     // 0-127
	Value      int     // 0-127
	Timestamp  float64 // unix ms, relay time when the clock is synchronised
	Duration   float64 // ms a released piano note was held; 0 = none
	PatternID  string
	BPM        float64 // 0 = none given
}

// validate checks the fields of e that Kind gives a meaning to, except
// Note (required on the wire, filled from MIDI by Payload). It is the
// rule shared by Payload, ParseEvent and ToMIDI. Errors wrap ErrBadPayload
// or ErrUnknownEvent.
func (e Event) validate() error {
	if err := nonNegative("timestamp", e.Timestamp); err != nil {
		return err
	}
	switch e.Kind {
	case DrumHit:
		return checkNote(e, 1)
	case PianoNote:
		if err := nonNegative("duration", e.Duration); err != nil {
			return err
		}
		return checkNote(e, 0)
	case ControlChange:
		if err := inRange("controller", e.Controller, 0, maxKey); err != nil {
			return err
		}
		if err := inRange("value", e.Value, 0, maxKey); err != nil {
			return err
		}
		return checkChannel(e.Channel)
	case PatternChange:
		if e.PatternID == "" {
			return fmt.Errorf("patternId is empty: %w", ErrBadPayload)
		}
		return nonNegative("bpm", e.BPM)
	default:
		return ErrUnknownEvent
	}
}

// checkNote checks a note event's velocity (minVel-127), key and channel.
func checkNote(e Event, minVel int) error {
	if err := inRange("velocity", e.Velocity, minVel, maxKey); err != nil {
		return err
	}
	if err := inRange("midi", e.MIDI, minKey, maxKey); err != nil {
		return err
	}
	return checkChannel(e.Channel)
}

// checkChannel accepts 1-16, and 0 for "no channel given".
func checkChannel(ch int) error {
	if ch == 0 {
		return nil
	}
	return inRange("channel", ch, 1, 16)
}

func inRange(field string, v, lo, hi int) error {
	if v < lo || v > hi {
		return fmt.Errorf("%s %d not in %d-%d: %w", field, v, lo, hi, ErrBadPayload)
	}
	return nil
}

func nonNegative(field string, v float64) error {
	if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
		return fmt.Errorf("%s %v is not a finite number >= 0: %w", field, v, ErrBadPayload)
	}
	return nil
}
