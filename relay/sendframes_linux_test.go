package relay

import "testing"

// forEachWriteMode runs f as two subtests: flushes writing by io_uring
// (which this kernel must give) and by send(2), rings turned off.
func forEachWriteMode(t *testing.T, f func(t *testing.T, byRing bool)) {
	t.Run("io_uring", func(t *testing.T) {
		rings.mu.Lock()
		off, err := rings.off, rings.err
		rings.mu.Unlock()
		if off {
			t.Fatalf("no io_uring on this kernel (5.19 or later gives one): %v", err)
		}
		f(t, true)
	})
	t.Run("send", func(t *testing.T) {
		rings.mu.Lock()
		was := rings.off
		rings.off = true
		free := rings.free
		rings.free = nil
		rings.mu.Unlock()
		t.Cleanup(func() {
			rings.mu.Lock()
			rings.off, rings.free = was, append(rings.free, free...)
			rings.mu.Unlock()
		})
		f(t, false)
	})
}
