//go:build linux && !386

package rawsys

import (
	"syscall"
	"unsafe"
)

// tcpInq is TCP_INQ (and its control message's type, TCP_CM_INQ), Linux
// 4.18: with it set, each recvmsg(2) on a TCP socket reports how many
// bytes the socket still holds after the read, and at least 1 once the
// peer's FIN has come (tcp_inq_hint), so "nothing more" means the next
// read would say EAGAIN.
const tcpInq = 36

// EnableInq sets TCP_INQ on fd, a TCP socket, and reports whether the
// kernel took it: ReadInq then knows whether a read left anything.
func EnableInq(fd uintptr) bool {
	return syscall.SetsockoptInt(int(fd), syscall.SOL_TCP, tcpInq, 1) == nil
}

// inqSpace holds one control message of an int32.
const inqSpace = 32

// ReadInq makes one recvmsg(2) into b on fd, a non-blocking TCP socket,
// as Read does, and reports whether the socket holds more to read after
// it: more data, or the end of the stream. more is true whenever the
// kernel did not say (TCP_INQ not set on fd, an error).
func ReadInq(fd uintptr, b []byte) (n int, more bool, errno syscall.Errno) {
	if len(b) == 0 {
		return 0, true, 0
	}
	var cmsg [inqSpace]byte
	iov := syscall.Iovec{Base: &b[0]}
	iov.SetLen(len(b))
	msg := syscall.Msghdr{Iov: &iov, Iovlen: 1, Control: &cmsg[0]}
	msg.SetControllen(len(cmsg))
	r, _, e := syscall.RawSyscall(syscall.SYS_RECVMSG, fd, uintptr(unsafe.Pointer(&msg)), 0)
	if e != 0 {
		return 0, true, e
	}
	return int(r), inqMore(cmsg[:], int(msg.Controllen)), 0
}

// inqMore reads TCP_CM_INQ from a control buffer of length n: true
// unless it is there and says 0.
func inqMore(cmsg []byte, n int) bool {
	if n < syscall.CmsgLen(4) {
		return true
	}
	h := (*syscall.Cmsghdr)(unsafe.Pointer(&cmsg[0]))
	if h.Level != syscall.SOL_TCP || h.Type != tcpInq {
		return true
	}
	return *(*int32)(unsafe.Pointer(&cmsg[syscall.CmsgLen(0)])) != 0
}
