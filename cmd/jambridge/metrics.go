package main

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/urfave/cli/v2"

	"github.com/jambridge/jambridge/bridge"
	"github.com/jambridge/jambridge/cmd/internal/relayhost"
)

// metricsFlag is --metrics-listen: where Prometheus scrapes the daemon.
func metricsFlag() cli.Flag {
	return &cli.StringFlag{Name: "metrics-listen", EnvVars: []string{"JAMBRIDGE_METRICS_LISTEN"},
		Usage: "address serving Prometheus /metrics on a listener of its own (e.g. 127.0.0.1:9464); empty: off"}
}

// metricsAddr is the --metrics-listen setting; "" means off.
func metricsAddr(st settings) string {
	return st.str("metrics-listen", st.file.Metrics)
}

// metricsShutdown bounds how long a scrape in flight may hold shutdown.
const metricsShutdown = 2 * time.Second

// serveMetrics serves /metrics on js.Metrics, on a listener of its own,
// from a private registry: b's collector, the embedded relay's when
// hosting, and the Go runtime and process collectors. It returns the
// function that stops the server and waits for it; with js.Metrics empty
// it serves nothing.
func serveMetrics(js jamSetup, b *bridge.Bridge) (stop func(), err error) {
	if js.Metrics == "" {
		return func() {}, nil
	}
	cs := []prometheus.Collector{b.Collector()}
	if js.Host != nil {
		cs = append(cs, js.Host.srv.Collector())
	}
	ln, err := net.Listen("tcp", js.Metrics)
	if err != nil {
		return nil, fmt.Errorf("--metrics-listen on %s: %w", js.Metrics, err)
	}
	srv := relayhost.Start(ln, relayhost.MetricsHandler(js.Log, cs...))
	js.Log.Info("metrics listening", "addr", ln.Addr().String())
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), metricsShutdown)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			js.Log.Warn("metrics server", "err", err)
		}
	}, nil
}
