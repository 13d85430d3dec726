package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/urfave/cli/v2"

	"github.com/jambridge/jambridge/relay"
)

// version is set by the linker: -X main.version=...
var version = "dev"

// shutdownGrace bounds a clean shutdown.
const shutdownGrace = 2 * time.Second

// readHeaderTimeout bounds a request's headers, on both listeners.
const readHeaderTimeout = 10 * time.Second

func newApp() *cli.App {
	d := relay.DefaultConfig()
	return &cli.App{
		Name:    "jamrelay",
		Usage:   "relay jam session events between musicians (Socket.IO v4)",
		Version: version,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "listen", Value: ":3001", EnvVars: []string{"JAMRELAY_LISTEN"}, Usage: "address to listen on"},
			&cli.StringFlag{Name: "metrics-listen", EnvVars: []string{"JAMRELAY_METRICS_LISTEN"}, Usage: "address serving Prometheus /metrics, apart from the relay (e.g. 127.0.0.1:9464); empty: off"},
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
	var mln net.Listener // nil: no metrics
	if addr := c.String("metrics-listen"); addr != "" {
		if mln, err = net.Listen("tcp", addr); err != nil {
			ln.Close()
			return fmt.Errorf("--metrics-listen on %s: %w", addr, err)
		}
		log.Info("metrics listening", "addr", mln.Addr().String())
	}
	log.Info("jamrelay listening", "addr", ln.Addr().String(), "version", version)
	return serve(c.Context, ln, mln, srv, log)
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

// metricsHandler serves /metrics from a registry of its own: the relay's
// counters, and the Go runtime and process collectors.
func metricsHandler(srv *relay.Server, log *slog.Logger) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		srv.Collector(),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelError),
		Registry: reg, // counts its own errors
	}))
	return mux
}

// serve runs the relay's HTTP server on ln, and the metrics server on mln
// unless it is nil, until ctx ends or one of them fails. Then it shuts
// down in order: stop accepting, close every client, wait for both.
func serve(ctx context.Context, ln, mln net.Listener, srv *relay.Server, log *slog.Logger) error {
	servers := []*http.Server{{Handler: handler(srv), ReadHeaderTimeout: readHeaderTimeout}}
	listeners := []net.Listener{ln}
	if mln != nil {
		servers = append(servers, &http.Server{Handler: metricsHandler(srv, log), ReadHeaderTimeout: readHeaderTimeout})
		listeners = append(listeners, mln)
	}
	errc := make(chan error, len(servers))
	for i, hs := range servers {
		go func() { errc <- hs.Serve(listeners[i]) }()
	}
	running := len(servers)
	var failed error
	select {
	case err := <-errc:
		running--
		failed = fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
		log.Info("shutting down")
	}
	err := shutdown(servers, listeners, srv)
	for range running {
		if e := <-errc; !errors.Is(e, http.ErrServerClosed) && !errors.Is(e, net.ErrClosed) {
			err = cmp.Or(err, e)
		}
	}
	if err = cmp.Or(failed, err); err == nil {
		log.Info("stopped")
	}
	return err
}

// shutdown stops accepting, closes every relay client (which
// http.Server.Shutdown does not do for websockets), then shuts down the
// HTTP servers within shutdownGrace.
func shutdown(servers []*http.Server, listeners []net.Listener, srv *relay.Server) error {
	ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	for i, hs := range servers {
		hs.SetKeepAlivesEnabled(false)
		listeners[i].Close() // stop accepting first
	}
	srv.Close()
	var err error
	for _, hs := range servers {
		// net.ErrClosed: Shutdown closed a listener closed above again,
		// its Serve not having returned yet.
		if e := hs.Shutdown(ctx); e != nil && !errors.Is(e, context.DeadlineExceeded) && !errors.Is(e, net.ErrClosed) {
			err = cmp.Or(err, fmt.Errorf("shutdown: %w", e))
		}
	}
	return err
}
