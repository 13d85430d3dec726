package rawsys

import (
	"errors"
	"os"
	"runtime"
	"strconv"
	"sync/atomic"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// A Ring makes several sends, each on its own socket, in one system
// call: an io_uring (Linux 5.19) whose submission carries one
// IORING_OP_SEND per socket with MSG_DONTWAIT, so each completes, or
// says EAGAIN, inside that call, as send(2) would. One io_uring_enter
// then costs what one send(2)'s entry and exit cost, where n sends pay
// it n times: on a virtual machine, where a system call's entry is a
// trip through the hypervisor, that is most of a small send's cost.
//
// A Ring is used by one goroutine at a time (take it from a RingPool).
type Ring struct {
	fd      int
	mem     []byte // the submission and completion rings, one mapping (IORING_FEAT_SINGLE_MMAP)
	sqes    []byte // the submission entries
	entries uint32

	sqHead, sqTail, sqMask *uint32
	sqArray                unsafe.Pointer
	cqHead, cqTail, cqMask *uint32
	cqes                   unsafe.Pointer
}

// io_uring's ABI (include/uapi/linux/io_uring.h).
const (
	ioringOffSQRing = 0
	ioringOffSQEs   = 0x10000000

	ioringSetupSubmitAll   = 1 << 7 // go on past an entry that fails to prepare (5.18)
	ioringSetupCoopTaskrun = 1 << 8 // no interrupt to run completions: ours complete inline (5.19)

	ioringFeatSingleMmap = 1 << 0
	ioringFeatNodrop     = 1 << 1

	ioringEnterGetevents = 1 << 0

	ioringOpSend = 26

	sqeSize = 64
	cqeSize = 16
)

type sqringOffsets struct {
	head, tail, ringMask, ringEntries, flags, dropped, array, resv1 uint32
	userAddr                                                        uint64
}

type cqringOffsets struct {
	head, tail, ringMask, ringEntries, overflow, cqes, flags, resv1 uint32
	userAddr                                                        uint64
}

type uringParams struct {
	sqEntries, cqEntries, flags, sqThreadCPU, sqThreadIdle, features, wqFd uint32
	resv                                                                   [3]uint32
	sqOff                                                                  sqringOffsets
	cqOff                                                                  cqringOffsets
}

// sqe is struct io_uring_sqe, as far as a send uses it.
type sqe struct {
	opcode   uint8
	flags    uint8
	ioprio   uint16
	fd       int32
	off      uint64
	addr     uint64
	len      uint32
	msgFlags uint32
	userData uint64
	_        [24]byte
}

type cqe struct {
	userData uint64
	res      int32
	flags    uint32
}

// ErrNoRing says this system gives no io_uring the Ring can use: too old
// a kernel, or one that forbids it (a container's seccomp profile,
// kernel.io_uring_disabled).
var ErrNoRing = errors.New("io_uring is not available")

// NewRing sets up a ring for up to entries sends per submission.
func NewRing(entries uint32) (*Ring, error) {
	var p uringParams
	p.flags = ioringSetupSubmitAll | ioringSetupCoopTaskrun
	fd, _, errno := syscall.Syscall(unix.SYS_IO_URING_SETUP, uintptr(entries), uintptr(unsafe.Pointer(&p)), 0)
	if errno != 0 {
		return nil, errors.Join(ErrNoRing, errno)
	}
	r := &Ring{fd: int(fd), entries: p.sqEntries}
	if p.features&(ioringFeatSingleMmap|ioringFeatNodrop) != ioringFeatSingleMmap|ioringFeatNodrop {
		r.Close()
		return nil, ErrNoRing
	}
	size := max(p.sqOff.array+p.sqEntries*4, p.cqOff.cqes+p.cqEntries*cqeSize)
	mem, err := unix.Mmap(r.fd, ioringOffSQRing, int(size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE)
	if err != nil {
		r.Close()
		return nil, errors.Join(ErrNoRing, err)
	}
	r.mem = mem
	sqes, err := unix.Mmap(r.fd, ioringOffSQEs, int(p.sqEntries*sqeSize), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE)
	if err != nil {
		r.Close()
		return nil, errors.Join(ErrNoRing, err)
	}
	r.sqes = sqes
	at := func(off uint32) *uint32 { return (*uint32)(unsafe.Pointer(&mem[off])) }
	r.sqHead, r.sqTail, r.sqMask = at(p.sqOff.head), at(p.sqOff.tail), at(p.sqOff.ringMask)
	r.sqArray = unsafe.Pointer(&mem[p.sqOff.array])
	r.cqHead, r.cqTail, r.cqMask = at(p.cqOff.head), at(p.cqOff.tail), at(p.cqOff.ringMask)
	r.cqes = unsafe.Pointer(&mem[p.cqOff.cqes])
	return r, nil
}

// Close releases the ring.
func (r *Ring) Close() error {
	if r.sqes != nil {
		_ = unix.Munmap(r.sqes)
	}
	if r.mem != nil {
		_ = unix.Munmap(r.mem)
	}
	return syscall.Close(r.fd)
}

// Size is how many sends one Send call may carry.
func (r *Ring) Size() int { return int(r.entries) }

// Send makes one send of bufs[i] on fds[i] for i in order (at most
// Size), MSG_DONTWAIT|MSG_NOSIGNAL, as Write would, all in one
// io_uring_enter, and stores each one's outcome in n[i] and errs[i] as
// Write returns it. made is how many it made, the first ones; err says
// why it made no more: the ring failed (it cannot enter the kernel, or
// the kernel took some entries only). A send the kernel refuses as an
// operation (EINVAL, EOPNOTSUPP: a kernel or sandbox without
// IORING_OP_SEND) is made and says so in errs[i]: RefusedOp reports it.
//
// The descriptors must stay open until it returns (hold each one's
// RawConn.Control), and the buffers must be on the heap: the kernel reads
// them during the call, where a goroutine's stack may move. It returns
// only once every send it made has completed.
func (r *Ring) Send(fds []uintptr, bufs [][]byte, n []int, errs []syscall.Errno) (made int, err error) {
	k := uint32(len(fds))
	if k == 0 {
		return 0, nil
	}
	if k > r.entries {
		return 0, errors.New("rawsys: more sends than the ring's entries")
	}
	// The sends complete inside the call (MSG_DONTWAIT: no wait for
	// room, and a short send is not retried); were one deferred, its
	// completion would come to this thread (IORING_SETUP_COOP_TASKRUN).
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	tail := *r.sqTail // only the Ring's user moves it
	for i := range k {
		idx := (tail + i) & *r.sqMask
		e := (*sqe)(unsafe.Pointer(&r.sqes[idx*sqeSize]))
		*e = sqe{
			opcode:   ioringOpSend,
			fd:       int32(fds[i]),
			len:      uint32(len(bufs[i])),
			msgFlags: syscall.MSG_DONTWAIT | syscall.MSG_NOSIGNAL,
			userData: uint64(i),
		}
		if len(bufs[i]) > 0 {
			e.addr = uint64(uintptr(unsafe.Pointer(&bufs[i][0])))
		}
		*(*uint32)(unsafe.Add(r.sqArray, 4*idx)) = idx
	}
	atomic.StoreUint32(r.sqTail, tail+k)
	// A raw call, as for Write, that waits for nothing (min_complete 0).
	ret, _, errno := syscall.RawSyscall6(unix.SYS_IO_URING_ENTER, uintptr(r.fd), uintptr(k), 0, 0, 0, 0)
	submitted := uint32(ret)
	if errno != 0 || submitted > k {
		submitted = 0
	}
	if submitted < k {
		// The kernel takes entries in order; withdraw the ones it left.
		atomic.StoreUint32(r.sqTail, tail+submitted)
		err = errors.New("rawsys: io_uring took " + strconv.Itoa(int(submitted)) + " of " + strconv.Itoa(int(k)) + " sends")
		if errno != 0 {
			err = os.NewSyscallError("io_uring_enter", errno)
		}
	}
	// Every send made is waited for: the kernel may read its buffer
	// until it completes. A wait that fails (EINTR) is made again.
	for got := r.reap(n, errs); got < submitted; got += r.reap(n, errs) {
		syscall.Syscall6(unix.SYS_IO_URING_ENTER, uintptr(r.fd), 0, uintptr(submitted-got), ioringEnterGetevents, 0, 0)
	}
	runtime.KeepAlive(bufs)
	return int(submitted), err
}

// RefusedOp reports whether errno is the kernel refusing a ring's send as
// an operation, rather than the socket's answer: the ring cannot send,
// and send(2) should.
func RefusedOp(errno syscall.Errno) bool {
	return errno == syscall.EINVAL || errno == syscall.EOPNOTSUPP
}

// reap takes the completions waiting in the ring.
func (r *Ring) reap(n []int, errs []syscall.Errno) uint32 {
	head, tail := *r.cqHead, atomic.LoadUint32(r.cqTail)
	for h := head; h != tail; h++ {
		c := (*cqe)(unsafe.Add(r.cqes, cqeSize*(h&*r.cqMask)))
		i := c.userData
		if c.res < 0 {
			n[i], errs[i] = 0, syscall.Errno(-c.res)
		} else {
			n[i], errs[i] = int(c.res), 0
		}
	}
	atomic.StoreUint32(r.cqHead, tail)
	return tail - head
}
