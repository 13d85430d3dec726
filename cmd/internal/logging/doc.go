// Package logging builds the *slog.Logger of jambridge and jamrelay from
// their --log-level and --log-format settings, so both read them alike.
//
// # Concurrency
//
// New is a pure constructor; the loggers it returns are safe for
// concurrent use, as every slog.Logger is.
package logging
