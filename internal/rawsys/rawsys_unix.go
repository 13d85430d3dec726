//go:build unix && !linux

package rawsys

import (
	"errors"
	"syscall"
)

// Write and Read: the ordinary system calls where the raw ones of
// rawsys_linux.go are not worth their risk.
func Write(fd uintptr, b []byte) (int, syscall.Errno) {
	return errno(syscall.Write(int(fd), b))
}

func Read(fd uintptr, b []byte) (int, syscall.Errno) {
	return errno(syscall.Read(int(fd), b))
}

func errno(n int, err error) (int, syscall.Errno) {
	var e syscall.Errno
	if err != nil && !errors.As(err, &e) {
		e = syscall.EIO
	}
	if e != 0 {
		n = 0
	}
	return n, e
}
