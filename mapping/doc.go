// Package mapping converts between MIDI messages and the musical events of
// a jam session. It is the pure core of jambridge: types and functions,
// with no I/O, no goroutines and no clock (callers pass the time in, as
// unix milliseconds), and no mutable package state.
//
// # Events
//
// An Event is one of the musical events of PROTOCOL.md, named by its Kind:
//
//	drum_hit        {note, velocity 1-127, timestamp, midi?, channel?}
//	piano_note      {note, velocity 0-127, timestamp, duration?, midi?, channel?}
//	control_change  {controller, value, channel, timestamp}
//	pattern_change  {patternId, bpm?, timestamp}
//
// A drum_hit's note is a General MIDI drum name such as "kick" (36),
// "snare" (38) or "hihat_closed" (42), see DrumName, or a note name. A
// piano_note's note is a scientific pitch name, "C4" being key 60, see
// NoteName; velocity 0 releases the note and duration says how long it
// was held. midi (the key) and channel (1-16) are hints that let a bridge
// play the exact note on the exact channel. Event.Payload encodes the JSON
// payload of an event and ParseEvent decodes and validates one.
//
// # From MIDI
//
// An Input follows an InputRule to turn the messages of one input port
// into events: notes on drum channels (or every note, for Role Drums)
// become drum_hit, other notes piano_note, and the chosen controllers
// (the sustain pedal by default) control_change. It applies a velocity
// Curve, a transposition and velocity thresholds, and remembers held
// notes so that releases carry their duration and Release can end them
// when a device disappears.
//
// # To MIDI
//
// OutputRule.ToMIDI turns an event back into messages for a synth: drums
// on the drum channel with optional key overrides, piano notes and
// controllers on their hinted channel or a default one. Drum hits have no
// release on the wire; the caller ends them with OutputRule.NoteOff.
//
// # Rules
//
// InputRule.Validate and OutputRule.Validate report a value out of range
// as a *FieldError whose Field is spelt as in config files
// ("min-velocity", "drum-channels", "drum-map"), so a caller only adds
// where the rule was written: inputs[0].min-velocity: 200 is not in 0-127.
//
// # Time
//
// Timestamps are unix milliseconds with microseconds as the fraction, as
// on the wire; UnixMillis and TimeOfUnixMillis convert.
//
// # Channels
//
// Channels are 1-16 in this package's API and on the wire, and 0-15 in
// gomidi's messages; the conversion happens here and nowhere else.
//
// # Concurrency
//
// Functions and the Rule, Curve and Event values are safe for concurrent
// use. An Input is not: it holds the notes in flight, is owned by one
// goroutine (the one that reads its port's messages) and must be called
// from that goroutine only, Release included.
package mapping
