package mapping_test

import (
	"errors"
	"testing"

	"github.com/jambridge/jambridge/mapping"
)

func TestNoteNameRoundTrip(t *testing.T) {
	for key := 0; key <= 127; key++ {
		name := mapping.NoteName(key)
		got, err := mapping.ParseNote(name)
		if err != nil || got != key {
			t.Errorf("ParseNote(NoteName(%d) = %q) = %d, %v; want %d", key, name, got, err, key)
		}
	}
}

func TestNoteName(t *testing.T) {
	for _, tt := range []struct {
		key  int
		want string
	}{
		{0, "C-1"}, {1, "C#-1"}, {11, "B-1"}, {12, "C0"}, {21, "A0"},
		{59, "B3"}, {60, "C4"}, {61, "C#4"}, {69, "A4"}, {75, "D#5"},
		{108, "C8"}, {127, "G9"},
		{-1, ""}, {128, ""},
	} {
		if got := mapping.NoteName(tt.key); got != tt.want {
			t.Errorf("NoteName(%d) = %q, want %q", tt.key, got, tt.want)
		}
	}
}

func TestParseNote(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want int
	}{
		{"C4", 60}, {"c4", 60}, {"d#5", 75}, {"D#5", 75}, {"Eb3", 51}, {"eb3", 51},
		{"Bb3", 58}, {"bb3", 58}, {"B3", 59}, {"b3", 59}, {"Cb4", 59}, {"B#3", 60},
		{"E#4", 65}, {"Fb4", 64}, {"C-1", 0}, {"C#-1", 1}, {"G9", 127}, {"Gb9", 126},
		{"A0", 21}, {"F♯2", 42}, {"G♭2", 42},
	} {
		got, err := mapping.ParseNote(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseNote(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
}

func TestParseNoteErrors(t *testing.T) {
	for _, in := range []string{
		"", "C", "H4", "4", "#4", "C10", "C-2", "C-0", "C04", "C 4", " C4", "C4 ",
		"Cb-1", "G#9", "B#9", "Ab9", "C##4", "Cbb4", "C+4", "C4.0", "kick", "C#", "-1",
		"C\x004", "CB4", "\xffC4",
	} {
		got, err := mapping.ParseNote(in)
		if !errors.Is(err, mapping.ErrUnknownNote) {
			t.Errorf("ParseNote(%q) = %d, %v; want an error wrapping ErrUnknownNote", in, got, err)
		}
	}
}

func FuzzParseNote(f *testing.F) {
	for _, s := range []string{"C4", "d#5", "Eb3", "C-1", "G9", "G#9", "Cb-1", "B♭2", "", "C", "kick"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		key, err := mapping.ParseNote(s)
		if err != nil {
			if !errors.Is(err, mapping.ErrUnknownNote) {
				t.Fatalf("ParseNote(%q) error %v does not wrap ErrUnknownNote", s, err)
			}
			return
		}
		if key < 0 || key > 127 {
			t.Fatalf("ParseNote(%q) = %d, outside 0-127", s, key)
		}
		if back, err := mapping.ParseNote(mapping.NoteName(key)); err != nil || back != key {
			t.Fatalf("ParseNote(NoteName(%d)) = %d, %v", key, back, err)
		}
	})
}
