//go:build unix

package relay

import (
	"net"
	"syscall"
)

// newDirectConn returns nil where conn has no raw descriptor (TLS, tests'
// pipes): every packet then goes through the queue.
func newDirectConn(conn net.Conn) *directConn {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	dc := &directConn{rc: rc}
	dc.try = dc.tryWrite
	return dc
}

// write makes one non-blocking write(2) attempt of dc.buf and returns how
// much the kernel took.
func (dc *directConn) write() (int, error) {
	dc.n, dc.err = 0, nil
	if err := dc.rc.Write(dc.try); err != nil {
		return 0, err
	}
	return max(dc.n, 0), dc.err
}

// tryWrite is rc.Write's callback: it never waits for the socket to
// become writable.
func (dc *directConn) tryWrite(fd uintptr) bool {
	dc.n, dc.err = syscall.Write(int(fd), dc.buf)
	return true
}
