package bridge

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"gitlab.com/gomidi/midi/v2"
	"gitlab.com/gomidi/midi/v2/smf"

	"github.com/jambridge/jambridge/mapping"
)

// The time base of recorded files: at 120 BPM and 960 ticks per quarter
// note a tick is 1/1920 s, about 0.52 ms.
const (
	recordBPM        = 120
	recordResolution = smf.MetricTicks(960)
)

// RecordStats counts what a Recorder took in.
type RecordStats struct {
	Events       int // musical events recorded
	Skipped      int // events not recorded: unparseable, unknown, unplayable, or pattern_change
	Participants int // tracks: participants heard
	// Events placed at their arrival although the timing is RecordSender,
	// and why: no timestamp; a timestamp too far from the arrival (the
	// sender's clock is off); our clock not yet synchronised.
	Unstamped, Skewed, Unsynced int
}

// RecordTiming is where a Recorder places each event in the file.
type RecordTiming uint8

const (
	// RecordSender places each event at its sender's timestamp (relay
	// time, clock-synchronised by the sender), so the recording has the
	// rhythm as played, without the network's jitter. An event without
	// a usable timestamp is placed at its arrival.
	RecordSender RecordTiming = iota
	// RecordArrival places each event at its arrival.
	RecordArrival
)

// String returns t as ParseRecordTiming reads it.
func (t RecordTiming) String() string {
	if t == RecordArrival {
		return "arrival"
	}
	return "sender"
}

// ParseRecordTiming reads "sender" or "arrival".
func ParseRecordTiming(s string) (RecordTiming, error) {
	switch strings.ToLower(s) {
	case "sender":
		return RecordSender, nil
	case "arrival":
		return RecordArrival, nil
	}
	return RecordSender, fmt.Errorf("record timing %q: want sender or arrival", s)
}

// A timestamp more than recordMaxAhead after its arrival or more than
// recordMaxBehind before it says the sender's clock is off: the event is
// placed at its arrival, as the playout Scheduler plays it.
const (
	recordMaxAhead  = time.Second
	recordMaxBehind = 10 * time.Second
)

// RecordConfig sets up a Recorder.
type RecordConfig struct {
	// Rule turns events into MIDI, as it would for a synth.
	Rule mapping.OutputRule
	// Start is the file's time zero, on the local clock.
	Start time.Time
	// Timing places events at their sender's stamp (the default) or at
	// their arrival.
	Timing RecordTiming
	// RelayTime converts a local time to the relay's clock (unix ms), as
	// relay.Session's clock sync estimates it; ok is false until it has
	// an estimate, and events are then placed at their arrival. nil: the
	// local clock is the relay's (sender and recorder on one machine).
	RelayTime func(time.Time) (ms float64, ok bool)
}

// Recorder writes the musical events of a session to a Standard MIDI
// File with one track per participant, each event at its sender's time
// or at its arrival (RecordConfig.Timing). A participant's events keep
// the order they arrived in.
//
// A Recorder is safe for concurrent use: Add and Left are called from the
// relay client's reader goroutine, WriteTo from the command at exit.
type Recorder struct {
	rule      mapping.OutputRule
	start     time.Time
	timing    RecordTiming
	relayTime func(time.Time) (float64, bool)
	gate      time.Duration // how long a drum hit sounds
	now       func() time.Time

	mu     sync.Mutex // guards the fields below
	tracks []*recTrack
	byID   map[string]*recTrack
	stats  RecordStats
}

// NewRecorder returns a Recorder as cfg says.
func NewRecorder(cfg RecordConfig) *Recorder {
	rt := cfg.RelayTime
	if rt == nil {
		rt = func(t time.Time) (float64, bool) { return mapping.UnixMillis(t), true }
	}
	return &Recorder{
		rule: cfg.Rule, start: cfg.Start, timing: cfg.Timing, relayTime: rt,
		gate: DefaultDrumGate, now: time.Now, byID: map[string]*recTrack{},
	}
}

// Add records one event of a participant; name is their display name,
// the name of their track. Events that do not parse, are not musical
// events or play no MIDI (pattern_change) are counted as skipped. A drum
// hit is ended DefaultDrumGate later, or just before the same drum is hit
// again, and so is a piano note that gives its duration.
func (r *Recorder) Add(rem Remote, name string) {
	ev, err := mapping.ParseEvent(rem.EventName, rem.Payload)
	var msgs []midi.Message
	if err == nil {
		msgs, err = r.rule.ToMIDI(ev)
	}
	var latency time.Duration
	var why atArrival
	if err == nil && r.timing == RecordSender {
		latency, why = r.latency(ev.Timestamp, rem.Received)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil || len(msgs) == 0 {
		r.stats.Skipped++
		return
	}
	r.stats.Events++
	switch why {
	case unstamped:
		r.stats.Unstamped++
	case skewed:
		r.stats.Skewed++
	case unsynced:
		r.stats.Unsynced++
	}
	t := r.track(rem.SenderID, name)
	// Never before the participant's previous event (nor the start): the
	// relay keeps a sender's order, and a note-off must not come before
	// its note-on.
	at := max(r.offset(rem.Received)-latency, t.heard)
	for _, m := range msgs {
		t.add(at, m)
	}
	var end time.Duration
	switch {
	case ev.Kind == mapping.DrumHit:
		end = at + r.gate
	case ev.Velocity > 0 && ev.Duration > 0:
		end = at + time.Duration(ev.Duration*float64(time.Millisecond))
	default:
		return
	}
	if off, err := r.rule.NoteOff(ev); err == nil {
		t.schedule(end, off)
	}
}

// atArrival says why an event is placed at its arrival under RecordSender.
type atArrival uint8

const (
	notAtArrival atArrival = iota // placed at its sender's time
	unstamped
	skewed
	unsynced
)

// latency is how long before its arrival an event was played, by its
// sender's timestamp in relay time; 0 and the reason when it is placed
// at its arrival instead. It reads no field under r.mu.
func (r *Recorder) latency(stamp float64, arrival time.Time) (time.Duration, atArrival) {
	if !(stamp > 0) || math.IsInf(stamp, 0) {
		return 0, unstamped
	}
	now, ok := r.relayTime(arrival)
	if !ok {
		return 0, unsynced
	}
	d := time.Duration((now - stamp) * float64(time.Millisecond))
	if d < -recordMaxAhead || d > recordMaxBehind {
		return 0, skewed
	}
	return d, notAtArrival
}

// Left ends the notes and pedals senderID holds at at, for a participant
// who left the session.
func (r *Recorder) Left(senderID string, at time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if t := r.byID[senderID]; t != nil {
		t.releaseAt(r.offset(at))
	}
}

// Stats returns the counts so far.
func (r *Recorder) Stats() RecordStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.stats
	s.Participants = len(r.tracks)
	return s
}

// WriteTo writes the recording as an SMF of format 1: a tempo track (120
// BPM, 960 ticks per quarter note) and one track per participant, in the
// order they were first heard. Notes still held end at the end of the
// recording: the later of its last event and now. The Recorder is not
// changed: it may go on recording and be written again.
func (r *Recorder) WriteTo(w io.Writer) (int64, error) {
	s := r.file()
	// gomidi's SMF.WriteTo drops the writer's errors: encode to memory.
	var buf bytes.Buffer
	if _, err := s.WriteTo(&buf); err != nil {
		return 0, fmt.Errorf("encode midi file: %w", err)
	}
	return buf.WriteTo(w)
}

func (r *Recorder) file() *smf.SMF {
	r.mu.Lock()
	defer r.mu.Unlock()
	end := r.offset(r.now())
	for _, t := range r.tracks {
		end = max(end, t.last)
	}
	s := smf.NewSMF1()
	s.TimeFormat = recordResolution
	var tempo smf.Track
	tempo.Add(0, smf.MetaTempo(recordBPM), smf.MetaMeter(4, 4))
	tempo.Close(0)
	s.Add(tempo)
	for _, t := range r.tracks {
		s.Add(t.smfTrack(end))
	}
	return s
}

// track returns the track of a participant, made on first hearing.
func (r *Recorder) track(id, name string) *recTrack {
	t := r.byID[id]
	if t == nil {
		t = &recTrack{id: id, held: map[voice]struct{}{}, pedals: map[voice]struct{}{}, offs: map[voice]int{}}
		r.byID[id] = t
		r.tracks = append(r.tracks, t)
	}
	if t.name == "" {
		t.name = name // the first name heard; the id until then
	}
	return t
}

// offset is the time of t in the recording; nothing is before its start.
func (r *Recorder) offset(t time.Time) time.Duration {
	return max(t.Sub(r.start), 0)
}

// recordTick is the absolute tick of a time in the recording.
func recordTick(at time.Duration) uint32 {
	return recordResolution.Ticks(recordBPM, at)
}

// recTrack is what one participant played. Guarded by Recorder.mu.
type recTrack struct {
	id     string
	name   string             // the participant's name; "" if none heard
	events []recEvent         // in arrival order; sorted (stably) when written
	last   time.Duration      // the latest event time
	heard  time.Duration      // the latest event's time (not counting scheduled ends)
	held   map[voice]struct{} // notes sounding until a release, Left or the end
	pedals map[voice]struct{} // switch pedals down, by channel and controller
	offs   map[voice]int      // index in events of a note's scheduled note-off
}

// recEvent is one message at its time in the recording.
type recEvent struct {
	at  time.Duration
	msg midi.Message
}

// add records a message and keeps the held notes and pedals.
func (t *recTrack) add(at time.Duration, m midi.Message) {
	var ch, key, val uint8
	switch {
	case m.GetNoteStart(&ch, &key, &val):
		v := voiceOf(ch, key)
		// A key struck again before its scheduled end ends just before.
		if i, ok := t.offs[v]; ok && t.events[i].at > at {
			t.events[i].at = at
		}
		delete(t.offs, v)
		t.held[v] = struct{}{}
	case m.GetNoteEnd(&ch, &key):
		v := voiceOf(ch, key)
		if _, ok := t.held[v]; !ok {
			return // not sounding: already ended, or never heard
		}
		delete(t.held, v)
	case m.GetControlChange(&ch, &key, &val) && key >= sustainPedal && key <= lastPedal:
		if val >= 64 {
			t.pedals[voiceOf(ch, key)] = struct{}{}
		} else {
			delete(t.pedals, voiceOf(ch, key))
		}
	}
	t.events = append(t.events, recEvent{at, m})
	t.last, t.heard = max(t.last, at), max(t.heard, at)
}

// lastPedal is the last switch pedal controller (64 is sustain).
const lastPedal = 69

// schedule records a note-off due at end, for a note that does not wait
// for its release (a drum hit, a note that says its duration).
func (t *recTrack) schedule(end time.Duration, off midi.Message) {
	var ch, key uint8
	if !off.GetNoteEnd(&ch, &key) {
		return
	}
	v := voiceOf(ch, key)
	delete(t.held, v)
	t.offs[v] = len(t.events)
	t.events = append(t.events, recEvent{end, off})
	t.last = max(t.last, end)
}

// releases are the messages that end what t holds, at at.
func (t *recTrack) releases(at time.Duration) []recEvent {
	var out []recEvent
	for _, v := range sortedVoices(t.held) {
		out = append(out, recEvent{at, midi.NoteOff(v.channel(), v.key())})
	}
	for _, v := range sortedVoices(t.pedals) {
		out = append(out, recEvent{at, midi.ControlChange(v.channel(), v.key(), 0)})
	}
	return out
}

// releaseAt ends everything t holds or has scheduled at at, or at the
// latest event if that is later, so that no note ends before it starts.
func (t *recTrack) releaseAt(at time.Duration) {
	at = max(at, t.heard)
	for _, i := range t.offs {
		if t.events[i].at > at {
			t.events[i].at = at
		}
	}
	t.events = append(t.events, t.releases(at)...)
	t.last = max(t.last, at)
	clear(t.held)
	clear(t.pedals)
	clear(t.offs)
}

// smfTrack is the track of t, with what is still held ended at end.
func (t *recTrack) smfTrack(end time.Duration) smf.Track {
	evs := append(slices.Clone(t.events), t.releases(end)...)
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].at < evs[j].at })
	var tr smf.Track
	name := t.name
	if name == "" {
		name = t.id
	}
	tr.Add(0, smf.MetaTrackSequenceName(name))
	var prev uint32
	for _, e := range evs {
		// Absolute ticks from absolute times: rounding never accumulates.
		tick := recordTick(e.at)
		tr.Add(tick-prev, e.msg)
		prev = tick
	}
	tr.Close(0)
	return tr
}
