// Command jamrelay is the jam session server: a Socket.IO v4 relay that
// browser pages and jambridge daemons join by room code.
//
// It reads its flags and JAMRELAY_* variables into a relay.Config and
// serves the relay.Server through cmd/internal/relayhost, the same host
// `jambridge run` uses: /socket.io/, /healthz, /metrics on a listener of
// its own, and one shutdown order. `jamrelay token` prints an access
// token signed with the --auth-secret-file secret (relay.SignToken): the
// command only wires flags to the relay package.
// its own, and one shutdown order. The flags of a relay facing the
// internet (public.go): --tls-cert/--tls-key (HTTPS and WSS only, the
// certificate reloaded on SIGHUP), --public-url, --trusted-proxy,
// --max-connections-per-ip, --handshake-window and --idle-timeout.
//
// # Concurrency
//
// main's goroutine runs the host until SIGINT or SIGTERM, then closes it:
// stop accepting, close every client, shut the HTTP servers down (at most
// two seconds for requests in flight) and exit 0. The relay's own
// goroutines belong to relay.Server; the HTTP servers' and the SIGHUP
// reloader's to the host.
package main
