package bridge_test

import (
	"strings"
	"testing"
	"time"

	"github.com/jambridge/jambridge/bridge"
)

// FuzzParsePlayout: any input is a mode or an error, never a panic; a
// mode reads back from its String, and a fixed delay stays within 0-1s.
func FuzzParsePlayout(f *testing.F) {
	for _, s := range []string{"immediate", "auto", "fixed:20ms", "FIXED:1s", " fixed:0 ", "fixed:-1ms",
		"fixed:1.5s", "fixed:", "fixed:1e9h", "fixed:9223372036854775807ns", "later", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := bridge.ParsePlayout(s)
		if err != nil {
			if !strings.Contains(err.Error(), "playout") {
				t.Errorf("error %q does not say what it is about", err)
			}
			return
		}
		if m.Delay < 0 || m.Delay > time.Second {
			t.Errorf("%q: delay %v outside 0-1s", s, m.Delay)
		}
		back, err := bridge.ParsePlayout(m.String())
		if err != nil || back != m {
			t.Errorf("%q -> %v -> %v, %v", s, m, back, err)
		}
	})
}

// FuzzParseMatch: any pattern compiles or fails with an error naming
// it; a compiled one keeps its text and matches any name without a
// panic, and a plain one matches its own text.
func FuzzParseMatch(f *testing.F) {
	for _, s := range []string{"", "fluid", "/^Launchkey.*MIDI 1/", "/[/", "//", "/", "TD-17", "/(?i)ünï/", "\xff\xfe"} {
		f.Add(s, "Launchkey Mini MIDI 1")
	}
	f.Fuzz(func(t *testing.T, s, name string) {
		m, err := bridge.ParseMatch(s)
		if err != nil {
			if !strings.Contains(err.Error(), "port pattern") {
				t.Errorf("error %q does not name the pattern", err)
			}
			return
		}
		if m.String() != s || m.Empty() != (s == "") {
			t.Errorf("%q: String %q, Empty %v", s, m.String(), m.Empty())
		}
		m.Matches(name)
		if !strings.HasPrefix(s, "/") && !m.Matches(s) {
			t.Errorf("plain pattern %q does not match itself", s)
		}
	})
}
