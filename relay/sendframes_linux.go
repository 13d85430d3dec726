package relay

import (
	"sync"
	"syscall"

	"github.com/jambridge/jambridge/internal/rawsys"
)

// sendFrames writes bufs[i] to fds[i], each with one non-blocking send,
// all in one io_uring submission when there are several and a ring is
// free, else one send(2) each; byRing says which.
func sendFrames(fds []uintptr, bufs [][]byte, n []int, errs []syscall.Errno) (byRing bool) {
	if len(fds) > 1 {
		if r := rings.take(); r != nil {
			err := r.Send(fds, bufs, n, errs)
			rings.put(r)
			if err == nil {
				return true
			}
		}
	}
	for i, fd := range fds {
		n[i], errs[i] = rawsys.Write(fd, bufs[i])
	}
	return false
}

// ringPool lends io_uring rings to flushes, made as they are needed (at
// most maxRings, about one per thread relaying at once) and kept for the
// life of the process. When the system refuses the first one (an old
// kernel, a seccomp profile, kernel.io_uring_disabled) it makes no more:
// every flush writes with send(2).
type ringPool struct {
	mu   sync.Mutex
	free []*rawsys.Ring
	made int
	off  bool  // no rings: refused, or turned off
	err  error // why
}

const maxRings = 8

var rings ringPool

// take returns a free ring, nil when there is none to be had now.
func (p *ringPool) take() *rawsys.Ring {
	p.mu.Lock()
	defer p.mu.Unlock()
	if k := len(p.free); k > 0 {
		r := p.free[k-1]
		p.free = p.free[:k-1]
		return r
	}
	if p.off || p.made == maxRings {
		return nil
	}
	r, err := rawsys.NewRing(maxBatch)
	if err != nil {
		p.off, p.err = true, err
		return nil
	}
	p.made++
	return r
}

func (p *ringPool) put(r *rawsys.Ring) {
	p.mu.Lock()
	p.free = append(p.free, r)
	p.mu.Unlock()
}
