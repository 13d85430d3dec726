package relay

import (
	"sync"
	"time"
)

// joinWindow is the window of the failed-join limit: an address that
// fails FailedJoins times within one is refused with rate_limited until
// the window is over.
const joinWindow = time.Minute

// maxJoinAddrs bounds the addresses the limiter tracks at once. Overflow
// policy: past it, after expired windows are swept (at most once a
// joinWindow/60), a new address is not tracked, and its failures go
// uncounted until room frees up: a guess from one of more than 65536
// addresses failing at once costs the relay nothing, and the memory
// stays bounded (about 100 bytes an address).
const maxJoinAddrs = 1 << 16

// joinLimiter counts failed joins (an unknown code, a wrong secret, a
// taken code) per client address in fixed windows of joinWindow, which
// start at an address's first failure.
//
// Concurrency: mu guards the fields below it; it is a leaf lock, taken
// under any other and never held across a send.
type joinLimiter struct {
	limit int // failures allowed per window

	mu        sync.Mutex
	addrs     map[string]*joinCount
	lastSweep time.Time
}

type joinCount struct {
	start time.Time // the window's first failure
	fails int
}

func newJoinLimiter(limit int) *joinLimiter {
	return &joinLimiter{limit: limit, addrs: make(map[string]*joinCount)}
}

// blocked reports whether addr has used up its failures at now, and how
// long until its window is over.
func (l *joinLimiter) blocked(addr string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.addrs[addr]
	if c == nil || c.fails < l.limit {
		return false, 0
	}
	left := c.start.Add(joinWindow).Sub(now)
	if left <= 0 {
		delete(l.addrs, addr)
		return false, 0
	}
	return true, left
}

// fail counts a failed join of addr at now.
func (l *joinLimiter) fail(addr string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.addrs[addr]
	if c != nil && now.Sub(c.start) >= joinWindow {
		c.start, c.fails = now, 0
	}
	if c == nil {
		if len(l.addrs) >= maxJoinAddrs {
			l.sweepLocked(now)
		}
		if len(l.addrs) >= maxJoinAddrs {
			return // see maxJoinAddrs
		}
		c = &joinCount{start: now}
		l.addrs[addr] = c
	}
	c.fails++
}

// sweepLocked forgets the windows that are over, at most once a second.
func (l *joinLimiter) sweepLocked(now time.Time) {
	if now.Sub(l.lastSweep) < joinWindow/60 {
		return
	}
	l.lastSweep = now
	for a, c := range l.addrs {
		if now.Sub(c.start) >= joinWindow {
			delete(l.addrs, a)
		}
	}
}
