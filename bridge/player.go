package bridge

import (
	"container/heap"
	"context"
	"errors"
	"log/slog"
	"sort"
	"time"

	"gitlab.com/gomidi/midi/v2"
	"gitlab.com/gomidi/midi/v2/drivers"

	"github.com/jambridge/jambridge/internal/releasequeue"
	"github.com/jambridge/jambridge/mapping"
)

// Remote is one event:broadcast from another participant.
type Remote struct {
	SenderID  string
	EventName string
	Payload   []byte
	Seq       int64 // the sender's sequence number; 0 when it gave none
	Received  time.Time
}

// remoteEvent is a remote event parsed and turned into MIDI by Remote,
// on its way to the player through the remote queue.
type remoteEvent struct {
	r       Remote
	ev      mapping.Event
	msgs    []midi.Message
	flushed chan<- struct{} // tests: closed when the player gets here
}

// remoteQueue carries remote events, leaves and release-alls from the
// relay reader to the player without ever blocking the reader. Keys are
// (participant, what a message holds on the output).
type remoteQueue = releasequeue.Queue[string, holdKey, remoteEvent]

// Bounds of the remote queue. When the player is remoteQueueSize events
// behind (a stuck output port), the oldest remote event is dropped and
// counted: it would sound too late anyway. Releases are kept apart,
// coalesced per key: at most 16 × 129 per participant, and
// maxRemoteReleases in all.
const (
	remoteQueueSize   = 1024
	maxRemoteReleases = 64 * holdKeysPerSource
)

// playerCmd is one thing for the player to do other than playing: from
// the scanner (ports) or Participants (stats). Unbuffered: its senders may
// wait, none of them is a reader of the relay.
type playerCmd struct {
	addOut  drivers.Out               // start playing on this port
	dropOut string                    // stop playing on the port of this name
	stats   chan<- []ParticipantStats // report per participant
}

// player owns the output ports: every send goes through its goroutine
// (rtmidi ports are not safe for concurrent use). It plays remote events
// and keeps the held-note table so no note outlives its player.
type player struct {
	cfg   Config
	log   *slog.Logger
	stats *counters
	echo  *echoGuard
	queue *remoteQueue   // remote events, leaves, release-alls; see remoteQueueSize
	cmds  chan playerCmd // unbuffered

	// Owned by run.
	outs     []drivers.Out
	voices   *voices
	offs     offQueue     // scheduled note-offs (drum gates, durations)
	pending  pendingQueue // remote events waiting for their playout slot
	arrivals uint64       // events queued so far, to order equal slots
	sched    *Scheduler   // playout slots per sender
	seqs     SeqTracker   // gaps, duplicates, reordering per sender
}

// pendingOff is a note-off due at a time, unless the key was struck
// again since (gen).
type pendingOff struct {
	at   time.Time
	user string
	v    voice
	gen  uint64
}

func newPlayer(cfg Config, stats *counters, echo *echoGuard) *player {
	return &player{
		cfg: cfg, log: cfg.Logger, stats: stats, echo: echo,
		queue: releasequeue.New[string, holdKey, remoteEvent](releasequeue.Config{
			Size: remoteQueueSize, MaxReleases: maxRemoteReleases}),
		cmds:   make(chan playerCmd),
		voices: newVoices(),
		sched:  NewScheduler(cfg.Playout, SchedulerConfig{}),
	}
}

func (p *player) run(ctx context.Context) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		p.armTimer(timer)
		select {
		case <-p.queue.Ready():
			if it, ok := p.queue.Pop(); ok {
				p.take(it)
			}
		case c := <-p.cmds:
			p.handle(c)
		case <-timer.C:
			now := p.cfg.Now()
			p.firePending(now)
			p.fireOffs(now)
		case <-ctx.Done():
			p.drain()
			p.releaseAll()
			for _, o := range p.outs {
				o.Close()
			}
			p.outs = nil
			return
		}
	}
}

// drain takes what is already queued, so releases that arrived before
// shutdown are not lost.
func (p *player) drain() {
	for {
		it, ok := p.queue.Pop()
		if !ok {
			return
		}
		p.take(it)
	}
}

func (p *player) armTimer(t *time.Timer) {
	if due, ok := p.nextDue(); ok {
		t.Reset(max(due.Sub(p.cfg.Now()), 0))
	}
}

// take handles one entry of the remote queue.
func (p *player) take(it releasequeue.Item[string, holdKey, remoteEvent]) {
	switch {
	case it.Event.flushed != nil:
		close(it.Event.flushed)
	case it.Kind == releasequeue.ReleaseGroup: // a participant left
		p.forgetPending(it.Group)
		p.sched.Forget(it.Group)
		p.seqs.Reset(it.Group)
		p.release(it.Group)
	case it.Kind == releasequeue.ReleaseAll: // the session is gone
		p.pending = p.pending[:0]
		p.sched = NewScheduler(p.cfg.Playout, SchedulerConfig{})
		p.seqs = SeqTracker{}
		p.releaseAll()
	default:
		p.play(&it.Event)
	}
}

func (p *player) handle(c playerCmd) {
	switch {
	case c.addOut != nil:
		p.outs = append(p.outs, c.addOut)
		p.stats.outputs.Add(1)
		p.log.Info("playing remote events on output", "port", c.addOut.String())
	case c.dropOut != "":
		p.removeOut(c.dropOut)
	case c.stats != nil:
		c.stats <- p.participantStats()
	}
}

func (p *player) removeOut(name string) {
	for i, o := range p.outs {
		if o.String() == name {
			o.Close()
			p.outs = append(p.outs[:i], p.outs[i+1:]...)
			p.stats.outputs.Add(-1)
			p.log.Warn("output port gone", "port", name)
			return
		}
	}
}

// prepare turns a remote event into MIDI, on the caller's goroutine (the
// relay reader), so the queue knows what it holds or releases. It
// reports false for an event with nothing to play.
func (p *player) prepare(r Remote) (remoteEvent, bool) {
	ev, err := mapping.ParseEvent(r.EventName, r.Payload)
	if err != nil {
		if errors.Is(err, mapping.ErrUnknownEvent) {
			return remoteEvent{}, false // not musical for us (chat...): ignored
		}
		p.skipped(r, err)
		return remoteEvent{}, false
	}
	msgs, err := p.cfg.OutputRule.ToMIDI(ev)
	if err != nil {
		p.skipped(r, err)
		return remoteEvent{}, false
	}
	if len(msgs) == 0 {
		return remoteEvent{}, false // e.g. pattern_change: nothing for a synth
	}
	return remoteEvent{r: r, ev: ev, msgs: msgs}, true
}

func (p *player) skipped(r Remote, err error) {
	p.stats.unplayable.Add(1)
	p.log.Debug("remote event skipped", "from", r.SenderID, "event", r.EventName, "err", err)
}

// play sounds one remote event on every output, now or at its slot.
func (p *player) play(e *remoteEvent) {
	if e.r.Seq > 0 {
		p.seqs.Observe(e.r.SenderID, e.r.Seq)
	}
	p.enqueue(&e.r, e.ev, e.msgs)
}

// sound sends one remote event's messages now, keeping the held-note
// table.
func (p *player) sound(user string, ev mapping.Event, msgs []midi.Message, now time.Time) {
	for _, m := range msgs {
		if p.track(user, ev, m, now) {
			p.send(m, now)
		}
	}
	p.stats.played.Add(1)
}

// track updates the held-note table for one outgoing message and reports
// whether the synth should hear it.
func (p *player) track(user string, ev mapping.Event, m midi.Message, now time.Time) bool {
	var ch, key, vel uint8
	switch {
	case m.GetNoteStart(&ch, &key, &vel):
		v := voiceOf(ch, key)
		gen := p.voices.noteOn(user, v)
		switch {
		case ev.Kind == mapping.DrumHit:
			p.schedule(now.Add(p.cfg.DrumGate), user, v, gen)
		case ev.Duration > 0: // a note that says how long it lasts
			p.schedule(now.Add(time.Duration(ev.Duration*float64(time.Millisecond))), user, v, gen)
		}
		return true
	case m.GetNoteEnd(&ch, &key):
		return p.voices.noteOff(user, voiceOf(ch, key))
	case m.GetControlChange(&ch, &key, &vel) && key == sustainPedal:
		return p.voices.pedal(user, ch, vel >= 64)
	}
	return true
}

const (
	sustainPedal = 64
	allNotesOff  = 123
)

func (p *player) schedule(at time.Time, user string, v voice, gen uint64) {
	heap.Push(&p.offs, pendingOff{at: at, user: user, v: v, gen: gen})
}

// fireOffs sends the note-offs that are due, unless their key was struck
// again meanwhile.
func (p *player) fireOffs(now time.Time) {
	for len(p.offs) > 0 && !p.offs[0].at.After(now) {
		off := heap.Pop(&p.offs).(pendingOff)
		if p.voices.gen[off.v] != off.gen {
			continue
		}
		if p.voices.noteOff(off.user, off.v) {
			p.send(midi.NoteOff(off.v.channel(), off.v.key()), now)
		}
	}
}

func (p *player) send(m midi.Message, now time.Time) {
	if len(p.outs) == 0 {
		return // nothing sounds, so nothing can come back as an echo
	}
	// Remember it first: a loopback may deliver the copy to an input
	// before Send even returns.
	p.echo.played(m, now)
	for _, o := range p.outs {
		if err := o.Send(m); err != nil {
			p.stats.sendErrors.Add(1)
			p.log.Debug("send to output failed", "port", o.String(), "err", err)
		}
	}
}

// release ends every note and pedal user holds, then sends All Notes Off
// on the channels they played that nobody else is playing and that were
// not silenced since (a safety net for a note-off lost on the way).
func (p *player) release(user string) {
	h := p.voices.byUser[user]
	if h == nil {
		return
	}
	now := p.cfg.Now()
	for _, v := range sortedVoices(h.notes) {
		if p.voices.noteOff(user, v) {
			p.send(midi.NoteOff(v.channel(), v.key()), now)
			p.stats.released.Add(1)
		}
	}
	for ch := range h.pedals {
		if p.voices.pedal(user, ch, false) {
			p.send(midi.ControlChange(ch, sustainPedal, 0), now)
		}
	}
	delete(p.voices.byUser, user)
	for _, ch := range sortedChannels(h.played) {
		if _, loud := p.voices.channels[ch]; loud && !p.voices.busy(ch) {
			p.send(midi.ControlChange(ch, allNotesOff, 0), now)
			delete(p.voices.channels, ch) // silent until played again
		}
	}
}

// releaseAll ends everything every participant holds, then sends All
// Notes Off on every channel played since it was last silenced.
func (p *player) releaseAll() {
	users := make([]string, 0, len(p.voices.byUser))
	for u := range p.voices.byUser {
		users = append(users, u)
	}
	sort.Strings(users)
	for _, u := range users {
		p.release(u)
	}
	now := p.cfg.Now()
	for _, ch := range sortedChannels(p.voices.channels) { // not yet silenced
		p.send(midi.ControlChange(ch, allNotesOff, 0), now)
	}
	p.voices = newVoices()
	p.offs = p.offs[:0]
}

func sortedVoices(m map[voice]struct{}) []voice {
	out := make([]voice, 0, len(m))
	for v := range m {
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func sortedChannels(m map[uint8]struct{}) []uint8 {
	out := make([]uint8, 0, len(m))
	for ch := range m {
		out = append(out, ch)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// offQueue is a min-heap of pending note-offs by due time.
type offQueue []pendingOff

func (q offQueue) Len() int           { return len(q) }
func (q offQueue) Less(i, j int) bool { return q[i].at.Before(q[j].at) }
func (q offQueue) Swap(i, j int)      { q[i], q[j] = q[j], q[i] }
func (q *offQueue) Push(x any)        { *q = append(*q, x.(pendingOff)) }
func (q *offQueue) Pop() any {
	old := *q
	x := old[len(old)-1]
	*q = old[:len(old)-1]
	return x
}
