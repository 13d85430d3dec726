package bridge

import "sync/atomic"

// counters are the bridge's running totals, updated lock-free.
type counters struct {
	inputs        atomic.Int64     // input ports open
	sent          atomic.Uint64    // local events sent to the session
	sendDropped   atomic.Uint64    // local events dropped: relay unreachable
	inputDropped  atomic.Uint64    // MIDI messages dropped: input loop behind
	echoes        atomic.Uint64    // inputs dropped as copies of our output
	played        atomic.Uint64    // remote events played
	remoteDropped atomic.Uint64    // remote events dropped: player behind
	unplayable    atomic.Uint64    // remote events we could not play
	released      atomic.Uint64    // notes released on leave or disconnect
	sendErrors    atomic.Uint64    // failed sends to an output port
	late          atomic.Uint64    // remote events that missed their playout slot
	latency       latencyHistogram // one-way latency of remote events played
}

// Stats is a snapshot of the bridge's counters.
type Stats struct {
	Inputs        int64
	Sent          uint64
	SendDropped   uint64
	InputDropped  uint64
	Echoes        uint64
	Played        uint64
	RemoteDropped uint64
	Unplayable    uint64
	Released      uint64
	SendErrors    uint64
	Late          uint64
}

// Stats returns the bridge's counters now.
func (b *Bridge) Stats() Stats {
	c := &b.stats
	return Stats{
		Inputs: c.inputs.Load(), Sent: c.sent.Load(), SendDropped: c.sendDropped.Load(),
		InputDropped: c.inputDropped.Load(), Echoes: c.echoes.Load(), Played: c.played.Load(),
		RemoteDropped: c.remoteDropped.Load(), Unplayable: c.unplayable.Load(),
		Released: c.released.Load(), SendErrors: c.sendErrors.Load(), Late: c.late.Load(),
	}
}
