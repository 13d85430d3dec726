package tcppair

import (
	"net"
	"syscall"
	"testing"
)

// AwaitEvents waits (5 s at most, then fails the test) until the socket
// of c reports every epoll event of want, as a level-triggered epoll of
// its own sees it beside Go's poller: to know data, a FIN or a reset is
// in before a test reads.
func AwaitEvents(t testing.TB, c net.Conn, want uint32) {
	t.Helper()
	sc, ok := c.(syscall.Conn)
	if !ok {
		t.Fatalf("a %T has no socket", c)
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	ep, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(ep)
	if cerr := rc.Control(func(fd uintptr) {
		err = syscall.EpollCtl(ep, syscall.EPOLL_CTL_ADD, int(fd), &syscall.EpollEvent{Events: want})
	}); cerr != nil {
		t.Fatal(cerr)
	}
	if err != nil {
		t.Fatal(err)
	}
	evs := make([]syscall.EpollEvent, 1)
	for {
		n, err := syscall.EpollWait(ep, evs, 5000)
		switch {
		case err == syscall.EINTR:
			continue
		case err != nil:
			t.Fatal(err)
		case n == 0:
			t.Fatalf("no events %#x on the socket within 5 s", want)
		case evs[0].Events&want == want:
			return
		}
	}
}
