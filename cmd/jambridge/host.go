package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/jambridge/jambridge/relay"
	"github.com/jambridge/jambridge/web"
)

// hostedRelay is the relay jambridge embeds when it hosts the session.
type hostedRelay struct {
	srv      *relay.Server
	http     *http.Server
	ln       net.Listener
	localURL string // for our own connection
	shareURL string // for the others: this machine's LAN address
	served   chan error
}

func hostRelay(addr string, log *slog.Logger) (*hostedRelay, error) {
	srv, err := relay.NewServer(relay.Config{Logger: quietRelayLog(log)})
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("cannot host the session on %s: %w (is another jambridge or jamrelay running? pick another --listen)", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", srv)
	mux.Handle("/", web.Handler())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, `{"status":"ok"}`) })
	h := &hostedRelay{srv: srv, ln: ln, served: make(chan error, 1),
		http: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}}
	port := ln.Addr().(*net.TCPAddr).Port
	h.localURL = fmt.Sprintf("http://127.0.0.1:%d", port)
	h.shareURL = fmt.Sprintf("http://%s:%d", lanAddress(), port)
	go func() { h.served <- h.http.Serve(ln) }()
	log.Info("hosting the jam session", "listen", ln.Addr().String(), "share", h.shareURL)
	return h, nil
}

// Close stops accepting, disconnects every client and stops serving.
func (h *hostedRelay) Close() error {
	h.ln.Close()
	h.srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	h.http.Shutdown(ctx)
	if err := <-h.served; err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
		return err
	}
	return nil
}

// lanAddress returns this machine's first private IPv4 address, which
// the other musicians in the room can reach, or localhost.
func lanAddress() string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return "localhost"
	}
	for _, a := range addrs {
		if ip, ok := a.(*net.IPNet); ok && ip.IP.To4() != nil && !ip.IP.IsLoopback() && ip.IP.IsPrivate() {
			return ip.IP.String()
		}
	}
	return "localhost"
}

// quietRelayLog is the embedded relay's logger: warnings and errors only,
// unless the daemon logs at debug. The relay's info lines (one per note
// relayed, as the story asks of a relay) would flood a Pi's journal.
func quietRelayLog(log *slog.Logger) *slog.Logger {
	h := log.With("component", "relay").Handler()
	if h.Enabled(context.Background(), slog.LevelDebug) {
		return slog.New(h)
	}
	return slog.New(minLevel{h, slog.LevelWarn})
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
