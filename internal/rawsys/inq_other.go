//go:build unix && !linux

package rawsys

import "syscall"

// EnableInq: TCP_INQ is Linux's; elsewhere ReadInq always says more.
func EnableInq(uintptr) bool { return false }

// ReadInq is Read, with more always true.
func ReadInq(fd uintptr, b []byte) (int, bool, syscall.Errno) {
	n, errno := Read(fd, b)
	return n, true, errno
}
