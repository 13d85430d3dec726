package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/jambridge/jambridge/cmd/internal/logging"
	"github.com/jambridge/jambridge/cmd/internal/relayhost"
	"github.com/jambridge/jambridge/relay"
)

// hostedRelay is the relay jambridge embeds when it hosts the session:
// the same routes and shutdown as jamrelay's.
type hostedRelay struct {
	srv      *relay.Server
	host     *relayhost.Host
	localURL string                 // for our own connection
	shareURL string                 // for the others: this machine's LAN address
	tokens   bool                   // the relay wants access tokens
	cert     *relayhost.Certificate // served over TLS; nil: plain HTTP
}

// hostRelay starts the embedded relay on addr over plain HTTP; with
// authSecret every client must present an access token it signed.
func hostRelay(addr string, authSecret []byte, log *slog.Logger) (*hostedRelay, error) {
	return hostRelayTLS(addr, authSecret, log, nil)
}

// hostRelayTLS hosts the relay over TLS with cert (HTTPS and WSS only,
// reloaded on SIGHUP), or over plain HTTP when cert is nil.
func hostRelayTLS(addr string, authSecret []byte, log *slog.Logger, cert *relayhost.Certificate) (*hostedRelay, error) {
	srv, err := relay.NewServer(relay.Config{Logger: quietRelayLog(log), AuthSecret: authSecret, HostNames: relayhost.MachineNames()})
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("cannot host the session on %s: %w (is another jambridge or jamrelay running? pick another --listen)", addr, err)
	}
	h := &hostedRelay{srv: srv, host: relayhost.New(srv, log), tokens: authSecret != nil, cert: cert}
	scheme := "http"
	if cert != nil {
		h.host.SetTLS(cert)
		scheme = "https"
	}
	h.host.Serve(ln)
	port := ln.Addr().(*net.TCPAddr).Port
	h.localURL = fmt.Sprintf("%s://127.0.0.1:%d", scheme, port)
	h.shareURL = fmt.Sprintf("%s://%s:%d", scheme, lanAddress(), port)
	log.Info("hosting the jam session", "listen", ln.Addr().String(), "share", h.shareURL)
	return h, nil
}

// ownTokenTTL is how long the token the host signs for its own
// connection lasts: a token is checked when a connection starts, and the
// host's connection to its own relay lasts as long as the relay.
const ownTokenTTL = 365 * 24 * time.Hour

// ownToken signs the access token of our own connection to the relay we
// host with an auth secret: for room, when one is given.
func ownToken(authSecret []byte, room string) (string, error) {
	return relay.SignToken(authSecret, relay.TokenClaims{Room: room, Expires: time.Now().Add(ownTokenTTL)})
}

// Close stops accepting, disconnects every client and stops serving.
func (h *hostedRelay) Close() error { return h.host.Close() }

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
	log = log.With("component", "relay")
	if log.Enabled(context.Background(), slog.LevelDebug) {
		return log
	}
	return logging.AtLeast(log, slog.LevelWarn)
}
