//go:build unix && !linux

package relay

import "testing"

// forEachWriteMode runs f once: flushes write by send(2) here.
func forEachWriteMode(t *testing.T, f func(t *testing.T, byRing bool)) {
	t.Run("send", func(t *testing.T) { f(t, false) })
}
