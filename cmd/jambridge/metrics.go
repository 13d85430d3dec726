package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/urfave/cli/v2"

	"github.com/jambridge/jambridge/bridge"
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
	reg := prometheus.NewRegistry()
	reg.MustRegister(b.Collector(), collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if js.Host != nil {
		reg.MustRegister(js.Host.srv.Collector())
	}
	ln, err := net.Listen("tcp", js.Metrics)
	if err != nil {
		return nil, fmt.Errorf("--metrics-listen on %s: %w", js.Metrics, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog: slog.NewLogLogger(js.Log.Handler(), slog.LevelError),
		Registry: reg, // counts its own errors
	}))
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	js.Log.Info("metrics listening", "addr", ln.Addr().String())
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), metricsShutdown)
		defer cancel()
		hs.Shutdown(ctx)
		if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
			js.Log.Warn("metrics server", "err", err)
		}
	}, nil
}
