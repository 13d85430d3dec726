package main

import (
	"fmt"
	"log/slog"
	"net"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/urfave/cli/v2"

	"github.com/jambridge/jambridge/cmd/internal/logging"
	"github.com/jambridge/jambridge/cmd/internal/relayhost"
	"github.com/jambridge/jambridge/relay"
)

// version is set by the linker: -X main.version=...
var version = "dev"

func newApp() *cli.App {
	d := relay.DefaultConfig()
	return &cli.App{
		Name:    "jamrelay",
		Usage:   "relay jam session events between musicians (Socket.IO v4)",
		Version: version,
		Flags: append([]cli.Flag{
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
			&cli.IntFlag{Name: "send-queue-bytes", Value: d.SendQueueBytes, EnvVars: []string{"JAMRELAY_SEND_QUEUE_BYTES"}, Usage: "bytes queued per slow client before the oldest are dropped"},
			&cli.DurationFlag{Name: "write-timeout", Value: d.WriteTimeout, EnvVars: []string{"JAMRELAY_WRITE_TIMEOUT"}, Usage: "disconnect a client stuck this long"},
			&cli.DurationFlag{Name: "connect-timeout", Value: d.ConnectTimeout, EnvVars: []string{"JAMRELAY_CONNECT_TIMEOUT"}, Usage: "close a connection that sends no Socket.IO CONNECT this long"},
			&cli.StringSliceFlag{Name: "allow-origin", EnvVars: []string{"JAMRELAY_ALLOW_ORIGIN"}, Usage: "browser origin allowed besides the relay's own (repeat; '*' for any)"},
			&cli.StringFlag{Name: "redis", EnvVars: []string{"JAMRELAY_REDIS"}, Usage: "redis://HOST:6379/0 (rediss:// for TLS): share sessions with every jamrelay given the same Redis; empty: serve alone"},
			&cli.StringFlag{Name: "cluster-node", EnvVars: []string{"JAMRELAY_CLUSTER_NODE"}, Usage: "this node's id in the cluster (unique; default: random)"},
			&cli.StringFlag{Name: "log-level", Value: "info", EnvVars: []string{"JAMRELAY_LOG_LEVEL"}, Usage: "debug, info, warn or error"},
			&cli.IntFlag{Name: "procs", EnvVars: []string{procsEnv}, Usage: "threads running Go code at once (GOMAXPROCS); 0: the Go runtime's choice (the CPUs it may use, or $GOMAXPROCS)"},
			&cli.StringFlag{Name: "log-format", Value: "text", EnvVars: []string{"JAMRELAY_LOG_FORMAT"}, Usage: "text or json"},
		}, append(authFlags(d), publicFlags()...)...),
		Commands: []*cli.Command{tokenCommand()},
		Action:   run,
	}
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
		SendQueueBytes:  c.Int("send-queue-bytes"),
		MaxConnections:  c.Int("max-connections"),
		WriteTimeout:    c.Duration("write-timeout"),
		ConnectTimeout:  c.Duration("connect-timeout"),
		AllowOrigins:    c.StringSlice("allow-origin"),
		FailedJoins:     c.Int("failed-joins"),
		Logger:          log,
	}
}

// checkPositive refuses zero or negative numeric flags, which would
// otherwise silently mean "default" in relay.Config.
func checkPositive(c *cli.Context) error {
	for _, name := range []string{"ping-interval", "ping-timeout", "write-timeout", "connect-timeout"} {
		if c.Duration(name) <= 0 {
			return fmt.Errorf("--%s must be positive, got %v", name, c.Duration(name))
		}
	}
	for _, name := range []string{"max-payload", "max-event-payload", "event-burst", "max-members", "send-queue", "send-queue-bytes", "max-connections", "failed-joins"} {
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
	log, err := logging.New(c.App.ErrWriter, c.String("log-level"), c.String("log-format"))
	if err != nil {
		return err
	}
	procs, err := setProcs(c.Int("procs"))
	if err != nil {
		return err
	}
	cfg := configFrom(c, log)
	if cfg.AuthSecret, err = authSecret(c); err != nil {
		return err
	}
	if err := publicConfig(c, &cfg); err != nil {
		return err
	}
	broker, err := newCluster(c, log)
	if err != nil {
		return err
	}
	var extra []prometheus.Collector
	if broker != nil {
		defer broker.Close() // after the host: publishes the leaves of its members
		cfg.Cluster = broker
		extra = append(extra, broker)
	}
	srv, err := relay.NewServer(cfg)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", c.String("listen"))
	if err != nil {
		return fmt.Errorf("listen on %s: %w", c.String("listen"), err)
	}
	if broker != nil {
		waitCluster(c.Context, broker, log)
	}
	host := relayhost.New(srv, log)
	if err := setupHost(c, host, log); err != nil {
		ln.Close()
		return err
	}
	if addr := c.String("metrics-listen"); addr != "" {
		mln, err := net.Listen("tcp", addr)
		if err != nil {
			ln.Close()
			return fmt.Errorf("--metrics-listen on %s: %w", addr, err)
		}
		log.Info("metrics listening", "addr", mln.Addr().String())
		host.ServeMetrics(mln, extra...)
	}
	host.Serve(ln)
	log.Info("jamrelay listening", "addr", ln.Addr().String(), "version", version, "procs", procs)
	if err := host.Run(c.Context); err != nil {
		return err
	}
	log.Info("stopped")
	return nil
}
