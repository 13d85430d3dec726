package mapping

import "strings"

// General MIDI percussion keys, as the GM 1 percussion map numbers them
// (not gomidi's gm.DrumKey_* constants, which are one below).
const (
	firstDrumKey = 35
	lastDrumKey  = 81
)

// drumNames are the canonical names of the General MIDI percussion keys
// 35 to 81, indexed by key - firstDrumKey. Never written.
var drumNames = [lastDrumKey - firstDrumKey + 1]string{
	"acoustic_kick", "kick", "side_stick", "snare", "clap", // 35-39
	"snare_electric", "tom_floor_low", "hihat_closed", "tom_floor_high", "hihat_pedal", // 40-44
	"tom_low", "hihat_open", "tom_low_mid", "tom_hi_mid", "crash", // 45-49
	"tom_high", "ride", "china", "ride_bell", "tambourine", // 50-54
	"splash", "cowbell", "crash_2", "vibraslap", "ride_2", // 55-59
	"bongo_high", "bongo_low", "conga_mute_high", "conga_open_high", "conga_low", // 60-64
	"timbale_high", "timbale_low", "agogo_high", "agogo_low", "cabasa", // 65-69
	"maracas", "whistle_short", "whistle_long", "guiro_short", "guiro_long", // 70-74
	"claves", "woodblock_high", "woodblock_low", "cuica_mute", "cuica_open", // 75-79
	"triangle_mute", "triangle_open", // 80-81
}

// drumAliases are further names DrumKey accepts, space-separated per key:
// the GM 1 spellings and common short forms. DrumName never returns them.
var drumAliases = [...]struct {
	key   int
	names string
}{
	{35, "acoustic_bass_drum bass_drum_2"},
	{36, "bass_drum bass_drum_1 kick_drum"},
	{37, "cross_stick"},
	{38, "acoustic_snare snare_drum"},
	{39, "hand_clap handclap"},
	{40, "electric_snare"},
	{41, "low_floor_tom"},
	{42, "hihat hh hh_closed closed_hihat closed_hi_hat"},
	{43, "high_floor_tom"},
	{44, "hh_pedal pedal_hihat pedal_hi_hat hihat_foot"},
	{45, "low_tom"},
	{46, "hh_open open_hihat open_hi_hat"},
	{47, "low_mid_tom"},
	{48, "hi_mid_tom"},
	{49, "crash_1 crash_cymbal crash_cymbal_1"},
	{50, "high_tom"},
	{51, "ride_1 ride_cymbal ride_cymbal_1"},
	{52, "chinese_cymbal"},
	{55, "splash_cymbal"},
	{57, "crash_cymbal_2"},
	{59, "ride_cymbal_2"},
}

// drumKeys maps every canonical name and alias to its key. Never written.
var drumKeys = func() map[string]int {
	m := make(map[string]int, 2*len(drumNames))
	for i, n := range drumNames {
		m[n] = firstDrumKey + i
	}
	for _, a := range drumAliases {
		for n := range strings.FieldsSeq(a.names) {
			m[n] = a.key
		}
	}
	return m
}()

// DrumName returns the canonical snake_case name of a General MIDI
// percussion key (36 is "kick", 38 is "snare", 42 is "hihat_closed"), and
// false for a key outside 35-81.
func DrumName(key int) (string, bool) {
	if key < firstDrumKey || key > lastDrumKey {
		return "", false
	}
	return drumNames[key-firstDrumKey], true
}

// DrumKey returns the General MIDI key of a drum name, canonical ("snare")
// or alias ("bass_drum", "hihat", "crash_1"), matched without regard to
// case. It does not accept note names; see ResolveDrum.
func DrumKey(name string) (int, bool) {
	k, ok := drumKeys[strings.ToLower(name)]
	return k, ok
}

// ResolveDrum returns the key a drum_hit's note means: a drum name as
// DrumKey takes it, or else a note name as ParseNote takes it ("C2" is 36).
func ResolveDrum(note string) (int, bool) {
	if k, ok := DrumKey(note); ok {
		return k, true
	}
	k, err := ParseNote(note)
	return k, err == nil
}

// drumLabel is the note FromMIDI and Payload give a drum key: its GM name
// when it has one, else its note name.
func drumLabel(key int) string {
	if n, ok := DrumName(key); ok {
		return n
	}
	return NoteName(key)
}
