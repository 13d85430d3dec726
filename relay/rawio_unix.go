//go:build unix && !linux

package relay

import (
	"errors"
	"syscall"
)

// sysWrite and sysRead: the ordinary system calls where the raw ones of
// rawio_linux.go are not worth their risk.
func sysWrite(fd uintptr, b []byte) (int, syscall.Errno) {
	return errno(syscall.Write(int(fd), b))
}

func sysRead(fd uintptr, b []byte) (int, syscall.Errno) {
	return errno(syscall.Read(int(fd), b))
}

func errno(n int, err error) (int, syscall.Errno) {
	var e syscall.Errno
	if err != nil && !errors.As(err, &e) {
		e = syscall.EIO
	}
	return n, e
}
