package rawsys

import (
	"net"
	"syscall"
)

// Conn returns c's raw descriptor, nil where it has none (TLS, pipes).
func Conn(c net.Conn) syscall.RawConn {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	return rc
}
