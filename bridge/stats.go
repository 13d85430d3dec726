package bridge

import (
	"sort"
	"sync/atomic"
	"time"
)

// counters are the bridge's running totals, updated lock-free. The
// queues count their own drops (releasequeue.Stats).
type counters struct {
	inputs      atomic.Int64     // input ports open
	outputs     atomic.Int64     // output ports the player plays on
	scans       atomic.Uint64    // port listings done (tests wait on it)
	sent        atomic.Uint64    // local events sent to the session
	sendDropped atomic.Uint64    // local events dropped: relay unreachable
	echoes      atomic.Uint64    // inputs dropped as copies of our output
	played      atomic.Uint64    // remote events played
	unplayable  atomic.Uint64    // remote events we could not play
	released    atomic.Uint64    // notes released on leave or disconnect
	sendErrors  atomic.Uint64    // failed sends to an output port
	late        atomic.Uint64    // remote events that missed their playout slot
	latency     latencyHistogram // one-way latency of remote events played
}

// Stats is a snapshot of the bridge's counters.
type Stats struct {
	Inputs        int64
	Outputs       int64
	Sent          uint64
	SendDropped   uint64
	InputDropped  uint64 // MIDI messages dropped, oldest first: the input loop was behind
	Echoes        uint64
	Played        uint64
	RemoteDropped uint64 // remote events dropped, oldest first: the player was behind
	// SendOverflow counts local events the Sender's queue dropped,
	// oldest first, when the connection backed up (a SendDropper's).
	SendOverflow uint64
	// Releases not passed on because the note they end was dropped
	// before it sounded (input, remote and send queues).
	UnsoundedReleases uint64
	// Releases merged into a later release of the same key while they
	// waited (input, remote and send queues).
	CoalescedReleases uint64
	Unplayable        uint64
	Released          uint64
	SendErrors        uint64
	Late              uint64
}

// Stats returns the bridge's counters now.
func (b *Bridge) Stats() Stats {
	c := &b.stats
	in, re := b.inputs.queue.Stats(), b.player.queue.Stats()
	var sendOver, sendCo, sendUn uint64
	if sd, ok := b.inputs.send.(SendDropper); ok {
		sendOver, sendCo, sendUn = sd.SendDrops()
	}
	return Stats{
		Inputs: c.inputs.Load(), Outputs: c.outputs.Load(), Sent: c.sent.Load(), SendDropped: c.sendDropped.Load(),
		InputDropped: in.Dropped + in.Overflow, Echoes: c.echoes.Load(), Played: c.played.Load(),
		RemoteDropped: re.Dropped + re.Overflow, SendOverflow: sendOver,
		UnsoundedReleases: in.Unsounded + re.Unsounded + sendUn, CoalescedReleases: in.Coalesced + re.Coalesced + sendCo,
		Unplayable: c.unplayable.Load(), Released: c.released.Load(), SendErrors: c.sendErrors.Load(),
		Late: c.late.Load(),
	}
}

// ParticipantStats is how one remote musician's events reach us.
type ParticipantStats struct {
	ID      string
	Playout PlayoutStats // one-way latency, jitter, delay, late
	Seq     SeqStats     // received, lost, duplicates, reordered
}

// Participants reports every remote musician heard from, by id. It asks
// the player goroutine, which owns the figures, and waits for its answer
// (or for Run to end, with nil).
func (b *Bridge) Participants() []ParticipantStats { return b.participants(nil) }

// scrapeWait bounds how long a metrics scrape waits for the player's
// per-participant figures: while the player is stuck in a port's Send (a
// hung device), a scrape leaves them out rather than hanging with it.
const scrapeWait = 500 * time.Millisecond

// participants is Participants, giving up (nil) when timeout fires; a
// nil timeout never fires.
func (b *Bridge) participants(timeout <-chan time.Time) []ParticipantStats {
	reply := make(chan []ParticipantStats, 1)
	select {
	case b.player.cmds <- playerCmd{stats: reply}:
	case <-b.done:
		return nil
	case <-timeout:
		return nil
	}
	select {
	case s := <-reply:
		return s
	case <-b.done:
		return nil
	case <-timeout:
		return nil
	}
}

// participantStats is the player's side of Participants.
func (p *player) participantStats() []ParticipantStats {
	ids := p.sched.Senders()
	sort.Strings(ids)
	out := make([]ParticipantStats, 0, len(ids))
	for _, id := range ids {
		out = append(out, ParticipantStats{ID: id, Playout: p.sched.Stats(id), Seq: p.seqs.Stats(id)})
	}
	return out
}
