package redisbroker

import (
	"testing"
	"time"
)

// Reassertions counts the node's re-assertions (Broker.epoch): the tests
// wait on it to know a node handled an outage, as Up alone may still be
// the Up of before the outage, not yet noticed.
func (b *Broker) Reassertions() uint64 { return b.epoch.Load() }

// OnReassert makes f run in each round of the node's re-assertions, once
// the round took the members it writes and before it writes them: a test
// acts inside that window, f holding the heartbeat until it returns.
func (b *Broker) OnReassert(f func()) { b.setHook(hookRound, f) }

// OnJoinDown makes f run when a Create or Join finds Redis down, before
// it returns: a test acts between that and the member's settling.
func (b *Broker) OnJoinDown(f func()) { b.setHook(hookJoinDown, f) }

// setHook makes f run at p (hooks).
func (b *Broker) setHook(p hookPoint, f func()) { b.hooks[p].Store(&f) }

// Flush waits until the publisher has tried everything pushed so far
// (leaves included): sent, or dropped while Redis counts as down.
func (b *Broker) Flush() { b.pub.drain() }

// SetReceiveTimeout sets how long a read of the subscriptions waits
// before it counts as quiet; call it before Bind.
func (b *Broker) SetReceiveTimeout(d time.Duration) { b.receiveTimeout = d }

// WaitBound bounds every wait of the tests, inside the package and out:
// a bound on a broken node, not a speed assertion.
const WaitBound = 15 * time.Second

// WaitUntil polls cond until it holds, failing the test after WaitBound.
// The tests of both packages (this one's and redisbroker_test) use it.
func WaitUntil(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(WaitBound)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %s", WaitBound, what)
		}
		time.Sleep(5 * time.Millisecond) // polling a condition that must become true
	}
}
