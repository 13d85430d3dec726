//go:build !linux

package redisbroker

import "net"

// rawIO: the connection as it is; raw system calls are Linux's here
// (rawconn_linux.go).
func rawIO(c net.Conn) net.Conn { return c }
