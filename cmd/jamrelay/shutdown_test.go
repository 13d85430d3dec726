package main

import (
	"net"
	"net/http"
	"sync"
	"testing"

	"github.com/jambridge/jambridge/relay"
)

// shutdown closes each listener before http.Server.Shutdown does, to stop
// accepting first. When Serve has not yet seen that close, the server
// still tracks the listener and closes it again: net.ErrClosed, which is
// no failure (SIGTERM made jamrelay exit 1 in about 3 runs of 100).
func TestShutdownWhileServeStillTracksTheListener(t *testing.T) {
	srv, err := relay.NewServer(relay.Config{})
	if err != nil {
		t.Fatal(err)
	}
	ln := &stickyListener{accepting: make(chan struct{}), gone: make(chan struct{})}
	hs := &http.Server{Handler: http.NotFoundHandler()}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	<-ln.accepting // Serve tracks ln and waits in Accept
	if err := shutdown([]*http.Server{hs}, []net.Listener{ln}, srv); err != nil {
		t.Errorf("shutdown: %v, want nil", err)
	}
	if n := ln.closes(); n != 2 {
		t.Errorf("the listener was closed %d times, want 2 (by shutdown, then by the HTTP server)", n)
	}
	<-served
}

// stickyListener's Accept returns only at its second Close: it stands for
// a listener whose first close Serve has not noticed yet.
type stickyListener struct {
	accepting chan struct{} // closed at the first Accept
	gone      chan struct{} // closed at the second Close
	once      sync.Once
	mu        sync.Mutex
	n         int
}

func (l *stickyListener) Accept() (net.Conn, error) {
	l.once.Do(func() { close(l.accepting) })
	<-l.gone
	return nil, &net.OpError{Op: "accept", Net: "tcp", Err: net.ErrClosed}
}

func (l *stickyListener) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.n++
	switch l.n {
	case 1:
		return nil
	case 2:
		close(l.gone)
	}
	return &net.OpError{Op: "close", Net: "tcp", Err: net.ErrClosed}
}

func (l *stickyListener) closes() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.n
}

func (l *stickyListener) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)} }
