package logging

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// SettingError is a bad value of one setting: Setting is its flag name
// without dashes ("log-level"), Msg says what is wrong with the value.
type SettingError struct{ Setting, Msg string }

func (e *SettingError) Error() string { return "--" + e.Setting + ": " + e.Msg }

// New returns a logger writing to w at level (debug, info, warn or
// error) in format (text or json), or a *SettingError naming the setting.
func New(w io.Writer, level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, &SettingError{"log-level", fmt.Sprintf("%q: want debug, info, warn or error", level)}
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch strings.ToLower(format) {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, &SettingError{"log-format", fmt.Sprintf("%q: want text or json", format)}
}

// AtLeast returns log's records of level min and above only: the others
// are dropped even where log would write them.
func AtLeast(log *slog.Logger, min slog.Level) *slog.Logger {
	return slog.New(minLevel{log.Handler(), min})
}

// minLevel drops records below min.
type minLevel struct {
	slog.Handler
	min slog.Level
}

func (h minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h minLevel) WithAttrs(a []slog.Attr) slog.Handler {
	return minLevel{h.Handler.WithAttrs(a), h.min}
}

func (h minLevel) WithGroup(name string) slog.Handler {
	return minLevel{h.Handler.WithGroup(name), h.min}
}
