package mapping

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"gitlab.com/gomidi/midi/v2"
)

// defaultKeysChannel is where piano notes without a channel hint play.
const defaultKeysChannel = 1

// OutputRule says how events play on one output port (a synth). Channels
// are 1-16 as on the wire; zero fields take the defaults below, so the
// zero OutputRule equals DefaultOutputRule.
type OutputRule struct {
	// DrumChannel plays every drum_hit, whatever its channel hint; 0
	// means 10.
	DrumChannel int
	// KeysChannel plays piano_note and control_change events that have
	// no channel hint; 0 means 1.
	KeysChannel int
	// DrumMap overrides the key of drum hits, for kits that are not
	// General MIDI. A name is a drum name or an alias ("hihat": 22 plays
	// every closed hi-hat, named so or sent as key 42, on 22), a note
	// name ("F#1": 22), or any other name a sender may use verbatim
	// ("cowbell_2": 69, matched without regard to case).
	DrumMap map[string]int
	// Transpose shifts piano notes by semitones (-127 to 127); drums are
	// never transposed.
	Transpose int
}

// DefaultOutputRule plays General MIDI: drums on channel 10, piano notes
// on their hinted channel or 1.
func DefaultOutputRule() OutputRule {
	return OutputRule{DrumChannel: defaultDrumChannel, KeysChannel: defaultKeysChannel}
}

// Validate reports a field out of range, or two DrumMap names for the
// same key with different targets (which would make ToMIDI pick either),
// as a *FieldError naming the field as config files spell it. A zero
// channel is the default.
func (r OutputRule) Validate() error {
	checks := []rangeCheck{
		{"drum-channel", "", nonZero(r.DrumChannel), 1, 16},
		{"keys-channel", "", nonZero(r.KeysChannel), 1, 16},
		{"transpose", "", []int{r.Transpose}, -maxKey, maxKey},
	}
	byKey := map[int]string{}
	for _, name := range slices.Sorted(maps.Keys(r.DrumMap)) {
		checks = append(checks, rangeCheck{"drum-map", name + ": ", []int{r.DrumMap[name]}, 0, maxKey})
		key, ok := ResolveDrum(name)
		if !ok {
			continue
		}
		if other, dup := byKey[key]; dup && r.DrumMap[other] != r.DrumMap[name] {
			return &FieldError{"drum-map", fmt.Sprintf("%s and %s both mean key %d: keep one", other, name, key)}
		}
		byKey[key] = name
	}
	for _, c := range checks {
		if err := c.check(); err != nil {
			return err
		}
	}
	return nil
}

// nonZero is v to check, or nothing when v is 0 (the default).
func nonZero(v int) []int {
	if v == 0 {
		return nil
	}
	return []int{v}
}

// ToMIDI returns the messages that play e:
//
//	drum_hit           a note-on on DrumChannel, key from DrumMap or MIDI
//	piano_note > 0     a note-on on the event's channel, else KeysChannel
//	piano_note 0       the matching note-off
//	control_change     the controller, on the event's channel or KeysChannel
//	pattern_change     no messages and no error
//
// ToMIDI never ends a drum hit: drums have no release on the wire, and a
// synth that wants a note-off should get it from the caller a short time
// later, made by NoteOff. A piano note-on with a Duration (some web
// clients send one instead of a release) is likewise ended by the caller.
//
// Errors wrap ErrBadPayload or ErrUnknownEvent for an event Payload would
// refuse, and ErrOutOfRange for a key transposed out of 0-127 or a rule
// channel or DrumMap key out of range.
func (r OutputRule) ToMIDI(e Event) ([]midi.Message, error) {
	if err := e.validate(); err != nil {
		return nil, fmt.Errorf("play %q: %w", clip(string(e.Kind)), err)
	}
	switch e.Kind {
	case DrumHit, PianoNote:
		ch, key, err := r.target(e)
		if err != nil {
			return nil, err
		}
		if e.Velocity == 0 {
			return []midi.Message{midi.NoteOff(ch, key)}, nil
		}
		return []midi.Message{midi.NoteOn(ch, key, uint8(e.Velocity))}, nil
	case ControlChange:
		ch, err := channelOr(e.Channel, r.KeysChannel, defaultKeysChannel)
		if err != nil {
			return nil, fmt.Errorf("play control_change: %w", err)
		}
		return []midi.Message{midi.ControlChange(ch, uint8(e.Controller), uint8(e.Value))}, nil
	}
	return nil, nil // pattern_change: nothing to play
}

// NoteOff returns the note-off that ends what ToMIDI played for a drum_hit
// or piano_note: same channel, same key. Callers use it to end drum hits
// after a short gate and to release the notes of a participant who left.
// Other kinds give an error wrapping ErrUnknownEvent.
func (r OutputRule) NoteOff(e Event) (midi.Message, error) {
	if e.Kind != DrumHit && e.Kind != PianoNote {
		return nil, fmt.Errorf("note-off for %q: %w", clip(string(e.Kind)), ErrUnknownEvent)
	}
	if err := inRange("midi", e.MIDI, minKey, maxKey); err != nil {
		return nil, fmt.Errorf("note-off for %s: %w", e.Kind, err)
	}
	if err := checkChannel(e.Channel); err != nil {
		return nil, fmt.Errorf("note-off for %s: %w", e.Kind, err)
	}
	ch, key, err := r.target(e)
	if err != nil {
		return nil, err
	}
	return midi.NoteOff(ch, key), nil
}

// target is the gomidi channel (0-15) and key a note event plays on.
func (r OutputRule) target(e Event) (ch, key uint8, err error) {
	k := e.MIDI
	if e.Kind == DrumHit {
		ch, err = channelOr(0, r.DrumChannel, defaultDrumChannel)
		k = r.drumKey(e)
	} else {
		ch, err = channelOr(e.Channel, r.KeysChannel, defaultKeysChannel)
		k += r.Transpose
	}
	if err == nil && (k < minKey || k > maxKey) {
		err = fmt.Errorf("key %d: %w", k, ErrOutOfRange)
	}
	if err != nil {
		return 0, 0, fmt.Errorf("play %s %s: %w", e.Kind, clip(e.Note), err)
	}
	return ch, uint8(k), nil
}

// drumKey applies DrumMap: the note as sent (exactly, then in lower case),
// then any name that means the event's key.
func (r OutputRule) drumKey(e Event) int {
	if len(r.DrumMap) == 0 {
		return e.MIDI
	}
	if k, ok := r.DrumMap[e.Note]; ok {
		return k
	}
	if k, ok := r.DrumMap[strings.ToLower(e.Note)]; ok {
		return k
	}
	for name, k := range r.DrumMap {
		if strings.EqualFold(name, e.Note) {
			return k
		}
		if key, ok := ResolveDrum(name); ok && key == e.MIDI {
			return k
		}
	}
	return e.MIDI
}

// channelOr picks the hinted channel, else the rule's, else the default,
// and converts it to gomidi's 0-15.
func channelOr(hint, rule, def int) (uint8, error) {
	ch := def
	switch {
	case hint != 0:
		ch = hint
	case rule != 0:
		ch = rule
	}
	if ch < 1 || ch > 16 {
		return 0, fmt.Errorf("channel %d: %w", ch, ErrOutOfRange)
	}
	return uint8(ch - 1), nil
}
