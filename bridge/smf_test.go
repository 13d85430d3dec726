package bridge_test

import (
	"bytes"
	"errors"
	"slices"
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
	manyTempos := append(slices.Clone(valid), bytes.Repeat([]byte{0xFF, 0x51}, 10001)...)
	for name, data := range map[string][]byte{
		"empty":       nil,
		"not midi":    []byte("RIFF....WAVEfmt "),
		"truncated":   valid[:len(valid)-9],
		"smpte":       smpte,
		"format 2":    format2,
		"many tempos": manyTempos,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := bridge.LoadPerformance(bytes.NewReader(data))
			if !errors.Is(err, bridge.ErrBadMIDIFile) {
				t.Errorf("err %v, want ErrBadMIDIFile", err)
			}
		})
	}
}

func FuzzLoadPerformance(f *testing.F) {
	valid := twoTracks(f)
	f.Add(valid)
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
