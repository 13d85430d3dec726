package relayhost

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/jambridge/jambridge/relay"
	"github.com/jambridge/jambridge/web"
)

// ShutdownGrace bounds how long Close waits for requests in flight.
const ShutdownGrace = 2 * time.Second

// Host serves one relay: its routes on the relay's listener, and
// optionally /metrics on a listener of its own.
type Host struct {
	relay   *relay.Server
	mux     *http.ServeMux
	log     *slog.Logger
	stopped chan struct{} // a server stopped serving; 1 pending notice at most
	servers []*Server     // owned by the caller's goroutine: Serve*, then Close
	closed  bool

	tls       *Certificate // nil: plain HTTP
	stopHUP   func()       // stops the SIGHUP reloads; nil until Serve with TLS
	httpLimit Timeouts     // the relay listener's HTTP timeouts
}

// New returns a Host with the relay's routes: the relay at /socket.io/,
// GET /healthz, which answers
// {"status":"ok","connections":N,"sessions":N}, and the jam page at /
// (package web: / and /jam/CODE, its assets under /assets/).
func New(srv *relay.Server, log *slog.Logger) *Host {
	h := &Host{relay: srv, mux: http.NewServeMux(), log: log, stopped: make(chan struct{}, 1), httpLimit: DefaultTimeouts()}
	h.mux.Handle("/socket.io/", srv)
	h.mux.HandleFunc("GET /healthz", h.healthz)
	h.mux.Handle("/", web.Handler())
	return h
}

// Mount adds a route to the relay's listener, such as the jam page at
// "/". Call it before Serve.
func (h *Host) Mount(pattern string, handler http.Handler) {
	h.mux.Handle(pattern, handler)
}

// Handler is the relay's routes, as Serve serves them.
func (h *Host) Handler() http.Handler { return h.mux }

func (h *Host) healthz(w http.ResponseWriter, _ *http.Request) {
	st := h.relay.Stats()
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"status":"ok","connections":%d,"sessions":%d}`+"\n", st.Connections, st.Sessions)
}

// SetTLS makes Serve serve HTTPS and WSS only, with cert, which is
// reloaded from its files on SIGHUP until Close. Call it before Serve.
func (h *Host) SetTLS(cert *Certificate) { h.tls = cert }

// SetTimeouts replaces DefaultTimeouts on the relay's listener. Call it
// before Serve.
func (h *Host) SetTimeouts(t Timeouts) { h.httpLimit = t }

// Serve serves the relay's routes on ln until Close: over TLS after
// SetTLS. Every HTTP connection counts against its client address's
// limit (relay.Server.ConnState).
func (h *Host) Serve(ln net.Listener) *Server {
	if h.tls != nil {
		ln = tls.NewListener(ln, h.tls.TLSConfig())
		if h.stopHUP == nil {
			h.stopHUP = h.tls.reloadOnHUP()
		}
	}
	s := start(ln, h.mux, h.stopped, func(hs *http.Server) {
		h.httpLimit.apply(hs)
		hs.ConnState = h.relay.ConnState
		// Failed TLS handshakes and the like: a scanner's every probe
		// would be a line; the refusals that matter are counted.
		hs.ErrorLog = slog.NewLogLogger(h.log.Handler(), slog.LevelDebug)
	})
	h.servers = append(h.servers, s)
	return s
}

// ServeMetrics serves /metrics on ln until Close: the relay's counters,
// extra ones (a cluster's), and the Go runtime's and the process's.
func (h *Host) ServeMetrics(ln net.Listener, extra ...prometheus.Collector) *Server {
	s := start(ln, MetricsHandler(h.log, append([]prometheus.Collector{h.relay.Collector()}, extra...)...), h.stopped, nil)
	h.servers = append(h.servers, s)
	return s
}

// Run waits until ctx ends or a server stops on its own, then closes the
// host. It returns the server's error, or Close's; nil after ctx ended
// and a clean shutdown.
func (h *Host) Run(ctx context.Context) error {
	var err error
	select {
	case <-h.stopped:
		for _, s := range h.servers {
			select {
			case <-s.Done():
				err = cmp.Or(err, s.Err())
			default:
			}
		}
		if err != nil {
			err = fmt.Errorf("serve: %w", err)
		}
	case <-ctx.Done():
		h.log.Info("shutting down")
	}
	return cmp.Or(err, h.Close())
}

// Close shuts down in order: stop accepting on every listener, close
// every relay client, then shut the HTTP servers down within
// ShutdownGrace and wait for them. A second Close does nothing.
func (h *Host) Close() error {
	if h.closed {
		return nil
	}
	h.closed = true
	for _, s := range h.servers {
		s.StopAccepting()
	}
	if h.stopHUP != nil {
		h.stopHUP()
	}
	h.relay.Close()
	ctx, cancel := context.WithTimeout(context.Background(), ShutdownGrace)
	defer cancel()
	var errs []error
	for _, s := range h.servers {
		if err := s.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("serve %s: %w", s.Addr(), err))
		}
	}
	return errors.Join(errs...)
}
