//go:build unix

package relay

import (
	"io"
	"net"
	"os"
	"syscall"

	"github.com/jambridge/jambridge/internal/rawsys"
)

// newDirectConn returns nil where conn has no raw descriptor (TLS, tests'
// pipes): every packet then goes through the queue.
func newDirectConn(conn net.Conn) *directConn {
	rc := rawsys.Conn(conn)
	if rc == nil {
		return nil
	}
	dc := &directConn{rc: rc}
	dc.try, dc.hold = dc.tryWrite, dc.holdOne
	return dc
}

// write makes one non-blocking write(2) attempt of dc.buf and returns how
// much the kernel took.
//
// It runs inside RawConn.Control, not RawConn.Write: Control only holds
// a reference to the descriptor (a Close waits for it, and a closed one
// is refused), where Write also takes the descriptor's write lock and
// resets its poller state, for a wait this write never makes. No other
// write can run meanwhile: a direct write is made under the connWriter's
// mu and only while no writer goroutine runs and no batch holds a claim
// (direct.go).
func (dc *directConn) write() (int, error) {
	dc.n, dc.err = 0, nil
	if err := dc.rc.Control(dc.try); err != nil {
		return 0, err
	}
	return max(dc.n, 0), dc.err
}

// tryWrite is rc.Control's callback: one write(2), never a wait for the
// socket to become writable.
func (dc *directConn) tryWrite(fd uintptr) {
	n, errno := rawsys.Write(fd, dc.buf)
	if errno != 0 {
		n, dc.err = 0, errno
	}
	dc.n = n
}

// rawReader reads a websocket's socket for its one reader (wsConn.Read)
// with rawsys.Read, parking on Go's poller (RawConn.Read) when there is
// nothing to read: what net.Conn.Read does, without the scheduler's
// system call bookkeeping. Deadlines and Close work as for Read.
type rawReader struct {
	rc  syscall.RawConn
	inq bool   // TCP_INQ is set: a serving read knows whether it left anything (serve_unix.go)
	buf []byte // the caller's, during one read
	n   int
	err error
	try func(fd uintptr) bool // rc.Read's callback, made once
}

// newRawReader returns nil where conn has no raw descriptor.
func newRawReader(conn net.Conn) *rawReader {
	rc := rawsys.Conn(conn)
	if rc == nil {
		return nil
	}
	r := &rawReader{rc: rc}
	r.try = r.tryRead
	_ = rc.Control(func(fd uintptr) { r.inq = rawsys.EnableInq(fd) })
	return r
}

// read reads into b as net.Conn.Read does: some bytes, io.EOF at the end
// of the stream, or the error of the system call or of the poller (a
// deadline, a closed connection).
func (r *rawReader) read(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	r.buf, r.n, r.err = b, 0, nil
	err := r.rc.Read(r.try)
	r.buf = nil
	switch {
	case err != nil:
		return 0, err
	case r.err != nil:
		return 0, r.err
	case r.n == 0:
		return 0, io.EOF
	}
	return r.n, nil
}

// tryRead is rc.Read's callback: false asks the poller to wait for input.
func (r *rawReader) tryRead(fd uintptr) bool {
	for {
		n, errno := rawsys.Read(fd, r.buf)
		switch errno {
		case 0:
			r.n = n
			return true
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return false
		default:
			r.err = os.NewSyscallError("read", errno)
			return true
		}
	}
}
