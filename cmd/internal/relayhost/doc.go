// Package relayhost serves a relay.Server over HTTP for jamrelay and for
// `jambridge run` when it hosts the session: one mux (the relay at
// /socket.io/, GET /healthz, and whatever the caller mounts, such as the
// jam page at /), Prometheus /metrics on a listener of its own, and one
// shutdown order. Both commands get the same routes, the same /healthz
// body and the same clean exit.
//
// Shutdown order (Host.Close): stop accepting on every listener, close
// the relay's clients (http.Server.Shutdown does not close hijacked
// websockets; the relay sends each a close frame, or a close packet to a
// pending long-poll), then shut the HTTP servers down, waiting at most
// ShutdownGrace for requests in flight. Each listener is closed once: the
// HTTP server's own close of it is a no-op, never an error.
//
// TLS (SetTLS, Certificate): the relay's listener serves HTTPS and WSS
// only, HTTP/1.1, with a certificate read from two files and read again
// on SIGHUP; handshakes take the current one through GetCertificate, a
// reload swaps it atomically and one that fails keeps the old. Every
// relay listener has the HTTP limits of Timeouts (read-header and idle
// timeouts, a header size bound) and counts its connections per client
// address through relay.Server.ConnState.
//
// # Concurrency
//
// Each Server has one goroutine, its http.Server's Serve loop; it is
// owned by the Server, and Shutdown stops it and waits for it. A Host
// owns its Servers: Mount before Serve, then Close (or Run) from one
// goroutine; Close is safe to call more than once. With TLS, the Host
// owns one more goroutine, which reloads the certificate on SIGHUP:
// Serve starts it, Close stops it (and the signal's delivery) and waits
// for it before closing the relay.
package relayhost
