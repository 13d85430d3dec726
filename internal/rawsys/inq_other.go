//go:build unix && !(linux && !386)

package rawsys

import "syscall"

// EnableInq: TCP_INQ is Linux's (and recvmsg is not a system call of
// its own on 386); elsewhere ReadInq always says more.
func EnableInq(uintptr) bool { return false }

// ReadInq is Read, with more always true.
func ReadInq(fd uintptr, b []byte) (int, bool, syscall.Errno) {
	n, errno := Read(fd, b)
	return n, true, errno
}
