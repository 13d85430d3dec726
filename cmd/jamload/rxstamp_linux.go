package main

import (
	"syscall"
	"unsafe"
)

// rxStamps is the ancillary buffer of one stamped read: room for the one
// stamp message the kernel sends, word-aligned so its header can be
// read in place.
type rxStamps [8]uint64

func (s *rxStamps) bytes() []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(&s[0])), unsafe.Sizeof(*s))
}

// soTimestampNSNew is SO_TIMESTAMPNS_NEW (and its control message's
// type, Linux 5.1): a 64-bit stamp on every architecture, where the old
// option's seconds are 32 bits on 386 and arm (2038). Package syscall
// does not name it.
const soTimestampNSNew = 64

// kernelTimespec is struct __kernel_timespec, what SO_TIMESTAMPNS_NEW
// sends.
type kernelTimespec struct{ sec, nsec int64 }

// enableRxStamps asks the kernel to stamp every segment that reaches fd
// with the time it was queued on the socket (SO_TIMESTAMPNS_NEW, else
// the old SO_TIMESTAMPNS before Linux 5.1): on loopback that is usually
// inside the relay's own send.
func enableRxStamps(fd int) error {
	if syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, soTimestampNSNew, 1) == nil {
		return nil
	}
	return syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_TIMESTAMPNS, 1)
}

// readStamped reads once from fd without blocking; queued is the kernel's
// stamp (unix ns) of the last segment the read took, 0 when it gave none.
func readStamped(fd int, b []byte, oob *rxStamps) (n int, queued int64, err error) {
	n, oobn, _, _, err := syscall.Recvmsg(fd, b, oob.bytes(), syscall.MSG_DONTWAIT)
	if err != nil {
		return n, 0, err
	}
	return n, queuedAt(oob.bytes()[:oobn]), nil
}

// queuedAt returns the receive stamp (SO_TIMESTAMPNS_NEW's, or the old
// SCM_TIMESTAMPNS) among the control messages in oob (as recvmsg(2)
// filled it, from a word-aligned buffer), 0 if none.
func queuedAt(oob []byte) int64 {
	for len(oob) >= syscall.SizeofCmsghdr {
		h := (*syscall.Cmsghdr)(unsafe.Pointer(&oob[0]))
		l := int(h.Len)
		if l < syscall.SizeofCmsghdr || l > len(oob) {
			return 0
		}
		data := oob[syscall.CmsgLen(0):l]
		if h.Level == syscall.SOL_SOCKET {
			switch {
			case h.Type == soTimestampNSNew && len(data) >= int(unsafe.Sizeof(kernelTimespec{})):
				var ts kernelTimespec
				copy(unsafe.Slice((*byte)(unsafe.Pointer(&ts)), unsafe.Sizeof(ts)), data)
				return ts.sec*1e9 + ts.nsec
			case h.Type == syscall.SCM_TIMESTAMPNS && len(data) >= int(unsafe.Sizeof(syscall.Timespec{})):
				var ts syscall.Timespec
				copy(unsafe.Slice((*byte)(unsafe.Pointer(&ts)), unsafe.Sizeof(ts)), data)
				return ts.Nano()
			}
		}
		oob = oob[min(syscall.CmsgSpace(l-syscall.CmsgLen(0)), len(oob)):]
	}
	return 0
}
