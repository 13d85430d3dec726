package bridge

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"time"

	"gitlab.com/gomidi/midi/v2"
	"gitlab.com/gomidi/midi/v2/smf"
)

// Performance is a MIDI file flattened to one timeline: the channel
// messages of every track, in the order they are to be played.
type Performance struct {
	// Events are sorted by At; events at the same time keep the order
	// of their tracks, then of the file.
	Events []TimedMessage
	// Length is the time of the file's last event of any kind (End of
	// Track included), so a final rest is part of the performance.
	Length time.Duration
}

// TimedMessage is one channel message of a Performance.
type TimedMessage struct {
	At    time.Duration // since the start of the file
	Track int           // index of the track in the file
	Msg   midi.Message
}

// ErrBadMIDIFile is wrapped by the errors of LoadPerformance for input
// that is not a Standard MIDI File it can play.
var ErrBadMIDIFile = errors.New("not a playable standard midi file")

// Limits of LoadPerformance, against files made to exhaust memory or
// time. A real song is far below each.
const (
	// maxFileSize bounds the file: gomidi's reader allocates about 250
	// bytes per byte of file, and 4 MiB (1.3 million notes) take 1.5 s.
	maxFileSize = 4 << 20
	// maxTempoChanges bounds the tempo events: gomidi's reader spends
	// time quadratic in their number (10000 take 0.06 s).
	maxTempoChanges = 10000
	// maxLength bounds the time of the last event.
	maxLength = 24 * time.Hour
)

// defaultBPM is the tempo of a file until its first tempo event.
const defaultBPM = 120

// LoadPerformance reads a Standard MIDI File of format 0 or 1 with metric
// time (ticks per quarter note) and flattens it to one timeline. Tempo
// changes are honoured, whichever track holds them; times are exact to
// the nanosecond before rounding. Only channel messages (notes,
// controllers, program changes, pitch bend, aftertouch) are kept: meta
// events and system exclusive messages are dropped.
//
// Errors wrap ErrBadMIDIFile, except those of reading r. gomidi's reader,
// which does the parsing, panics on every file with SMPTE time, allocates
// whatever size an event claims (3 GiB for a 100-byte file) and is
// quadratic in tempo changes: such input is refused before it reads it,
// and any other panic of the reader is recovered and returned as an error.
func LoadPerformance(r io.Reader) (Performance, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxFileSize+1))
	if err != nil {
		return Performance{}, fmt.Errorf("read midi file: %w", err)
	}
	if err := checkSMF(data); err != nil {
		return Performance{}, fmt.Errorf("%w: %w", ErrBadMIDIFile, err)
	}
	s, err := readSMF(data)
	if err != nil {
		return Performance{}, fmt.Errorf("%w: %w", ErrBadMIDIFile, err)
	}
	p, err := flattenSMF(s)
	if err != nil {
		return Performance{}, fmt.Errorf("%w: %w", ErrBadMIDIFile, err)
	}
	return p, nil
}

// checkSMF refuses what would make gomidi's reader panic, exhaust memory
// or take too long.
func checkSMF(data []byte) error {
	if len(data) > maxFileSize {
		return fmt.Errorf("larger than %d MiB", maxFileSize>>20)
	}
	if len(data) < 14 || string(data[:4]) != "MThd" {
		return nil // gomidi's reader refuses it
	}
	// The header is "MThd", length 6, format, tracks, division; gomidi
	// panics on a division in SMPTE frames (top bit set).
	if data[12]&0x80 != 0 {
		return errors.New("smpte time code is not supported, only ticks per quarter note")
	}
	return checkEvents(data)
}

// checkEvents walks the chunks and events of data as gomidi's reader will
// (same chunk skipping, running status and variable lengths), stopping
// where it stops, and refuses a meta or sysex event that declares more
// bytes than remain: gomidi allocates the declared size (up to 4 GiB)
// before reading it. It also counts tempo events, on which gomidi's reader
// spends time quadratic in their number.
func checkEvents(data []byte) error {
	s := &smfScanner{data: data, pos: 14}
	var status byte
	end, tempos := 0, 0 // end of the track chunk; 0 before the first
	for s.pos < len(data) {
		if end == 0 || s.pos >= end {
			if end = s.nextTrack(); end < 0 {
				return nil
			}
		}
		_, okDelta := s.varLen()
		c, okStatus := s.next()
		if !okDelta || !okStatus {
			return nil
		}
		switch {
		case c == 0xFF || c == 0xF0 || c == 0xF7: // meta, sysex
			status = 0
			if c == 0xFF {
				if typ, _ := s.next(); typ == 0x51 {
					tempos++
				}
			}
			if tempos > maxTempoChanges {
				return fmt.Errorf("more than %d tempo changes", maxTempoChanges)
			}
			n, ok := s.varLen()
			if !ok {
				return nil
			}
			if int64(n) > int64(len(data)-s.pos) {
				return fmt.Errorf("event at byte %d claims %d bytes, %d remain", s.pos, n, len(data)-s.pos)
			}
			s.pos += int(n)
		case c >= 0x80 && c <= 0xEF: // a status, then its data bytes
			status = c
			s.pos += dataBytes(status)
		case status != 0: // running status: c was the first data byte
			s.pos += dataBytes(status) - 1
		default: // a stray byte: gomidi skips it and one more
			s.pos++
		}
	}
	return nil
}

// dataBytes is the number of data bytes of a channel message.
func dataBytes(status byte) int {
	if t := status & 0xF0; t == 0xC0 || t == 0xD0 {
		return 1
	}
	return 2
}

// smfScanner reads the bytes of a file for checkEvents.
type smfScanner struct {
	data []byte
	pos  int
}

func (s *smfScanner) next() (byte, bool) {
	if s.pos >= len(s.data) {
		return 0, false
	}
	s.pos++
	return s.data[s.pos-1], true
}

// varLen reads a variable-length number as gomidi does: with no limit on
// its length, keeping the low 32 bits.
func (s *smfScanner) varLen() (n uint32, ok bool) {
	for {
		b, ok := s.next()
		if !ok {
			return 0, false
		}
		n = n<<7 | uint32(b&0x7F)
		if b&0x80 == 0 {
			return n, true
		}
	}
}

// nextTrack skips to the data of the next track chunk with data, as
// gomidi does, and returns its end; -1 when the file ends first.
func (s *smfScanner) nextTrack() int {
	for len(s.data)-s.pos >= 8 {
		typ, n := string(s.data[s.pos:s.pos+4]), int(binary.BigEndian.Uint32(s.data[s.pos+4:]))
		s.pos += 8
		switch {
		case typ == "MTrk" && n > 0:
			return s.pos + n
		case typ != "MTrk":
			s.pos += n
		}
	}
	return -1
}

// readSMF runs gomidi's reader, turning its panics into errors.
func readSMF(data []byte) (s *smf.SMF, err error) {
	defer func() {
		if p := recover(); p != nil {
			s, err = nil, fmt.Errorf("midi reader panicked: %v", p)
		}
	}()
	return smf.ReadFrom(bytes.NewReader(data))
}

// tickMessage is a channel message at its absolute tick.
type tickMessage struct {
	tick  int64
	track int
	msg   midi.Message
}

// flattenSMF merges the tracks of s into one timeline.
func flattenSMF(s *smf.SMF) (Performance, error) {
	tpq, ok := s.TimeFormat.(smf.MetricTicks)
	if !ok {
		return Performance{}, fmt.Errorf("time format %v is not supported", s.TimeFormat)
	}
	if s.Format() == 2 {
		return Performance{}, errors.New("format 2 (independent sequences) is not supported")
	}
	var (
		msgs     []tickMessage
		tempos   []tempoChange
		lastTick int64
	)
	for no, tr := range s.Tracks {
		var tick int64
		for _, ev := range tr {
			tick += int64(ev.Delta)
			lastTick = max(lastTick, tick)
			var bpm float64
			switch m := ev.Message; {
			case m.GetMetaTempo(&bpm):
				tempos = append(tempos, tempoChange{tick, bpm})
			case isChannelMessage(m):
				msgs = append(msgs, tickMessage{tick, no, midi.Message(m)})
			}
		}
	}
	tm, err := newTempoMap(tempos, tpq.Resolution())
	if err != nil {
		return Performance{}, err
	}
	p := Performance{Length: tm.at(lastTick), Events: make([]TimedMessage, len(msgs))}
	if p.Length > maxLength {
		return Performance{}, fmt.Errorf("longer than %v", maxLength)
	}
	// Stable: equal ticks keep track order, then file order.
	sort.SliceStable(msgs, func(i, j int) bool { return msgs[i].tick < msgs[j].tick })
	for i, m := range msgs {
		p.Events[i] = TimedMessage{At: tm.at(m.tick), Track: m.track, Msg: m.msg}
	}
	return p, nil
}

// isChannelMessage reports a complete channel voice message (status
// 0x80-0xEF).
func isChannelMessage(m smf.Message) bool {
	return len(m) >= 2 && m[0] >= 0x80 && m[0] < 0xF0
}

// tempoChange is a tempo event at its absolute tick.
type tempoChange struct {
	tick int64
	bpm  float64
}

// tempoMap converts ticks to time. It computes what gomidi's
// TrackEvent.AbsMicroSeconds does, without its rounding to whole
// microseconds at every tempo change, its 32-bit tick differences, and
// its scan of every tempo change for every event.
type tempoMap []tempoSegment

// tempoSegment is a stretch of constant tempo from tick on.
type tempoSegment struct {
	tick    int64
	ns      float64 // time at tick, in nanoseconds
	nsTicks float64 // nanoseconds per tick
}

func newTempoMap(tempos []tempoChange, tpq uint16) (tempoMap, error) {
	perTick := func(bpm float64) float64 { return 60e9 / (bpm * float64(tpq)) }
	sort.SliceStable(tempos, func(i, j int) bool { return tempos[i].tick < tempos[j].tick })
	tm := tempoMap{{nsTicks: perTick(defaultBPM)}}
	for _, tc := range tempos {
		if !(tc.bpm > 0) || math.IsInf(tc.bpm, 0) {
			return nil, fmt.Errorf("tempo of %v bpm at tick %d", tc.bpm, tc.tick)
		}
		last := &tm[len(tm)-1]
		if tc.tick == last.tick { // the last of several at one tick wins
			last.nsTicks = perTick(tc.bpm)
			continue
		}
		tm = append(tm, tempoSegment{tick: tc.tick, ns: last.nanos(tc.tick), nsTicks: perTick(tc.bpm)})
	}
	return tm, nil
}

func (s tempoSegment) nanos(tick int64) float64 {
	return s.ns + float64(tick-s.tick)*s.nsTicks
}

// at is the time of tick, saturating rather than overflowing.
func (tm tempoMap) at(tick int64) time.Duration {
	i := sort.Search(len(tm), func(i int) bool { return tm[i].tick > tick }) - 1
	ns := math.Round(tm[i].nanos(tick))
	if ns >= math.MaxInt64 {
		return math.MaxInt64
	}
	return time.Duration(ns)
}
