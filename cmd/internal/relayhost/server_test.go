package relayhost

import (
	"net"
	"net/http"
	"testing"
)

// Shutdown closes the listener itself, then http.Server.Shutdown closes
// it again while Serve still tracks it (Serve has not seen the first
// close yet): that second close must not be an error, or SIGTERM would
// exit 1 (jamrelay did, in about 3 runs of 100). Here the second close
// always comes while Serve waits in Accept, so the test does not depend
// on timing.
func TestShutdownAfterAcceptStoppedIsClean(t *testing.T) {
	ln := &slowListener{accepting: make(chan struct{}), release: make(chan struct{})}
	s := Start(ln, http.NotFoundHandler())
	<-ln.accepting // Serve tracks ln and waits in Accept
	if err := s.Shutdown(t.Context()); err != nil {
		t.Errorf("Shutdown: %v, want nil", err)
	}
	if ln.closes != 1 {
		t.Errorf("the listener was closed %d times, want once", ln.closes)
	}
}

// slowListener's Accept returns only once it is closed, and counts the
// closes it gets.
type slowListener struct {
	net.Listener
	accepting chan struct{} // closed at the first Accept
	release   chan struct{} // closed at the first Close
	closes    int           // written by Close, which the Shutdown goroutine calls
}

func (l *slowListener) Accept() (net.Conn, error) {
	select {
	case <-l.accepting:
	default:
		close(l.accepting)
	}
	<-l.release
	return nil, net.ErrClosed
}

func (l *slowListener) Close() error {
	l.closes++
	if l.closes == 1 {
		close(l.release)
		return nil
	}
	return net.ErrClosed
}

func (l *slowListener) Addr() net.Addr { return &net.TCPAddr{} }
