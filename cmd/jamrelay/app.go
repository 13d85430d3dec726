package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/jambridge/jambridge/relay"
)

// version is set by the linker: -X main.version=...
var version = "dev"

// shutdownGrace bounds a clean shutdown.
const shutdownGrace = 2 * time.Second

func newApp() *cli.App {
	d := relay.DefaultConfig()
	return &cli.App{
		Name:    "jamrelay",
		Usage:   "relay jam session events between musicians (Socket.IO v4)",
		Version: version,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "listen", Value: ":3001", EnvVars: []string{"JAMRELAY_LISTEN"}, Usage: "address to listen on"},
			&cli.DurationFlag{Name: "ping-interval", Value: d.PingInterval, EnvVars: []string{"JAMRELAY_PING_INTERVAL"}, Usage: "how often to ping each client"},
			&cli.DurationFlag{Name: "ping-timeout", Value: d.PingTimeout, EnvVars: []string{"JAMRELAY_PING_TIMEOUT"}, Usage: "how long to wait for a pong"},
			&cli.Int64Flag{Name: "max-payload", Value: d.MaxPayload, EnvVars: []string{"JAMRELAY_MAX_PAYLOAD"}, Usage: "largest Engine.IO packet, bytes"},
			&cli.IntFlag{Name: "max-event-payload", Value: d.MaxEventPayload, EnvVars: []string{"JAMRELAY_MAX_EVENT_PAYLOAD"}, Usage: "largest event payload, JSON bytes"},
			&cli.Float64Flag{Name: "event-rate", Value: d.EventRate, EnvVars: []string{"JAMRELAY_EVENT_RATE"}, Usage: "events per second per connection, sustained"},
			&cli.IntFlag{Name: "event-burst", Value: d.EventBurst, EnvVars: []string{"JAMRELAY_EVENT_BURST"}, Usage: "events per connection allowed in a burst"},
			&cli.IntFlag{Name: "max-members", Value: d.MaxMembers, EnvVars: []string{"JAMRELAY_MAX_MEMBERS"}, Usage: "members per session"},
			&cli.IntFlag{Name: "max-connections", Value: d.MaxConnections, EnvVars: []string{"JAMRELAY_MAX_CONNECTIONS"}, Usage: "connections served at once"},
			&cli.IntFlag{Name: "send-queue", Value: d.SendQueue, EnvVars: []string{"JAMRELAY_SEND_QUEUE"}, Usage: "packets queued per slow client before the oldest are dropped"},
			&cli.DurationFlag{Name: "write-timeout", Value: d.WriteTimeout, EnvVars: []string{"JAMRELAY_WRITE_TIMEOUT"}, Usage: "disconnect a client stuck this long"},
			&cli.StringSliceFlag{Name: "allow-origin", EnvVars: []string{"JAMRELAY_ALLOW_ORIGIN"}, Usage: "browser origin allowed besides the relay's own (repeat; '*' for any)"},
			&cli.StringFlag{Name: "log-level", Value: "info", EnvVars: []string{"JAMRELAY_LOG_LEVEL"}, Usage: "debug, info, warn or error"},
			&cli.StringFlag{Name: "log-format", Value: "text", EnvVars: []string{"JAMRELAY_LOG_FORMAT"}, Usage: "text or json"},
		},
		Action: run,
	}
}

// newLogger builds the logger the flags ask for.
func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch strings.ToLower(format) {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text or json", format)
}

func configFrom(c *cli.Context, log *slog.Logger) relay.Config {
	return relay.Config{
		PingInterval:    c.Duration("ping-interval"),
		PingTimeout:     c.Duration("ping-timeout"),
		MaxPayload:      c.Int64("max-payload"),
		MaxEventPayload: c.Int("max-event-payload"),
		EventRate:       c.Float64("event-rate"),
		EventBurst:      c.Int("event-burst"),
		MaxMembers:      c.Int("max-members"),
		SendQueue:       c.Int("send-queue"),
		MaxConnections:  c.Int("max-connections"),
		WriteTimeout:    c.Duration("write-timeout"),
		AllowOrigins:    c.StringSlice("allow-origin"),
		Logger:          log,
	}
}

// checkPositive refuses zero or negative numeric flags, which would
// otherwise silently mean "default" in relay.Config.
func checkPositive(c *cli.Context) error {
	for _, name := range []string{"ping-interval", "ping-timeout", "write-timeout"} {
		if c.Duration(name) <= 0 {
			return fmt.Errorf("--%s must be positive, got %v", name, c.Duration(name))
		}
	}
	for _, name := range []string{"max-payload", "max-event-payload", "event-burst", "max-members", "send-queue", "max-connections"} {
		if c.Int64(name) <= 0 {
			return fmt.Errorf("--%s must be at least 1, got %d", name, c.Int64(name))
		}
	}
	if c.Float64("event-rate") <= 0 {
		return fmt.Errorf("--event-rate must be positive, got %v", c.Float64("event-rate"))
	}
	return nil
}

func run(c *cli.Context) error {
	if err := checkPositive(c); err != nil {
		return err
	}
	log, err := newLogger(c.App.ErrWriter, c.String("log-level"), c.String("log-format"))
	if err != nil {
		return err
	}
	srv, err := relay.NewServer(configFrom(c, log))
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", c.String("listen"))
	if err != nil {
		return fmt.Errorf("listen on %s: %w", c.String("listen"), err)
	}
	log.Info("jamrelay listening", "addr", ln.Addr().String(), "version", version)
	return serve(c.Context, ln, srv, log)
}

// Handler returns the relay's HTTP routes: /socket.io/ and /healthz.
func handler(srv *relay.Server) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", srv)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		st := srv.Stats()
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"status":"ok","connections":%d,"sessions":%d}`+"\n", st.Connections, st.Sessions)
	})
	return mux
}

// serve runs the HTTP server on ln until ctx ends, then shuts down in
// order: stop accepting, close every client, wait.
func serve(ctx context.Context, ln net.Listener, srv *relay.Server, log *slog.Logger) error {
	hs := &http.Server{Handler: handler(srv), ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		srv.Close()
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	hs.SetKeepAlivesEnabled(false)
	ln.Close() // stop accepting first
	srv.Close()
	if err := hs.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
		return err
	}
	log.Info("stopped")
	return nil
}
