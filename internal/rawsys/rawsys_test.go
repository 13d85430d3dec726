//go:build unix

package rawsys_test

import (
	"net"
	"syscall"
	"testing"

	"github.com/jambridge/jambridge/internal/rawsys"
	"github.com/jambridge/jambridge/internal/tcppair"
)

// Read on an empty socket says EAGAIN at once (the descriptor is
// non-blocking); what Write wrote, Read reads.
func TestWriteThenRead(t *testing.T) {
	a, b := tcppair.New(t)
	ra, rb := rawsys.Conn(a), rawsys.Conn(b)
	if ra == nil || rb == nil {
		t.Fatal("a TCP connection has no raw descriptor")
	}
	buf := make([]byte, 16)
	var n int
	var errno syscall.Errno
	rb.Read(func(fd uintptr) bool { n, errno = rawsys.Read(fd, buf); return true })
	if errno != syscall.EAGAIN || n != 0 {
		t.Fatalf("read on an empty socket = %d, %v; want 0, EAGAIN", n, errno)
	}
	ra.Write(func(fd uintptr) bool { n, errno = rawsys.Write(fd, []byte("hello")); return true })
	if errno != 0 || n != 5 {
		t.Fatalf("write = %d, %v; want 5, 0", n, errno)
	}
	var got []byte
	rb.Read(func(fd uintptr) bool { // the poller waits until the bytes are there
		n, errno = rawsys.Read(fd, buf)
		if errno == syscall.EAGAIN {
			return false
		}
		got = buf[:n]
		return true
	})
	if errno != 0 || string(got) != "hello" {
		t.Fatalf("read = %q, %v; want \"hello\", 0", got, errno)
	}
}

// A connection without a descriptor (a pipe) has no raw one.
func TestConnOfAPipe(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	if rawsys.Conn(a) != nil {
		t.Fatal("a pipe has a raw descriptor")
	}
}
