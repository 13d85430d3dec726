package logging

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
)

func TestNew(t *testing.T) {
	for _, tc := range []struct {
		level, format string
		bad           string // the setting named in the error; "" for none
		json          bool
	}{
		{"info", "text", "", false},
		{"DEBUG", "JSON", "", true},
		{"loud", "text", "log-level", false},
		{"info", "xml", "log-format", false},
	} {
		var buf bytes.Buffer
		log, err := New(&buf, tc.level, tc.format)
		var se *SettingError
		switch {
		case tc.bad != "":
			if !errors.As(err, &se) || se.Setting != tc.bad || strings.Contains(err.Error(), "\n") {
				t.Errorf("New(%q, %q): %v; want one line about --%s", tc.level, tc.format, err, tc.bad)
			}
			continue
		case err != nil:
			t.Fatalf("New(%q, %q): %v", tc.level, tc.format, err)
		}
		log.Info("hello")
		if got := strings.HasPrefix(buf.String(), "{"); got != tc.json {
			t.Errorf("New(%q, %q) wrote %q", tc.level, tc.format, buf.String())
		}
	}
}

func TestAtLeast(t *testing.T) {
	var buf bytes.Buffer
	log := AtLeast(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})).With("c", "x"), slog.LevelWarn)
	log.Info("quiet")
	log.WithGroup("g").Warn("loud")
	if s := buf.String(); strings.Contains(s, "quiet") || !strings.Contains(s, "loud") || !strings.Contains(s, "c=x") {
		t.Errorf("logged %q; want the warning only, with its attributes", s)
	}
}
