package mapping

import (
	"fmt"
	"strings"
)

// Key range of MIDI notes, and of the other 7-bit values (velocity,
// controller numbers and values).
const (
	minKey = 0
	maxKey = 127
)

// sharpNames are the pitch classes as NoteName spells them.
var sharpNames = [12]string{"C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"}

// noteNames holds NoteName for every key. Built once, never written after.
var noteNames = func() (t [maxKey + 1]string) {
	for k := range t {
		t[k] = fmt.Sprintf("%s%d", sharpNames[k%12], k/12-1)
	}
	return t
}()

// NoteName returns the scientific pitch name of a MIDI key, spelled with
// sharps: 60 is "C4", 0 is "C-1", 61 is "C#4" and 127 is "G9". It returns
// "" for a key outside 0-127.
func NoteName(key int) string {
	if key < minKey || key > maxKey {
		return ""
	}
	return noteNames[key]
}

// pitchClass is the semitone of each letter above C.
var pitchClass = map[byte]int{'c': 0, 'd': 2, 'e': 4, 'f': 5, 'g': 7, 'a': 9, 'b': 11}

// ParseNote parses a scientific pitch name into a MIDI key, C4 being 60.
// The letter is case-insensitive; an optional accidental follows it: '#'
// (or '♯') raises, 'b' (or '♭') lowers. The octave is -1 to 9 and is
// required. "C4", "d#5", "Eb3", "C-1" and "G9" are valid. A name that does
// not parse, or that lies outside 0-127 ("Cb-1", "G#9"), gives an error
// wrapping ErrUnknownNote.
func ParseNote(s string) (int, error) {
	if len(s) < 2 {
		return 0, fmt.Errorf("note %q: %w", clip(s), ErrUnknownNote)
	}
	pc, ok := pitchClass[s[0]|0x20] // ASCII lower case; non-letters miss
	if !ok {
		return 0, fmt.Errorf("note %q: bad letter: %w", clip(s), ErrUnknownNote)
	}
	rest, shift := accidental(s[1:])
	var octave int
	switch {
	case rest == "-1":
		octave = -1
	case len(rest) == 1 && rest[0] >= '0' && rest[0] <= '9':
		octave = int(rest[0] - '0')
	default:
		return 0, fmt.Errorf("note %q: bad octave: %w", clip(s), ErrUnknownNote)
	}
	key := (octave+1)*12 + pc + shift
	if key < minKey || key > maxKey {
		return 0, fmt.Errorf("note %q: outside midi range 0-127: %w", clip(s), ErrUnknownNote)
	}
	return key, nil
}

// accidental strips one leading sharp or flat sign from s and returns the
// rest with the shift in semitones.
func accidental(s string) (rest string, shift int) {
	for _, a := range [...]struct {
		sign  string
		shift int
	}{{"#", 1}, {"♯", 1}, {"b", -1}, {"♭", -1}} {
		if r, ok := strings.CutPrefix(s, a.sign); ok {
			return r, a.shift
		}
	}
	return s, 0
}
