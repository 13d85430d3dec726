package bridge

import "sort"

// ParticipantStats is how one remote musician's events reach us.
type ParticipantStats struct {
	ID      string
	Playout PlayoutStats // one-way latency, jitter, delay, late
	Seq     SeqStats     // received, lost, duplicates, reordered
}

// Participants reports every remote musician heard from, by id. It asks
// the player goroutine, which owns the figures, and waits for its answer
// (or for Run to end, with nil).
func (b *Bridge) Participants() []ParticipantStats {
	reply := make(chan []ParticipantStats, 1)
	select {
	case b.player.cmds <- playerCmd{stats: reply}:
	case <-b.done:
		return nil
	}
	select {
	case s := <-reply:
		return s
	case <-b.done:
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
