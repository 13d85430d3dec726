package relay

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
)

// A socket's records carry its Engine.IO id beside their own attributes,
// through WithAttrs too, and the level of the server's handler holds.
func TestSocketLogCarriesTheEngineIOID(t *testing.T) {
	var buf bytes.Buffer
	srv, err := NewServer(Config{Logger: slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	s := newSocket(srv)
	s.log.Info("session joined", "room", "MUSIC-42")
	s.log.With("k", "v").Warn("refused")
	s.log.Debug("below the level")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("logged %q, want two records", lines)
	}
	for _, want := range [][]string{{"msg=\"session joined\"", "room=MUSIC-42", "eio=" + s.eid}, {"msg=refused", "k=v", "eio=" + s.eid}} {
		line := lines[0]
		lines = lines[1:]
		for _, w := range want {
			if !strings.Contains(line, w) {
				t.Errorf("record %q lacks %q", line, w)
			}
		}
	}
	if s.log.Enabled(context.Background(), slog.LevelDebug) {
		t.Error("debug enabled on a socket's logger of an info handler")
	}
}
