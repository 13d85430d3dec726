// Package releasequeue is the one queue policy of jambridge's live paths:
// the MIDI input queue and the player queue in package bridge, and the
// relay client's send queue. Ordinary events are dropped oldest-first
// when the queue is full, and counted; releases (a note-off, a pedal
// up, a participant leaving, release-all) are never dropped and never
// make their producer wait.
//
// A producer pushes without blocking: Push takes a mutex for a few
// hundred nanoseconds and signals a channel of capacity 1. One consumer
// waits on Ready and Pops. Events come out in push order, except that a
// release of a key replaces the pending release of that key (it is
// coalesced to the later position), so a release never overtakes an
// event pushed before it.
//
// The queue tracks which keys it has delivered a Start for. A Release of
// a key whose Start was never delivered (it was dropped on overflow, or
// never pushed) is not delivered either: a note that was never sounded
// is never released, and one that was is always released.
//
// # Bounds
//
// The ring of ordinary events holds Size events. Pending releases are
// coalesced per key, so there are at most as many as there are keys a
// producer can hold: for MIDI, 16 channels × 128 notes plus the pedals,
// per source. MaxReleases bounds them all the same: a release past it
// (a producer inventing keys) goes into the ring as an ordinary event,
// and is counted as Overflow.
//
// # Concurrency
//
// Any number of producers push, from any goroutine (a MIDI driver's
// callback, a relay reader): Push takes the queue's mutex for a few map
// and slice operations and never waits for the consumer. One consumer
// goroutine owns the other end: it waits on Ready and calls Pop, which
// takes the same mutex. The queue starts no goroutine of its own.
package releasequeue
