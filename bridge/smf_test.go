package bridge_test

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"gitlab.com/gomidi/midi/v2"
	"gitlab.com/gomidi/midi/v2/smf"

	"github.com/jambridge/jambridge/bridge"
)

// smfBytes encodes tracks as an SMF of 960 ticks per quarter note.
func smfBytes(t testing.TB, format uint16, tracks ...smf.Track) []byte {
	t.Helper()
	s := smf.NewSMF1()
	if format == 0 {
		s = smf.New()
	}
	s.TimeFormat = smf.MetricTicks(960)
	for _, tr := range tracks {
		tr.Close(0)
		if err := s.Add(tr); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if _, err := s.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// twoTracks is a format 1 file of two tracks: 120 BPM, then 100 BPM from
// tick 1920 (1 s) on; notes on channels 1 and 10, the sustain pedal, and
// meta and sysex events that a Performance drops.
func twoTracks(t testing.TB) []byte {
	var a, b smf.Track
	a.Add(0, smf.MetaTrackSequenceName("keys"), smf.MetaTempo(120))
	a.Add(0, midi.NoteOn(0, 60, 100))          // 0
	a.Add(480, midi.ControlChange(0, 64, 127)) // 0.25 s
	a.Add(480, midi.NoteOff(0, 60))            // 0.5 s
	a.Add(960, smf.MetaTempo(100))             // 1 s: a tick is now 625 µs
	a.Add(0, midi.NoteOn(0, 64, 90))           // 1 s
	a.Add(1, midi.NoteOn(0, 67, 80))           // 1.000625 s
	a.Add(479, smf.MetaText("bridge"))         // 1.3 s
	a.Add(0, midi.NoteOff(0, 64), midi.NoteOff(0, 67), midi.ControlChange(0, 64, 0))
	a.Close(960) // end of track at 1.9 s

	b.Add(0, smf.MetaTrackSequenceName("drums"))
	b.Add(960, midi.NoteOn(9, 36, 110)) // 0.5 s, same time as a's note-off
	b.Add(0, midi.SysEx([]byte{0x7E, 0x7F, 0x09, 0x01}))
	b.Add(960, midi.NoteOn(9, 38, 70)) // 1 s, same time as a's chord
	b.Add(1, midi.NoteOff(9, 38))      // 1.000625 s
	b.Add(3, midi.ProgramChange(9, 1)) // 1.0025 s
	return smfBytes(t, 1, a, b)
}

func TestLoadPerformance(t *testing.T) {
	p, err := bridge.LoadPerformance(bytes.NewReader(twoTracks(t)))
	if err != nil {
		t.Fatal(err)
	}
	us := func(n int64) time.Duration { return time.Duration(n) * time.Microsecond }
	want := []bridge.TimedMessage{
		{us(0), 0, midi.NoteOn(0, 60, 100)},
		{us(250000), 0, midi.ControlChange(0, 64, 127)},
		{us(500000), 0, midi.NoteOff(0, 60)},
		{us(500000), 1, midi.NoteOn(9, 36, 110)},
		{us(1000000), 0, midi.NoteOn(0, 64, 90)},
		{us(1000000), 1, midi.NoteOn(9, 38, 70)},
		{us(1000625), 0, midi.NoteOn(0, 67, 80)},
		{us(1000625), 1, midi.NoteOff(9, 38)},
		{us(1002500), 1, midi.ProgramChange(9, 1)},
		{us(1300000), 0, midi.NoteOff(0, 64)},
		{us(1300000), 0, midi.NoteOff(0, 67)},
		{us(1300000), 0, midi.ControlChange(0, 64, 0)},
	}
	if got := timeline(p.Events); !slices.Equal(got, timeline(want)) {
		t.Errorf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(timeline(want), "\n"))
	}
	if want := us(1900000); p.Length != want {
		t.Errorf("length %v, want %v", p.Length, want)
	}
}

// timeline formats events for comparison.
func timeline(evs []bridge.TimedMessage) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.At.String() + " track " + string(rune('0'+e.Track)) + " " + e.Msg.String()
	}
	return out
}

// LoadPerformance agrees with gomidi's own absolute times.
func TestLoadPerformanceMatchesGomidi(t *testing.T) {
	data := twoTracks(t)
	var want []time.Duration
	smf.ReadTracksFrom(bytes.NewReader(data)).Do(func(te smf.TrackEvent) {
		if m := te.Message; len(m) > 0 && m[0] >= 0x80 && m[0] < 0xF0 {
			want = append(want, time.Duration(te.AbsMicroSeconds)*time.Microsecond)
		}
	})
	slices.Sort(want)
	p, err := bridge.LoadPerformance(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	var got []time.Duration
	for _, e := range p.Events {
		got = append(got, e.At)
	}
	if !slices.Equal(got, want) {
		t.Errorf("times %v, gomidi says %v", got, want)
	}
}

func TestLoadPerformanceFormat0(t *testing.T) {
	var tr smf.Track
	tr.Add(0, smf.MetaTempo(60))
	tr.Add(960, midi.NoteOn(2, 48, 64)) // 1 s at 60 BPM
	tr.Add(480, midi.NoteOff(2, 48))
	p, err := bridge.LoadPerformance(bytes.NewReader(smfBytes(t, 0, tr)))
	if err != nil {
		t.Fatal(err)
	}
	want := []bridge.TimedMessage{
		{time.Second, 0, midi.NoteOn(2, 48, 64)},
		{1500 * time.Millisecond, 0, midi.NoteOff(2, 48)},
	}
	if got := timeline(p.Events); !slices.Equal(got, timeline(want)) {
		t.Errorf("events %q, want %q", got, timeline(want))
	}
}

func TestLoadPerformanceRefuses(t *testing.T) {
	valid := twoTracks(t)
	smpte := slices.Clone(valid)
	smpte[12], smpte[13] = 0xE7, 0x28 // 25 fps, 40 subframes: gomidi panics
	format2 := slices.Clone(valid)
	format2[9] = 2
	var tempos smf.Track
	for i := range 10001 {
		tempos.Add(1, smf.MetaTempo(float64(100+i%20)))
	}
	manyTempos := smfBytes(t, 0, tempos)
	for name, data := range map[string][]byte{
		"empty":       nil,
		"not midi":    []byte("RIFF....WAVEfmt "),
		"truncated":   valid[:len(valid)-9],
		"smpte":       smpte,
		"format 2":    format2,
		"many tempos": manyTempos,
		"huge meta":   []byte(hugeMeta),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := bridge.LoadPerformance(bytes.NewReader(data))
			if !errors.Is(err, bridge.ErrBadMIDIFile) {
				t.Errorf("err %v, want ErrBadMIDIFile", err)
			}
		})
	}
}

// hugeMeta, found by FuzzLoadPerformance, has a meta event that claims
// 3.26 GiB, which gomidi's reader would allocate before reading.
const hugeMeta = "MThd\x00\x00\x00\x06\x00\x01\x00\x02\x03\xc0MTrk\x00\x00\x00G\x00\xff4\xe4\xfd\x87\xa7\x81C" +
	"\x00\x00\xb0@\x00\x87@\xff/\x00MTrk\x00\x00\x00&\x00\xff\x03\x05drums\x87@\x99$n\x00\xf0\x05~\x7f\t\x01" +
	"\xf7\x87@\x99&F\x01\x89&\x00\x03\xc9\x01\x00\xff/\x81"

func FuzzLoadPerformance(f *testing.F) {
	valid := twoTracks(f)
	f.Add(valid)
	f.Add([]byte(hugeMeta))
	f.Add(valid[:40])
	var tr smf.Track
	tr.Add(0, smf.MetaTempo(4))
	tr.Add(0x0FFFFFFF, midi.NoteOn(0, 1, 1))
	f.Add(smfBytes(f, 0, tr))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := bridge.LoadPerformance(bytes.NewReader(data))
		if err != nil {
			return
		}
		for i, e := range p.Events {
			if e.At < 0 || e.At > p.Length || i > 0 && e.At < p.Events[i-1].At {
				t.Fatalf("event %d at %v out of order (length %v)", i, e.At, p.Length)
			}
			if len(e.Msg) < 2 || e.Msg[0] < 0x80 || e.Msg[0] >= 0xF0 {
				t.Fatalf("event %d is not a channel message: % X", i, e.Msg)
			}
		}
	})
}

// roundTripSong is 50 onsets over about a second, 10-30 ms apart, some of
// them chords of three, with drums, in two tracks of a 120 BPM file.
func roundTripSong(t *testing.T) []byte {
	rng := rand.New(rand.NewPCG(7, 42))
	var keys, drums []absEvent
	tick := func(ms int) int64 { return int64(ms) * 1920 / 1000 }
	at := 0
	for n := range 50 {
		switch {
		case n%3 == 2:
			drums = append(drums, absEvent{tick(at), midi.NoteOn(9, uint8(35+rng.IntN(12)), uint8(40+rng.IntN(80)))})
		default:
			size := 1 + 2*(n%8/7) // every eighth onset is a chord of three
			for i := range size {
				key, end := uint8(48+rng.IntN(12)+5*i), at+15+rng.IntN(60)
				keys = append(keys, absEvent{tick(at), midi.NoteOn(0, key, uint8(30+rng.IntN(97)))},
					absEvent{tick(end), midi.NoteOff(0, key)})
			}
		}
		at += 10 + rng.IntN(21)
	}
	return smfBytes(t, 1, deltas(keys, smf.MetaTempo(120)), deltas(drums))
}

type absEvent struct {
	tick int64
	msg  midi.Message
}

// deltas makes a track of events at absolute ticks.
func deltas(evs []absEvent, first ...smf.Message) smf.Track {
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].tick < evs[j].tick })
	var tr smf.Track
	for _, m := range first {
		tr.Add(0, m)
	}
	var prev int64
	for _, e := range evs {
		tr.Add(uint32(e.tick-prev), e.msg)
		prev = e.tick
	}
	return tr
}
