package relay

import (
	"errors"
	"sync/atomic"
	"syscall"

	"github.com/jambridge/jambridge/internal/rawsys"
)

// sendFrames writes bufs[i] to fds[i], each with one non-blocking send:
// all in one io_uring submission when there are several and a ring is to
// be had, else (and for any the ring did not make) one send(2) each. It
// returns how many frames the ring wrote.
func sendFrames(fds []uintptr, bufs [][]byte, n []int, errs []syscall.Errno) (byRing int) {
	made := 0
	if len(fds) > 1 {
		if r := rings.take(); r != nil {
			var err error
			made, err = r.Send(fds, bufs, n, errs)
			if err != nil {
				rings.turnOff(err) // it failed to enter the kernel: not worth another try
			}
			rings.put(r)
		}
	}
	for i := range len(fds) {
		if i < made && !rawsys.RefusedOp(errs[i]) {
			if n[i] > 0 {
				byRing++
			}
			continue
		}
		if i < made {
			rings.turnOff(errs[i])
		}
		n[i], errs[i] = rawsys.Write(fds[i], bufs[i])
	}
	return byRing
}

// ringPool lends io_uring rings to flushes, made as they are needed (at
// most maxRings, about one per thread relaying at once) and kept for the
// life of the process. When the system refuses one for good (an old
// kernel, a seccomp profile, kernel.io_uring_disabled), or a ring fails,
// it is turned off: every flush writes with send(2) from then on.
type ringPool struct {
	free chan *rawsys.Ring // capacity maxRings: a put never waits
	made atomic.Int32
	off  atomic.Bool
	err  atomic.Pointer[error] // why it is off

	newRing func(entries uint32) (*rawsys.Ring, error) // rawsys.NewRing; tests replace it
}

const maxRings = 8

var rings = newRingPool(rawsys.NewRing)

func newRingPool(newRing func(entries uint32) (*rawsys.Ring, error)) *ringPool {
	return &ringPool{free: make(chan *rawsys.Ring, maxRings), newRing: newRing}
}

// take returns a free ring, nil when there is none to be had now.
func (p *ringPool) take() *rawsys.Ring {
	if p.off.Load() {
		return nil
	}
	select {
	case r := <-p.free:
		return r
	default:
	}
	if p.made.Add(1) > maxRings {
		p.made.Add(-1)
		return nil
	}
	r, err := p.newRing(maxBatch)
	if err != nil {
		p.made.Add(-1)
		// For good: no io_uring, or not one it can use. EMFILE,
		// ENOMEM, EAGAIN may pass: try again on a later flush.
		var errno syscall.Errno
		if !errors.As(err, &errno) || errno == syscall.EINVAL || errno == syscall.ENOSYS || errno == syscall.EPERM {
			p.turnOff(err)
		}
		return nil
	}
	return r
}

func (p *ringPool) put(r *rawsys.Ring) { p.free <- r }

// turnOff stops lending rings; the ones lent are still put back.
func (p *ringPool) turnOff(why error) {
	p.err.CompareAndSwap(nil, &why)
	p.off.Store(true)
}
