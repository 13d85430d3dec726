package redisbroker

import (
	"io"
	"net"
	"os"
	"syscall"

	"github.com/jambridge/jambridge/internal/rawsys"
)

// rawConn is a connection to Redis whose reads and writes are raw system
// calls (RawSyscall) on its non-blocking socket, parking on Go's poller
// when the socket is not ready: what net.Conn does, without the
// scheduler's bookkeeping around a system call. That bookkeeping
// (entersyscall, exitsyscall) keeps the runtime's monitor thread polling
// every 20 µs while the node is busy, and the relay's own sockets avoid
// it for that reason (internal/rawsys); on a busy node the Redis
// connections alone brought it back: half of a node's context switches
// at 40k deliveries/s (README, Relay cluster). Deadlines and Close work
// as for net.Conn.
//
// Each Read and each Write is one caller's at a time, as go-redis and the
// publisher use a connection; a Read and a Write may run at once.
type rawConn struct {
	net.Conn // deadlines, Close and addresses
	rc       syscall.RawConn
}

// rawIO returns c with raw reads and writes, or c where it has no
// descriptor.
func rawIO(c net.Conn) net.Conn {
	rc := rawsys.Conn(c)
	if rc == nil {
		return c
	}
	return &rawConn{Conn: c, rc: rc}
}

// SyscallConn lets go-redis's health check peek at the socket.
func (c *rawConn) SyscallConn() (syscall.RawConn, error) { return c.rc, nil }

func (c *rawConn) Read(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	var n int
	var errno syscall.Errno
	err := c.rc.Read(func(fd uintptr) bool {
		for {
			n, errno = rawsys.Read(fd, b)
			switch errno {
			case syscall.EINTR:
				continue
			case syscall.EAGAIN:
				return false // wait on the poller
			}
			return true
		}
	})
	switch {
	case err != nil:
		return 0, err
	case errno != 0:
		return 0, os.NewSyscallError("read", errno)
	case n == 0:
		return 0, io.EOF
	}
	return n, nil
}

func (c *rawConn) Write(b []byte) (int, error) {
	done := 0
	var errno syscall.Errno
	err := c.rc.Write(func(fd uintptr) bool {
		for done < len(b) {
			n, e := rawsys.Write(fd, b[done:])
			switch e {
			case 0:
				done += n
			case syscall.EINTR:
			case syscall.EAGAIN:
				return false // wait on the poller for room
			default:
				errno = e
				return true
			}
		}
		return true
	})
	if err == nil && errno != 0 {
		err = os.NewSyscallError("write", errno)
	}
	return done, err
}
