package main

import (
	"bytes"
	"strconv"
	"time"
)

// The load events are realistic musical events (PROTOCOL.md, "Musical
// events") with three extra payload fields that make them measurable:
//
//	"src" the sender's index within its session,
//	"n"   the sender's counter (also sent as the event's seq),
//	"t"   the send time in unix nanoseconds.
//
// They come first in the payload so a receiver finds them early, and the
// receiver reads only these three numbers from the raw bytes: no JSON
// decoding on the hot path.

// broadcastPrefix starts every relayed event:broadcast packet.
var broadcastPrefix = []byte(`42["event:broadcast",`)

// Keys of the measured fields; the leading quote makes each match a whole key.
var (
	keySrc = []byte(`"src":`)
	keyN   = []byte(`"n":`)
	keyT   = []byte(`"t":`)
)

var drums = [...]struct {
	name string
	midi int
}{{"kick", 36}, {"snare", 38}, {"hihat_closed", 42}, {"hihat_open", 46}, {"crash", 49}}

var pianoNotes = [...]struct {
	name string
	midi int
}{{"C4", 60}, {"E4", 64}, {"G4", 67}, {"A#4", 70}, {"D5", 74}}

// appendBroadcast appends one event:broadcast packet from member src of
// room: a drum_hit from even members, a piano_note from odd ones. A
// packet is about 220 bytes, its payload 120 to 135; relayed with the
// relay's senderId and serverTime it is about 260.
func appendBroadcast(b []byte, room string, src int, n int64, now time.Time) []byte {
	b = append(b, `42["event:broadcast",{"roomCode":"`...)
	b = append(b, room...)
	if src%2 == 0 {
		b = append(b, `","eventName":"drum_hit","payload":{`...)
	} else {
		b = append(b, `","eventName":"piano_note","payload":{`...)
	}
	b = append(b, `"src":`...)
	b = strconv.AppendInt(b, int64(src), 10)
	b = append(b, `,"n":`...)
	b = strconv.AppendInt(b, n, 10)
	b = append(b, `,"t":`...)
	b = strconv.AppendInt(b, now.UnixNano(), 10)
	b = append(b, `,"note":"`...)
	midi, channel := 0, 0
	if src%2 == 0 {
		d := drums[n%int64(len(drums))]
		b, midi, channel = append(b, d.name...), d.midi, 10
	} else {
		p := pianoNotes[n%int64(len(pianoNotes))]
		b, midi, channel = append(b, p.name...), p.midi, 1
	}
	b = append(b, `","velocity":`...)
	b = strconv.AppendInt(b, 64+n%63, 10)
	b = append(b, `,"timestamp":`...)
	b = strconv.AppendInt(b, now.UnixMilli(), 10)
	if src%2 == 1 {
		b = append(b, `,"duration":250`...)
	}
	b = append(b, `,"midi":`...)
	b = strconv.AppendInt(b, int64(midi), 10)
	b = append(b, `,"channel":`...)
	b = strconv.AppendInt(b, int64(channel), 10)
	b = append(b, `},"seq":`...)
	b = strconv.AppendInt(b, n, 10)
	return append(b, "}]"...)
}

// loadFields are the measured fields of one relayed load event.
type loadFields struct {
	src int   // sender's index in its session
	n   int64 // sender's counter
	t   int64 // send time, unix nanoseconds
}

// parseLoadEvent finds src, n and t in a relayed event:broadcast packet
// without decoding its JSON. ok is false for any other packet.
func parseLoadEvent(msg []byte) (f loadFields, ok bool) {
	if !bytes.HasPrefix(msg, broadcastPrefix) {
		return f, false
	}
	rest := msg[len(broadcastPrefix):]
	src, ok1 := intAfter(rest, keySrc)
	n, ok2 := intAfter(rest, keyN)
	t, ok3 := intAfter(rest, keyT)
	return loadFields{src: int(src), n: n, t: t}, ok1 && ok2 && ok3
}

// intAfter parses the non-negative integer that follows the first key in
// b. A relay that stores numbers as doubles (Node) may print large ones
// with a fraction or an exponent; the integer part is enough here, and a
// value with an exponent is refused.
func intAfter(b, key []byte) (int64, bool) {
	i := bytes.Index(b, key)
	if i < 0 {
		return 0, false
	}
	b = b[i+len(key):]
	var v int64
	j := 0
	for ; j < len(b) && b[j] >= '0' && b[j] <= '9'; j++ {
		if v > (1<<63-1-9)/10 {
			return 0, false // overflow
		}
		v = v*10 + int64(b[j]-'0')
	}
	if j == 0 {
		return 0, false
	}
	if j < len(b) && b[j] == '.' { // a fraction: skip it
		for j++; j < len(b) && b[j] >= '0' && b[j] <= '9'; j++ {
		}
	}
	if j < len(b) && (b[j] == 'e' || b[j] == 'E') {
		return 0, false
	}
	return v, true
}

// isPing reports whether msg is an Engine.IO ping.
func isPing(msg []byte) bool { return len(msg) == 1 && msg[0] == '2' }

// pongPacket answers a ping.
var pongPacket = []byte("3")
