package relay

import (
	"syscall"
	"unsafe"
)

// sysWrite and sysRead are the relay's system calls on a websocket's
// non-blocking socket, made without telling the Go scheduler
// (RawSyscall): on a non-blocking descriptor they never block, so there
// is no thread to hand the goroutine's P to, and the scheduler's
// bookkeeping around a system call (entersyscall, exitsyscall, and the
// wake-up of its monitor thread, which then polls every 20 µs while the
// relay is busy) is pure cost: about a tenth of the relay's CPU at 40k
// deliveries/s (README, Benchmarks). A raw call delays a collection's
// stop-the-world by its own few microseconds at most.
func sysWrite(fd uintptr, b []byte) (int, syscall.Errno) {
	if len(b) == 0 {
		return 0, 0
	}
	n, _, errno := syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
	return int(n), errno
}

func sysRead(fd uintptr, b []byte) (int, syscall.Errno) {
	if len(b) == 0 {
		return 0, 0
	}
	n, _, errno := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
	return int(n), errno
}
