// Package tcppair gives tests the two ends of a loopback TCP connection,
// and (Linux) a wait for a socket's epoll events (AwaitEvents), for the
// tests of raw socket reads and writes (internal/rawsys, relay,
// relay/redisbroker, cmd/jamload).
//
// # Concurrency
//
// New is safe to call from any test; the ends are the caller's, closed
// at the test's end.
package tcppair

import (
	"net"
	"testing"
)

// New returns the client's and the server's ends of a loopback TCP
// connection, both closed when the test ends.
func New(t testing.TB) (client, server net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server, err = ln.Accept()
	if err != nil {
		client.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}
