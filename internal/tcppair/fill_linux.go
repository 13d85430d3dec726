//go:build linux

package tcppair

import (
	"net"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Fill fills c's send buffer and its peer's receive buffer, the peer
// not reading, and returns how many bytes that took: the next
// non-blocking send on c says EAGAIN, and keeps saying it. c's send
// buffer is set (which stops the kernel growing it), then sends go
// until EAGAIN, again until the kernel has every byte it sent
// acknowledged: with nothing in flight no acknowledgement can come back
// to make room.
func Fill(t testing.TB, c net.Conn) int {
	t.Helper()
	if err := c.(*net.TCPConn).SetWriteBuffer(64 << 10); err != nil {
		t.Fatal(err)
	}
	rc, err := c.(syscall.Conn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 4096)
	n := 0
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		var unacked uint32
		var ferr error
		if err := rc.Control(func(fd uintptr) {
			for {
				k, err := syscall.Write(int(fd), chunk)
				if err != nil {
					if err != syscall.EAGAIN {
						ferr = err
					}
					break
				}
				n += k
			}
			info, err := unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO)
			if err != nil {
				ferr = err
				return
			}
			unacked = info.Unacked
		}); err != nil {
			t.Fatal(err)
		}
		switch {
		case ferr != nil:
			t.Fatalf("filling the socket: %v", ferr)
		case unacked == 0:
			return n
		case time.Now().After(deadline):
			t.Fatalf("filling the socket: %d segments still unacknowledged after 5 s", unacked)
		}
	}
}
