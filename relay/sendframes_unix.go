//go:build unix && !linux

package relay

import (
	"syscall"

	"github.com/jambridge/jambridge/internal/rawsys"
)

// sendFrames writes bufs[i] to fds[i] with one non-blocking send each.
func sendFrames(fds []uintptr, bufs [][]byte, n []int, errs []syscall.Errno) (byRing int) {
	for i, fd := range fds {
		n[i], errs[i] = rawsys.Write(fd, bufs[i])
	}
	return 0
}
