package mapping_test

import (
	"testing"

	"github.com/jambridge/jambridge/mapping"
)

func TestDrumTable(t *testing.T) {
	want := map[string]int{
		"acoustic_kick": 35, "kick": 36, "side_stick": 37, "snare": 38, "clap": 39,
		"snare_electric": 40, "tom_floor_low": 41, "hihat_closed": 42, "tom_floor_high": 43,
		"hihat_pedal": 44, "tom_low": 45, "hihat_open": 46, "tom_low_mid": 47, "tom_hi_mid": 48,
		"crash": 49, "tom_high": 50, "ride": 51, "china": 52, "ride_bell": 53, "tambourine": 54,
		"splash": 55, "cowbell": 56, "crash_2": 57, "vibraslap": 58, "ride_2": 59,
		"bongo_high": 60, "bongo_low": 61, "conga_mute_high": 62, "conga_open_high": 63,
		"conga_low": 64, "timbale_high": 65, "timbale_low": 66, "agogo_high": 67, "agogo_low": 68,
		"cabasa": 69, "maracas": 70, "whistle_short": 71, "whistle_long": 72, "guiro_short": 73,
		"guiro_long": 74, "claves": 75, "woodblock_high": 76, "woodblock_low": 77,
		"cuica_mute": 78, "cuica_open": 79, "triangle_mute": 80, "triangle_open": 81,
	}
	if len(want) != 81-35+1 {
		t.Fatalf("test table has %d names, want 47", len(want))
	}
	for name, key := range want {
		if got, ok := mapping.DrumName(key); !ok || got != name {
			t.Errorf("DrumName(%d) = %q, %v; want %q", key, got, ok, name)
		}
		if got, ok := mapping.DrumKey(name); !ok || got != key {
			t.Errorf("DrumKey(%q) = %d, %v; want %d", name, got, ok, key)
		}
	}
	for key := 0; key <= 127; key++ {
		name, ok := mapping.DrumName(key)
		if ok != (key >= 35 && key <= 81) {
			t.Errorf("DrumName(%d) = %q, %v", key, name, ok)
		}
	}
}

func TestDrumKeyAliasesAndCase(t *testing.T) {
	for _, tt := range []struct {
		name string
		want int
	}{
		{"bass_drum", 36}, {"hihat", 42}, {"hh_open", 46}, {"crash_1", 49}, {"ride_1", 51},
		{"acoustic_snare", 38}, {"acoustic_bass_drum", 35}, {"hh_pedal", 44},
		{"Snare", 38}, {"KICK", 36}, {"HiHat_Closed", 42}, {"HIHAT", 42},
	} {
		if got, ok := mapping.DrumKey(tt.name); !ok || got != tt.want {
			t.Errorf("DrumKey(%q) = %d, %v; want %d", tt.name, got, ok, tt.want)
		}
	}
	for _, name := range []string{"", "C2", "36", "snare ", "kick_3", "hi-hat"} {
		if got, ok := mapping.DrumKey(name); ok {
			t.Errorf("DrumKey(%q) = %d, true; want false", name, got)
		}
	}
}

func TestResolveDrum(t *testing.T) {
	for _, tt := range []struct {
		note string
		want int
		ok   bool
	}{
		{"snare", 38, true}, {"Kick", 36, true}, {"hihat", 42, true},
		{"C2", 36, true}, {"D2", 38, true}, {"C4", 60, true}, {"F#1", 30, true},
		{"", 0, false}, {"cowbell_2", 0, false}, {"C10", 0, false},
	} {
		got, ok := mapping.ResolveDrum(tt.note)
		if ok != tt.ok || (ok && got != tt.want) {
			t.Errorf("ResolveDrum(%q) = %d, %v; want %d, %v", tt.note, got, ok, tt.want, tt.ok)
		}
	}
}
