package redisbroker

import "time"

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
