//go:build unix

package tcppair

import (
	"net"
	"syscall"
	"testing"
	"time"
)

// Fill fills c's send buffers and its peer's receive buffers, the peer
// not reading, and returns how many bytes that took: the next
// non-blocking send on c says EAGAIN. A blocking write stops when the
// poller no longer says writable, with room left below that mark; raw
// writes then take the rest until the kernel says EAGAIN. No room comes
// back on its own after that: on loopback only a send makes the kernel
// move data, and a zero window's first probe is an RTO away.
func Fill(t testing.TB, c net.Conn) int {
	t.Helper()
	c.SetWriteDeadline(time.Now().Add(200 * time.Millisecond))
	n, err := c.Write(make([]byte, 64<<20))
	if err == nil {
		t.Fatal("64 MB fit in a socket's buffers")
	}
	c.SetWriteDeadline(time.Time{})
	rc, err := c.(syscall.Conn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 4096)
	for {
		var k int
		if cerr := rc.Control(func(fd uintptr) { k, err = syscall.Write(int(fd), chunk) }); cerr != nil {
			t.Fatal(cerr)
		}
		if err == syscall.EAGAIN {
			return n
		}
		if err != nil {
			t.Fatalf("filling the socket: %v", err)
		}
		n += k
	}
}
