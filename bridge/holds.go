package bridge

import (
	"gitlab.com/gomidi/midi/v2"

	"github.com/jambridge/jambridge/internal/releasequeue"
)

// holdKey names what a MIDI message holds or releases, for the queues
// (package releasequeue): a key (a voice: channel << 8 | note) or the
// sustain pedal of a channel (pedalHold | channel).
type holdKey uint16

const pedalHold holdKey = 1 << 12

// holdKeysPerSource is how many keys one source (an input port, a remote
// participant) can hold at once: every note and every sustain pedal of
// 16 channels. Pending releases are coalesced per key, so this bounds
// them per source.
const holdKeysPerSource = 16*128 + 16

// holdOf says what m means to a queue: a note-on or a sustain pedal down
// starts holding a key, a note-off (or a note-on of velocity 0) or a
// pedal up releases it, and anything else is an ordinary event.
func holdOf(m midi.Message) (releasequeue.Kind, holdKey) {
	var ch, key, val uint8
	switch {
	case m.GetNoteStart(&ch, &key, &val):
		return releasequeue.Start, holdKey(voiceOf(ch, key))
	case m.GetNoteEnd(&ch, &key):
		return releasequeue.Release, holdKey(voiceOf(ch, key))
	case m.GetControlChange(&ch, &key, &val) && key == sustainPedal:
		if val >= 64 {
			return releasequeue.Start, pedalHold | holdKey(ch)
		}
		return releasequeue.Release, pedalHold | holdKey(ch)
	}
	return releasequeue.Plain, 0
}
