package bridge

// voice identifies one sounding key: channel (0-15) and key.
type voice uint16

func voiceOf(ch, key uint8) voice { return voice(ch)<<8 | voice(key) }
func (v voice) channel() uint8    { return uint8(v >> 8) }
func (v voice) key() uint8        { return uint8(v) }

// voices is the held-note table of the output: which remote participant
// holds which key and pedal. Several participants may hold the same key on
// the same channel; the synth hears one note, released when the last of
// them lets go. Owned by the player goroutine.
type voices struct {
	byUser   map[string]*held
	sounding map[voice]int      // holders per key
	pedals   map[uint8]int      // holders of the sustain pedal per channel
	gen      map[voice]uint64   // bumped by every note-on, for scheduled offs
	channels map[uint8]struct{} // channels played since they were last silenced
}

// held is what one participant holds, and the channels they played.
type held struct {
	notes  map[voice]struct{}
	pedals map[uint8]struct{}
	played map[uint8]struct{}
}

func newVoices() *voices {
	return &voices{
		byUser:   map[string]*held{},
		sounding: map[voice]int{},
		pedals:   map[uint8]int{},
		gen:      map[voice]uint64{},
		channels: map[uint8]struct{}{},
	}
}

func (vs *voices) user(id string) *held {
	h := vs.byUser[id]
	if h == nil {
		h = &held{notes: map[voice]struct{}{}, pedals: map[uint8]struct{}{}, played: map[uint8]struct{}{}}
		vs.byUser[id] = h
	}
	return h
}

// noteOn records that user holds v and returns v's new generation.
func (vs *voices) noteOn(user string, v voice) uint64 {
	h := vs.user(user)
	if _, ok := h.notes[v]; !ok {
		h.notes[v] = struct{}{}
		vs.sounding[v]++
	}
	vs.channels[v.channel()] = struct{}{}
	h.played[v.channel()] = struct{}{}
	vs.gen[v]++
	return vs.gen[v]
}

// noteOff records that user let go of v and reports whether the synth
// should hear a note-off: user held v and nobody else does. A note-off
// for a note user never sounded (its note-on was dropped or lost) is
// not heard: a note never sounded is never released.
func (vs *voices) noteOff(user string, v voice) bool {
	h := vs.byUser[user]
	if h == nil {
		return false
	}
	if _, ok := h.notes[v]; !ok {
		return false
	}
	delete(h.notes, v)
	vs.sounding[v]--
	if vs.sounding[v] > 0 {
		return false
	}
	delete(vs.sounding, v)
	return true
}

// pedal records user's sustain pedal on ch and reports whether the synth
// should hear the change: down when the first holder presses, up when the
// last lets go.
func (vs *voices) pedal(user string, ch uint8, down bool) bool {
	h := vs.user(user)
	_, had := h.pedals[ch]
	vs.channels[ch] = struct{}{}
	h.played[ch] = struct{}{}
	switch {
	case down && !had:
		h.pedals[ch] = struct{}{}
		vs.pedals[ch]++
		return vs.pedals[ch] == 1
	case !down && had:
		delete(h.pedals, ch)
		vs.pedals[ch]--
		if vs.pedals[ch] == 0 {
			delete(vs.pedals, ch)
			return true
		}
		return false
	}
	return !down && vs.pedals[ch] == 0 // a stray pedal-up passes through
}

// busy reports whether anybody holds a note or pedal on ch.
func (vs *voices) busy(ch uint8) bool {
	if vs.pedals[ch] > 0 {
		return true
	}
	for v := range vs.sounding {
		if v.channel() == ch {
			return true
		}
	}
	return false
}
