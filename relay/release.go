package relay

import "strconv"

// endsASound reports whether a relayed event ends something a receiver
// is sounding, as PROTOCOL.md's musical events say: a piano_note of
// velocity 0, or a control_change of a pedal (64 sustain, 66 sostenuto,
// 67 soft) to a value under 64. A slow member's send queue keeps these
// when it drops the oldest events, as it keeps presence: a dropped
// note-on costs one note, a dropped release a note that never ends.
// They stay bounded all the same: the queue's limits in packets and in
// bytes hold for every packet.
//
// Only the payload's top level is read, and only for those two event
// names; anything unexpected makes an ordinary event.
func endsASound(eventName string, payload []byte) bool {
	switch eventName {
	case "piano_note":
		vel, ok := topLevelNumber(payload, "velocity")
		return ok && vel == 0
	case "control_change":
		ctl, ok := topLevelNumber(payload, "controller")
		if !ok || (ctl != 64 && ctl != 66 && ctl != 67) {
			return false
		}
		val, ok := topLevelNumber(payload, "value")
		return ok && val >= 0 && val < 64
	}
	return false
}

// topLevelNumber returns the number at name in the JSON object payload
// (its last value, as JavaScript takes it); false when payload is not an
// object or that member is missing or not a number.
func topLevelNumber(payload []byte, name string) (float64, bool) {
	if len(payload) == 0 {
		return 0, false
	}
	r := readJSON(payload)
	defer r.release()
	if !r.open('{') {
		return 0, false
	}
	var raw []byte
	for r.more() {
		n, err := r.name()
		if err != nil {
			return 0, false
		}
		match := string(n) == name
		v, err := r.value()
		if err != nil {
			return 0, false
		}
		if match {
			raw = v
		}
	}
	if len(raw) == 0 || !(raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9') {
		return 0, false
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	return f, err == nil
}
