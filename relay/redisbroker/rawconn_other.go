//go:build !linux

package redisbroker

import "net"

// rawIO: the connection as it is; raw system calls are Linux's here
// (rawconn_linux.go).
func rawIO(c net.Conn) net.Conn { return c }

// rawConn is never made here: no direct writes (publisher.ready).
type rawConn struct{ net.Conn }

func (c *rawConn) tryWrite([]byte) (int, error) { panic("unreachable: no raw writes on this system") }
