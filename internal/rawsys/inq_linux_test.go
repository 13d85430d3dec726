//go:build linux && !386

package rawsys_test

import (
	"net"
	"syscall"
	"testing"

	"github.com/jambridge/jambridge/internal/rawsys"
	"github.com/jambridge/jambridge/internal/tcppair"
)

// readInq reads with one ReadInq into a buffer of size n (rc must have
// something to read).
func readInq(t *testing.T, rc syscall.RawConn, n int) (got string, more bool, errno syscall.Errno) {
	t.Helper()
	buf := make([]byte, n)
	rc.Control(func(fd uintptr) {
		var k int
		k, more, errno = rawsys.ReadInq(fd, buf)
		got = string(buf[:k])
	})
	return got, more, errno
}

// With TCP_INQ set, ReadInq says whether the socket holds more after the
// read: the rest of the data; then nothing; and, when the peer's FIN came
// with the last data, more, which the next read finds to be the end.
func TestReadInqSaysWhatIsLeft(t *testing.T) {
	a, b := tcppair.New(t)
	rb := rawsys.Conn(b)
	var ok bool
	rb.Control(func(fd uintptr) { ok = rawsys.EnableInq(fd) })
	if !ok {
		t.Fatal("the kernel refused TCP_INQ (Linux has it since 4.18)")
	}
	if _, err := a.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	tcppair.AwaitEvents(t, b, syscall.EPOLLIN)
	if _, err := a.Write([]byte("bye")); err != nil {
		t.Fatal(err)
	}
	if err := a.(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	tcppair.AwaitEvents(t, b, syscall.EPOLLIN|syscall.EPOLLRDHUP) // the FIN is in, behind "hellobye"
	steps := []struct {
		size int
		want string
		more bool
	}{
		{3, "hel", true},
		{5, "lobye", true}, // nothing left but the FIN: more, so the reader does not park
		{16, "", true},     // the end of the stream
	}
	for _, s := range steps {
		if got, more, errno := readInq(t, rb, s.size); errno != 0 || got != s.want || more != s.more {
			t.Fatalf("read of %d = %q, more %v, errno %v; want %q, more %v", s.size, got, more, errno, s.want, s.more)
		}
	}
}

// Nothing left and no FIN: more is false, and a read then says EAGAIN.
func TestReadInqSaysNothingLeft(t *testing.T) {
	a, b := tcppair.New(t)
	rb := rawsys.Conn(b)
	rb.Control(func(fd uintptr) { rawsys.EnableInq(fd) })
	if _, err := a.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	tcppair.AwaitEvents(t, b, syscall.EPOLLIN)
	if got, more, errno := readInq(t, rb, 16); errno != 0 || got != "hello" || more {
		t.Fatalf("read = %q, more %v, errno %v; want \"hello\", more false", got, more, errno)
	}
	if _, _, errno := readInq(t, rb, 16); errno != syscall.EAGAIN {
		t.Fatalf("read after nothing was left: errno %v, want EAGAIN", errno)
	}
}

// Without TCP_INQ the kernel says nothing, and ReadInq says more.
func TestReadInqWithoutInqSaysMore(t *testing.T) {
	a, b := tcppair.New(t)
	rb := rawsys.Conn(b)
	if _, err := a.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	tcppair.AwaitEvents(t, b, syscall.EPOLLIN)
	if got, more, errno := readInq(t, rb, 16); errno != 0 || got != "hello" || !more {
		t.Fatalf("read = %q, more %v, errno %v; want \"hello\", more true", got, more, errno)
	}
}
