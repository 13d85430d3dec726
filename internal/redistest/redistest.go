package redistest

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"
)

// RequireEnv, when "1", makes a missing server binary a failure.
const RequireEnv = "JAMBRIDGE_REQUIRE_SERVERS"

// startWait bounds the wait for redis-server to accept connections; it
// is not a speed assertion.
const startWait = 10 * time.Second

// Server is one redis-server process, restartable on the same port.
type Server struct {
	t    testing.TB
	bin  string
	Addr string // host:port
	cmd  *exec.Cmd
	done chan struct{} // closed once cmd has exited (and been waited for)
}

// Binary returns the path of name, or fails or skips the test when it
// is missing (see RequireEnv).
func Binary(t testing.TB, name string) string {
	t.Helper()
	bin, err := exec.LookPath(name)
	if err == nil {
		return bin
	}
	if os.Getenv(RequireEnv) == "1" {
		t.Fatalf("%s is missing and %s=1: install it (apt-get install %s)", name, RequireEnv, name)
	}
	t.Skipf("%s is missing: install it to run this test (make test installs it)", name)
	return ""
}

// FreePort returns a TCP port of 127.0.0.1 free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// Start runs a redis-server for the test, stopped at its end.
func Start(t testing.TB) *Server {
	t.Helper()
	bin := Binary(t, "redis-server")
	for try := 1; ; try++ {
		s := &Server{t: t, bin: bin, Addr: "127.0.0.1:" + strconv.Itoa(FreePort(t))}
		t.Cleanup(s.Stop) // also a server that does not answer in time
		err := s.start()
		if err == nil {
			return s
		}
		if !errors.Is(err, errExited) || try == startTries {
			t.Fatal(err)
		}
		// Something took the port after FreePort let go of it: nobody
		// knows the address yet, so take another.
	}
}

// startTries bounds Start's new ports when redis-server exits at start.
const startTries = 3

// errExited is redis-server gone at start: the port was taken after
// FreePort let go of it (or a flag is wrong).
var errExited = errors.New("redis-server exited at start")

// Reserve returns a Server on a free port that is not started yet: a
// Redis that is down until Start.
func Reserve(t testing.TB) *Server {
	t.Helper()
	s := &Server{t: t, bin: Binary(t, "redis-server"), Addr: "127.0.0.1:" + strconv.Itoa(FreePort(t))}
	t.Cleanup(s.Stop)
	return s
}

// URL returns the server's redis:// URL.
func (s *Server) URL() string { return "redis://" + s.Addr + "/0" }

// Start runs the server (again, empty) and waits until it answers PING.
func (s *Server) Start() {
	s.t.Helper()
	if err := s.start(); err != nil {
		s.t.Fatal(err)
	}
}

func (s *Server) start() error {
	_, port, _ := net.SplitHostPort(s.Addr)
	s.cmd = exec.Command(s.bin, "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--protected-mode", "no", "--loglevel", "warning")
	s.cmd.Dir = s.t.TempDir()
	if err := s.cmd.Start(); err != nil {
		s.cmd = nil
		return fmt.Errorf("start redis-server: %w", err)
	}
	s.done = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) {
		cmd.Wait()
		close(done)
	}(s.cmd, s.done)
	deadline := time.Now().Add(startWait)
	for {
		err := s.ping()
		if err == nil {
			return nil
		}
		select {
		case <-s.done:
			state := s.cmd.ProcessState
			s.cmd = nil
			return fmt.Errorf("%w on %s (%v); the last try: %v", errExited, s.Addr, state, err)
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("redis-server on %s did not answer PING within %v: %v", s.Addr, startWait, err)
		}
		time.Sleep(10 * time.Millisecond) // polling for a port to open, not an assertion
	}
}

// ping checks that what listens on Addr is a Redis that answers: a
// listener of another test on a port FreePort returned is not.
func (s *Server) ping() error {
	c, err := net.DialTimeout("tcp", s.Addr, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	b := make([]byte, 7)
	if _, err := io.ReadFull(c, b); err != nil {
		return fmt.Errorf("no answer to PING: %w", err)
	}
	if string(b) != "+PONG\r\n" {
		return fmt.Errorf("PING answered %q, not +PONG: not this redis-server", b)
	}
	return nil
}

// Stop kills the server (as a crash would) and waits for it.
func (s *Server) Stop() {
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Kill()
	<-s.done
	s.cmd = nil
}

// String describes the server for messages.
func (s *Server) String() string { return fmt.Sprintf("redis-server on %s", s.Addr) }
