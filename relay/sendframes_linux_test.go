package relay

import (
	"errors"
	"syscall"
	"testing"

	"github.com/jambridge/jambridge/internal/rawsys"
)

// forEachWriteMode runs f as two subtests: flushes writing by io_uring
// (which this kernel must give) and by send(2), rings turned off.
func forEachWriteMode(t *testing.T, f func(t *testing.T, byRing bool)) {
	t.Run("io_uring", func(t *testing.T) {
		r := rings.take()
		if r == nil {
			t.Fatalf("no io_uring ring on this kernel (5.19 or later gives one): %v", ringsOffReason())
		}
		rings.put(r)
		f(t, true)
	})
	t.Run("send", func(t *testing.T) {
		withRings(t, newRingPool(rawsys.NewRing)).turnOff(errors.New("turned off by the test"))
		f(t, false)
	})
}

// withRings makes p the pool flushes take rings from until the test
// ends. Tests of this package do not run in parallel.
func withRings(t *testing.T, p *ringPool) *ringPool {
	was := rings
	rings = p
	t.Cleanup(func() { rings = was })
	return p
}

func ringsOffReason() error {
	if e := rings.err.Load(); e != nil {
		return *e
	}
	return nil
}

// A system that refuses io_uring for good (EPERM: a seccomp profile)
// turns the rings off at the first flush of several frames, and every
// frame goes by send(2), that flush's included. One that is short of
// descriptors (EMFILE) refuses a ring for now only.
func TestRefusedRingsFallBackToSend(t *testing.T) {
	for _, tc := range []struct {
		errno syscall.Errno
		off   bool
	}{{syscall.EPERM, true}, {syscall.EINVAL, true}, {syscall.EMFILE, false}} {
		t.Run(tc.errno.Error(), func(t *testing.T) {
			tried := 0
			p := withRings(t, newRingPool(func(uint32) (*rawsys.Ring, error) {
				tried++
				return nil, errors.Join(rawsys.ErrNoRing, tc.errno)
			}))
			srv, ws, clients, _ := batchWriters(t, 3)
			relayAll(ws, "4a")
			relayAll(ws, "4b")
			for i, c := range clients {
				if got, want := readN(t, c, 2*len(textFrame("4a"))), textFrame("4a")+textFrame("4b"); got != want {
					t.Fatalf("member %d received %q, want %q", i, got, want)
				}
			}
			if st := srv.Stats(); st.RingWrites != 0 || st.DirectWrites != 6 {
				t.Errorf("ring writes %d, direct writes %d; want 0 and 6", st.RingWrites, st.DirectWrites)
			}
			if wantTried := map[bool]int{true: 1, false: 2}[tc.off]; p.off.Load() != tc.off || tried != wantTried {
				t.Errorf("off %v after %d tries, want %v after %d", p.off.Load(), tried, tc.off, wantTried)
			}
		})
	}
}
