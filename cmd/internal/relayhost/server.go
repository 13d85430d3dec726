package relayhost

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// readHeaderTimeout bounds a request's headers (and a TLS handshake),
// on every listener.
const readHeaderTimeout = 10 * time.Second

// idleTimeout closes a keep-alive connection idle this long between two
// requests. A long-polling client polls again at once, and a websocket
// is no longer HTTP: only forgotten connections wait this long.
const idleTimeout = 30 * time.Second

// maxHeaderBytes bounds a request's headers.
const maxHeaderBytes = 64 << 10

// Timeouts are the HTTP server's limits on the relay's listener. There
// is no read or write timeout for a whole request: a long-poll GET is
// answered up to a ping interval later, and the relay bounds each POST
// body and each response itself (relay.Config.WriteTimeout).
type Timeouts struct {
	// ReadHeader bounds a request's headers, and a TLS handshake.
	ReadHeader time.Duration
	// Idle closes a keep-alive connection idle this long.
	Idle time.Duration
}

// DefaultTimeouts are readHeaderTimeout and idleTimeout.
func DefaultTimeouts() Timeouts {
	return Timeouts{ReadHeader: readHeaderTimeout, Idle: idleTimeout}
}

func (t Timeouts) apply(hs *http.Server) {
	hs.ReadHeaderTimeout = t.ReadHeader
	hs.IdleTimeout = t.Idle
	hs.MaxHeaderBytes = maxHeaderBytes
}

// Server is one http.Server on one listener, serving from Start until
// Shutdown.
type Server struct {
	hs     *http.Server
	notify chan<- struct{} // told, without blocking, when Serve returns; may be nil
	ln     *onceListener
	done   chan struct{} // closed when Serve has returned
	asked  atomic.Bool   // StopAccepting was called: Serve's end is no failure
	err    error         // Serve's error; read after done
}

// Start serves h on ln in a goroutine of its own.
func Start(ln net.Listener, h http.Handler) *Server { return start(ln, h, nil, nil) }

// start serves h on ln; configure, when not nil, sets up the http.Server
// before it serves.
func start(ln net.Listener, h http.Handler, notify chan<- struct{}, configure func(*http.Server)) *Server {
	s := &Server{
		hs:     &http.Server{Handler: h, ReadHeaderTimeout: readHeaderTimeout, IdleTimeout: idleTimeout, MaxHeaderBytes: maxHeaderBytes},
		notify: notify,
		ln:     &onceListener{Listener: ln},
		done:   make(chan struct{}),
	}
	if configure != nil {
		configure(s.hs)
	}
	go func() {
		defer func() {
			close(s.done)
			select {
			case s.notify <- struct{}{}:
			default: // one pending notice is enough to look at them all
			}
		}()
		s.err = s.hs.Serve(s.ln)
	}()
	return s
}

// Addr is the address the server listens on.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Done is closed when the server has stopped serving, on its own (Err
// says why) or after StopAccepting or Shutdown.
func (s *Server) Done() <-chan struct{} { return s.done }

// Err is why the server stopped serving: nil after a StopAccepting or
// Shutdown, else the error of Serve. Valid once Done is closed.
func (s *Server) Err() error {
	<-s.done
	if s.asked.Load() || errors.Is(s.err, http.ErrServerClosed) {
		return nil
	}
	return s.err
}

// StopAccepting closes the listener: no new connection is accepted,
// those open are served on.
func (s *Server) StopAccepting() {
	s.asked.Store(true)
	s.hs.SetKeepAlivesEnabled(false)
	_ = s.ln.Close()
}

// Shutdown stops accepting, waits for requests in flight until ctx ends,
// closes what is left, and waits for the Serve goroutine. It returns the
// error that stopped the server earlier, if one did; a ctx that ends
// first is not an error.
func (s *Server) Shutdown(ctx context.Context) error {
	s.StopAccepting()
	if err := s.hs.Shutdown(ctx); err != nil {
		_ = s.hs.Close() // grace is over: cut the rest
	}
	return s.Err()
}

// onceListener closes its listener once; later calls (http.Server's own,
// in Shutdown) return the first call's result instead of "use of closed
// network connection".
type onceListener struct {
	net.Listener
	once sync.Once
	err  error // the first Close's; written in once
}

func (l *onceListener) Close() error {
	l.once.Do(func() { l.err = l.Listener.Close() })
	return l.err
}

// MetricsHandler serves GET /metrics from a registry of its own: cs, and
// the Go runtime and process collectors. Scrape errors go to log.
func MetricsHandler(log *slog.Logger, cs ...prometheus.Collector) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(append(cs, collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))...)
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelError),
		Registry: reg, // counts its own errors
	}))
	return mux
}
