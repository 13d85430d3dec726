package bridge

import "github.com/jambridge/jambridge/internal/releasequeue"

// Flush waits until the player has taken everything queued to it before
// the call (or Run has ended): a test can then look at the output and
// know nothing more is on its way.
func Flush(b *Bridge) {
	done := make(chan struct{})
	b.player.queue.Push(releasequeue.ReleaseGroup, "\x00flush", 0, remoteEvent{flushed: done})
	select {
	case <-done:
	case <-b.done:
	}
}

// Scans is how many times the bridge has listed the ports.
func Scans(b *Bridge) uint64 { return b.stats.scans.Load() }
