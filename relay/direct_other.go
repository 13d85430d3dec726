//go:build !unix

package relay

import (
	"net"
	"syscall"
)

// newDirectConn: no direct writes here, every packet goes through the
// queue and its writer.
func newDirectConn(net.Conn) *directConn { return nil }

func (dc *directConn) write() (int, error) { panic("unreachable: no direct writes on this system") }

// rawReader: reads go through net.Conn.Read here.
type rawReader struct{}

func newRawReader(net.Conn) *rawReader { return nil }

func (r *rawReader) read([]byte) (int, error) { panic("unreachable: no raw reads on this system") }

// serving reads: none here (no raw descriptor, canServe is false).
type serveExit uint8

func (c *wsConn) serve(func() bool, func([]byte) bool) bool {
	panic("unreachable: no serving reads on this system")
}

func (c *wsConn) serveRead([]byte) (int, error) {
	panic("unreachable: no serving reads on this system")
}

func sendFrames([]uintptr, [][]byte, []int, []syscall.Errno) int {
	panic("unreachable: no direct writes on this system")
}
