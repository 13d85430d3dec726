package redistest

import (
	"errors"
	"net"
	"strconv"
	"testing"
)

// A port someone else listens on is not taken for this Redis: the
// server exits at start (the address is in use), and Start says so
// instead of taking the other listener for it.
func TestStartSeesTheServerExitOnATakenPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() { // the other listener accepts and says nothing
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	s := &Server{t: t, bin: Binary(t, "redis-server"), Addr: "127.0.0.1:" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)}
	t.Cleanup(s.Stop)
	if err := s.start(); !errors.Is(err, errExited) {
		t.Fatalf("start on a taken port: %v, want %v", err, errExited)
	}
}

// Start's server answers PING.
func TestStartAnswersPing(t *testing.T) {
	s := Start(t)
	if err := s.ping(); err != nil {
		t.Fatal(err)
	}
}
