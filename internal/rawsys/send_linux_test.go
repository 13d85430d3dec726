//go:build linux && !386

package rawsys_test

import (
	"net"
	"os"
	"os/signal"
	"syscall"
	"testing"

	"github.com/jambridge/jambridge/internal/rawsys"
	"github.com/jambridge/jambridge/internal/tcppair"
)

// A write to a socket that can no longer send says EPIPE and raises no
// SIGPIPE (send(2) with MSG_NOSIGNAL): the signal would cost a trip
// through the runtime's handler for every write to a member gone.
// SIGWINCH, sent after the write, is the barrier: the runtime hands a
// process its pending signals lowest number first, and a SIGPIPE raised
// by the write would be pending or delivered by then.
func TestWriteOnAClosedSocketRaisesNoSigpipe(t *testing.T) {
	a, _ := tcppair.New(t)
	if err := a.(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGPIPE, syscall.SIGWINCH)
	defer signal.Stop(sigs)
	var errno syscall.Errno
	rawsys.Conn(a).Control(func(fd uintptr) { _, errno = rawsys.Write(fd, []byte("late")) })
	if errno != syscall.EPIPE {
		t.Fatalf("write after the socket's shutdown: errno %v, want EPIPE", errno)
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGWINCH); err != nil {
		t.Fatal(err)
	}
	if got := <-sigs; got != syscall.SIGWINCH {
		t.Fatalf("first signal after the write: %v, want SIGWINCH (the write raised SIGPIPE)", got)
	}
}
