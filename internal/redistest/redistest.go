package redistest

import (
	"fmt"
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
	s := &Server{t: t, bin: Binary(t, "redis-server"), Addr: "127.0.0.1:" + strconv.Itoa(FreePort(t))}
	s.Start()
	t.Cleanup(s.Stop)
	return s
}

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

// Start runs the server (again, empty) and waits until it accepts.
func (s *Server) Start() {
	s.t.Helper()
	_, port, _ := net.SplitHostPort(s.Addr)
	s.cmd = exec.Command(s.bin, "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--protected-mode", "no", "--loglevel", "warning")
	s.cmd.Dir = s.t.TempDir()
	if err := s.cmd.Start(); err != nil {
		s.t.Fatalf("start redis-server: %v", err)
	}
	deadline := time.Now().Add(startWait)
	for {
		c, err := net.DialTimeout("tcp", s.Addr, time.Second)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("redis-server on %s did not accept within %v: %v", s.Addr, startWait, err)
		}
		time.Sleep(10 * time.Millisecond) // polling for a port to open, not an assertion
	}
}

// Stop kills the server (as a crash would) and waits for it.
func (s *Server) Stop() {
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Kill()
	s.cmd.Wait()
	s.cmd = nil
}

// String describes the server for messages.
func (s *Server) String() string { return fmt.Sprintf("redis-server on %s", s.Addr) }
