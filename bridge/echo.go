package bridge

import (
	"bytes"
	"sync"
	"time"
)

// echoGuard remembers the channel messages played out recently so an
// input that receives the same bytes soon after (a DAW routing our output
// back to an input) does not send them to the session again. The player
// writes, the input loop reads; mu guards the ring.
type echoGuard struct {
	window time.Duration

	mu   sync.Mutex
	ring [64]echoEntry
	next int
}

type echoEntry struct {
	msg  [3]byte
	n    int
	at   time.Time
	used bool
}

func newEchoGuard(window time.Duration) *echoGuard {
	return &echoGuard{window: window}
}

// played records a message sent to an output at t.
func (g *echoGuard) played(msg []byte, t time.Time) {
	if len(msg) > 3 {
		return // only short channel messages can echo
	}
	g.mu.Lock()
	e := &g.ring[g.next]
	*e = echoEntry{n: len(msg), at: t}
	copy(e.msg[:], msg)
	g.next = (g.next + 1) % len(g.ring)
	g.mu.Unlock()
}

// isEcho reports whether msg, received at t, is a copy of a message
// played within the window before t. Each played message excuses one
// copy only.
func (g *echoGuard) isEcho(msg []byte, t time.Time) bool {
	if len(msg) > 3 {
		return false
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	for i := range g.ring {
		e := &g.ring[i]
		if e.used || e.n != len(msg) || !bytes.Equal(e.msg[:e.n], msg) {
			continue
		}
		if age := t.Sub(e.at); age >= 0 && age <= g.window {
			e.used = true
			return true
		}
	}
	return false
}
