package mapping

import "gitlab.com/gomidi/midi/v2"

// noteState is what an Input knows of one key on one channel.
type noteState uint8

const (
	idle       noteState = iota
	sounding             // a piano_note went out; its note-off will follow
	suppressed           // the note-on was too soft; drop its note-off
)

// Switch pedals (sustain 64 to hold-2 69) are tracked so that Release can
// lift them.
const (
	firstPedal = 64
	lastPedal  = 69
)

// Input turns the MIDI messages of one input port into events, following
// an InputRule. It remembers which piano notes are held, so that a
// note-off carries its duration and Release can end them all.
//
// An Input is not safe for concurrent use: one goroutine owns it.
type Input struct {
	rule        InputRule // a copy; never changed after NewInput
	channels    uint16    // bit ch (0-15) set: listened to; 0 means all
	drumChans   uint16    // bit ch set: drums under Auto; 0 means channel 10
	controllers [2]uint64 // bit cc set: sent
	padMin      [maxKey + 1]uint8

	notes   [16][maxKey + 1]heldNote // by gomidi channel and played key
	held    int                      // notes in state sounding
	pedals  [16]uint8                // bit n set: pedal firstPedal+n sent down
	pedaled int                      // bits set in pedals
}

type heldNote struct {
	onset float64 // unix ms of the note-on
	state noteState
}

// NewInput returns an Input for rule, or the error of rule.Validate. The
// Input keeps its own copy of the rule's slices and map.
func NewInput(rule InputRule) (*Input, error) {
	if err := rule.Validate(); err != nil {
		return nil, err
	}
	m := &Input{rule: rule}
	m.rule.Channels = nil // masks below replace the slices and the map
	m.rule.DrumChannels, m.rule.Controllers, m.rule.PadMinVelocity = nil, nil, nil
	m.channels = channelMask(rule.Channels)
	m.drumChans = channelMask(rule.DrumChannels)
	if m.drumChans == 0 {
		m.drumChans = 1 << (defaultDrumChannel - 1)
	}
	ccs := rule.Controllers
	if len(ccs) == 0 {
		ccs = []int{sustainPedal}
	}
	for _, cc := range ccs {
		m.controllers[cc/64] |= 1 << (cc % 64)
	}
	for key, v := range rule.PadMinVelocity {
		m.padMin[key] = uint8(v)
	}
	return m, nil
}

func channelMask(chans []int) (mask uint16) {
	for _, ch := range chans {
		mask |= 1 << (ch - 1)
	}
	return mask
}

// FromMIDI maps one message, received at now (unix ms), to an event; false
// means the message makes none. Note-ons (velocity > 0) become drum_hit on
// a drum channel and piano_note elsewhere; note-offs and note-ons of
// velocity 0 become piano_note releases (velocity 0, Duration since the
// note-on) and are dropped on drum channels, since drums have no release.
// The Curve applies to velocities; notes softer than MinVelocity or
// PadMinVelocity are dropped with their note-offs. The Controllers become
// control_change when SendControl is set. Everything else (clock, sysex,
// pitch bend, aftertouch, program change) is dropped.
//
// Every event carries its midi key and its channel (1-16). A note-off
// whose note-on this Input never saw is still sent, without Duration. A
// second note-on of a held key is sent and restarts its Duration.
func (m *Input) FromMIDI(msg midi.Message, now float64) (Event, bool) {
	var ch, key, vel uint8
	switch {
	case msg.GetNoteStart(&ch, &key, &vel):
		return m.noteOn(int(ch), int(key), int(vel), now)
	case msg.GetNoteEnd(&ch, &key):
		return m.noteOff(int(ch), int(key), now)
	case msg.GetControlChange(&ch, &key, &vel):
		return m.control(int(ch), int(key), int(vel), now)
	}
	return Event{}, false
}

// listens reports whether the rule takes gomidi channel ch (0-15).
func (m *Input) listens(ch int) bool {
	return m.channels == 0 || m.channels&(1<<ch) != 0
}

// drums reports whether notes on gomidi channel ch are drum hits.
func (m *Input) drums(ch int) bool {
	switch m.rule.Role {
	case Drums:
		return true
	case Keys:
		return false
	}
	return m.drumChans&(1<<ch) != 0 || m.drumChans == 0 && ch == defaultDrumChannel-1
}

func (m *Input) noteOn(ch, key, vel int, now float64) (Event, bool) {
	if !m.listens(ch) {
		return Event{}, false
	}
	if m.drums(ch) {
		if vel < m.rule.MinVelocity || vel < int(m.padMin[key]) {
			return Event{}, false
		}
		return Event{Kind: DrumHit, Note: drumLabel(key), MIDI: key,
			Velocity: m.rule.Curve.Apply(vel), Channel: ch + 1, Timestamp: now}, true
	}
	out := key + m.rule.Transpose
	if out < minKey || out > maxKey {
		return Event{}, false
	}
	n := &m.notes[ch][key]
	switch {
	case vel >= m.rule.MinVelocity:
		if n.state != sounding {
			m.held++
		}
		n.state, n.onset = sounding, now
	case n.state != sounding:
		n.state = suppressed // and a soft retrigger of a sounding note is ignored
		return Event{}, false
	default:
		return Event{}, false
	}
	return Event{Kind: PianoNote, Note: NoteName(out), MIDI: out,
		Velocity: m.rule.Curve.Apply(vel), Channel: ch + 1, Timestamp: now}, true
}

func (m *Input) noteOff(ch, key int, now float64) (Event, bool) {
	if !m.listens(ch) || m.drums(ch) {
		return Event{}, false
	}
	out := key + m.rule.Transpose
	if out < minKey || out > maxKey {
		return Event{}, false
	}
	n := &m.notes[ch][key]
	var held float64
	switch n.state {
	case suppressed:
		n.state = idle
		return Event{}, false
	case sounding:
		held = max(0, now-n.onset)
		n.state = idle
		m.held--
	}
	return Event{Kind: PianoNote, Note: NoteName(out), MIDI: out,
		Channel: ch + 1, Timestamp: now, Duration: held}, true
}

func (m *Input) control(ch, cc, value int, now float64) (Event, bool) {
	if !m.rule.SendControl || !m.listens(ch) || m.controllers[cc/64]&(1<<(cc%64)) == 0 {
		return Event{}, false
	}
	if cc >= firstPedal && cc <= lastPedal {
		bit := uint8(1) << (cc - firstPedal)
		was := m.pedals[ch]&bit != 0
		switch down := value >= 64; {
		case down && !was:
			m.pedals[ch] |= bit
			m.pedaled++
		case !down && was:
			m.pedals[ch] &^= bit
			m.pedaled--
		}
	}
	return Event{Kind: ControlChange, Controller: cc, Value: value,
		Channel: ch + 1, Timestamp: now}, true
}

// Release ends everything this Input holds, for a device gone mid-note:
// a piano_note release (velocity 0, with Duration) for every held note,
// by channel and key, then a control_change of value 0 for every switch
// pedal (controllers 64-69, sustain first) last sent down. It forgets
// them, and the notes dropped as too soft, so the next FromMIDI starts
// afresh. It returns nil when nothing is held.
func (m *Input) Release(now float64) []Event {
	if m.held == 0 && m.pedaled == 0 {
		clear(m.notes[:])
		return nil
	}
	evs := make([]Event, 0, m.held+m.pedaled)
	for ch := range m.notes {
		for key, n := range m.notes[ch] {
			if n.state == sounding {
				out := key + m.rule.Transpose
				evs = append(evs, Event{Kind: PianoNote, Note: NoteName(out), MIDI: out,
					Channel: ch + 1, Timestamp: now, Duration: max(0, now-n.onset)})
			}
		}
	}
	for ch, bits := range m.pedals {
		for i := range lastPedal - firstPedal + 1 {
			if bits&(1<<i) != 0 {
				evs = append(evs, Event{Kind: ControlChange, Controller: firstPedal + i,
					Channel: ch + 1, Timestamp: now})
			}
		}
	}
	clear(m.notes[:])
	m.pedals, m.held, m.pedaled = [16]uint8{}, 0, 0
	return evs
}
