package rawsys

import (
	"syscall"
	"unsafe"
)

// Write makes one write(2) of b on fd, a non-blocking descriptor.
func Write(fd uintptr, b []byte) (int, syscall.Errno) {
	return raw(syscall.SYS_WRITE, fd, b)
}

// Read makes one read(2) into b on fd, a non-blocking descriptor.
func Read(fd uintptr, b []byte) (int, syscall.Errno) {
	return raw(syscall.SYS_READ, fd, b)
}

func raw(trap, fd uintptr, b []byte) (int, syscall.Errno) {
	if len(b) == 0 {
		return 0, 0
	}
	n, _, errno := syscall.RawSyscall(trap, fd, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
	if errno != 0 {
		return 0, errno
	}
	return int(n), 0
}
