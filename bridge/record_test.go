package bridge_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"gitlab.com/gomidi/midi/v2"
	"gitlab.com/gomidi/midi/v2/smf"

	"github.com/jambridge/jambridge/bridge"
	"github.com/jambridge/jambridge/mapping"
)

// recStart is an hour from now, so a Recorder's "now" at WriteTo is
// before all its events and the end of the recording is its last event.
func recStart() time.Time { return time.Now().Add(time.Hour) }

// arrivalRecorder places events at their arrival, start being time zero.
func arrivalRecorder(start time.Time) *bridge.Recorder {
	return bridge.NewRecorder(bridge.RecordConfig{Rule: mapping.DefaultOutputRule(), Start: start, Timing: bridge.RecordArrival})
}

// recRemote is an event of a participant at start+ms.
func recRemote(t *testing.T, id string, start time.Time, ms int, ev mapping.Event) bridge.Remote {
	t.Helper()
	payload, err := ev.Payload()
	if err != nil {
		t.Fatal(err)
	}
	return bridge.Remote{SenderID: id, EventName: string(ev.Kind), Payload: payload,
		Received: start.Add(time.Duration(ms) * time.Millisecond)}
}

// recorded is one channel message of a track read back, at its time.
type recorded struct {
	at  time.Duration
	msg string
}

// readBack reads a recording with gomidi: the track names, and the
// channel messages of each track with gomidi's absolute times.
func readBack(t *testing.T, data []byte) (names []string, tracks [][]recorded) {
	t.Helper()
	tr := smf.ReadTracksFrom(bytes.NewReader(data))
	if err := tr.Error(); err != nil {
		t.Fatal(err)
	}
	n := int(tr.SMF().NumTracks())
	names, tracks = make([]string, n), make([][]recorded, n)
	tr.Do(func(te smf.TrackEvent) {
		m := te.Message
		var name string
		switch {
		case m.GetMetaTrackName(&name):
			names[te.TrackNo] = name
		case !m.IsMeta():
			at := time.Duration(te.AbsMicroSeconds) * time.Microsecond
			tracks[te.TrackNo] = append(tracks[te.TrackNo], recorded{at, midi.Message(m).String()})
		}
	})
	return names, tracks
}

// checkTrack compares a track read back with want, times within 1 ms.
func checkTrack(t *testing.T, name string, got, want []recorded) {
	t.Helper()
	ok := len(got) == len(want)
	for i := 0; ok && i < len(got); i++ {
		d := got[i].at - want[i].at
		ok = got[i].msg == want[i].msg && d <= time.Millisecond && d >= -time.Millisecond
	}
	if !ok {
		t.Errorf("track %s:\n%v\nwant:\n%v", name, got, want)
	}
}

func recMS(n int) time.Duration { return time.Duration(n) * time.Millisecond }

func recNote(ch, key, vel uint8) string { return midi.NoteOn(ch, key, vel).String() }
func recOff(ch, key uint8) string       { return midi.NoteOff(ch, key).String() }
func recCC(ch, c, v uint8) string       { return midi.ControlChange(ch, c, v).String() }

func TestRecorder(t *testing.T) {
	start := recStart()
	rec := arrivalRecorder(start)
	piano := func(key, vel, ch int) mapping.Event {
		return mapping.Event{Kind: mapping.PianoNote, MIDI: key, Velocity: vel, Channel: ch}
	}
	drum := func(key, vel int) mapping.Event {
		return mapping.Event{Kind: mapping.DrumHit, MIDI: key, Velocity: vel, Channel: 10}
	}
	pedal := func(v int) mapping.Event {
		return mapping.Event{Kind: mapping.ControlChange, Controller: 64, Value: v, Channel: 1}
	}
	add := func(id, name string, at int, ev mapping.Event) { rec.Add(recRemote(t, id, start, at, ev), name) }
	add("a1", "alice", 100, piano(60, 100, 1))
	add("b2", "bob", 200, drum(38, 90))
	add("a1", "alice", 150, pedal(127)) // arrival order need not be time order
	add("b2", "bob", 250, drum(38, 60)) // struck again within its gate
	add("a1", "alice", 400, piano(60, 0, 1))
	add("a1", "alice", 500, piano(64, 80, 2)) // held to the end
	add("a1", "alice", 600, pedal(0))
	add("b2", "bob", 700, drum(36, 127))
	with := piano(67, 70, 1)
	with.Duration = 50
	add("b2", "bob", 720, with)
	rec.Add(bridge.Remote{SenderID: "b2", EventName: "chat:message", Payload: []byte(`{"text":"hi"}`)}, "bob")
	rec.Add(bridge.Remote{SenderID: "b2", EventName: "drum_hit", Payload: []byte(`{"note":"nope","velocity":1}`)}, "bob")
	add("b2", "bob", 750, mapping.Event{Kind: mapping.PatternChange, PatternID: "p1"})

	var buf bytes.Buffer
	n, err := rec.WriteTo(&buf)
	if err != nil || n != int64(buf.Len()) {
		t.Fatalf("WriteTo: %d, %v; wrote %d", n, err, buf.Len())
	}
	names, tracks := readBack(t, buf.Bytes())
	if want := []string{"", "alice", "bob"}; !slices.Equal(names, want) {
		t.Fatalf("track names %q, want %q", names, want)
	}
	checkTrack(t, "alice", tracks[1], []recorded{
		{recMS(100), recNote(0, 60, 100)}, {recMS(150), recCC(0, 64, 127)}, {recMS(400), recOff(0, 60)},
		{recMS(500), recNote(1, 64, 80)}, {recMS(600), recCC(0, 64, 0)}, {recMS(800), recOff(1, 64)},
	})
	checkTrack(t, "bob", tracks[2], []recorded{
		{recMS(200), recNote(9, 38, 90)}, {recMS(250), recOff(9, 38)}, {recMS(250), recNote(9, 38, 60)},
		{recMS(350), recOff(9, 38)}, {recMS(700), recNote(9, 36, 127)}, {recMS(720), recNote(0, 67, 70)},
		{recMS(770), recOff(0, 67)}, {recMS(800), recOff(9, 36)},
	})
	if got, want := rec.Stats(), (bridge.RecordStats{Events: 9, Skipped: 3, Participants: 2}); got != want {
		t.Errorf("stats %+v, want %+v", got, want)
	}
}

func TestRecorderLeft(t *testing.T) {
	start := recStart()
	rec := arrivalRecorder(start)
	rec.Add(recRemote(t, "c3", start, 0, mapping.Event{Kind: mapping.PianoNote, MIDI: 48, Velocity: 64, Channel: 3}), "")
	rec.Add(recRemote(t, "c3", start, 10, mapping.Event{Kind: mapping.ControlChange, Controller: 64, Value: 100, Channel: 3}), "carol")
	rec.Add(recRemote(t, "c3", start, 100, mapping.Event{Kind: mapping.DrumHit, MIDI: 42, Velocity: 50}), "carol")
	rec.Left("c3", start.Add(130*time.Millisecond))
	rec.Left("nobody", start)
	rec.Add(recRemote(t, "d4", start, 140, mapping.Event{Kind: mapping.DrumHit, MIDI: 36, Velocity: 1}), "")
	var buf bytes.Buffer
	if _, err := rec.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	names, tracks := readBack(t, buf.Bytes())
	if want := []string{"", "carol", "d4"}; !slices.Equal(names, want) {
		t.Errorf("track names %q, want %q (the first name heard, else the id)", names, want)
	}
	checkTrack(t, "c3", tracks[1], []recorded{
		{0, recNote(2, 48, 64)}, {recMS(10), recCC(2, 64, 100)}, {recMS(100), recNote(9, 42, 50)},
		{recMS(130), recOff(9, 42)}, {recMS(130), recOff(2, 48)}, {recMS(130), recCC(2, 64, 0)},
	})
}

// The same recording written twice gives the same file.
func TestRecorderWritesTheSameTwice(t *testing.T) {
	start := recStart()
	rec := arrivalRecorder(start)
	rec.Add(recRemote(t, "a", start, 5, mapping.Event{Kind: mapping.PianoNote, MIDI: 60, Velocity: 1}), "a")
	var one, two bytes.Buffer
	rec.WriteTo(&one)
	rec.WriteTo(&two)
	if !bytes.Equal(one.Bytes(), two.Bytes()) {
		t.Error("two writes differ")
	}
}

// stepClock is a Perform clock whose Sleep advances it exactly: the
// performance's stamps are the file's times, whatever the OS does.
type stepClock struct{ now time.Time }

func (c *stepClock) Now() time.Time { return c.now }

func (c *stepClock) Sleep(ctx context.Context, d time.Duration) error {
	c.now = c.now.Add(max(d, 0))
	return ctx.Err()
}

// jitterSender hands what it is sent to a Recorder as if it crossed a
// network: it arrives 0 to 30 ms (seeded) after it was sent, in order.
type jitterSender struct {
	rec   *bridge.Recorder
	clock *stepClock
	rng   *rand.Rand
	last  time.Time // the latest arrival: the network keeps the order
}

func (s *jitterSender) Broadcast(name string, payload []byte) error {
	arrival := s.clock.now.Add(time.Duration(s.rng.Int64N(int64(30 * time.Millisecond))))
	if arrival.Before(s.last) {
		arrival = s.last
	}
	s.last = arrival
	s.rec.Add(bridge.Remote{SenderID: "p1", EventName: name, Payload: payload, Received: arrival}, "player")
	return nil
}

// spread is the median and the largest of the differences, in absolute value.
func spread(got, want []time.Duration) (p50, worst time.Duration) {
	errs := make([]time.Duration, len(got))
	for i := range got {
		errs[i] = (got[i] - want[i]).Abs()
	}
	slices.Sort(errs)
	return errs[len(errs)/2], errs[len(errs)-1]
}

// onsets are the note-ons of a performance, and their times since the first.
func onsets(p bridge.Performance) (notes []string, at []time.Duration) {
	for _, e := range p.Events {
		var ch, key, vel uint8
		if e.Msg.GetNoteStart(&ch, &key, &vel) {
			notes = append(notes, fmt.Sprintf("ch%d %d v%d", ch+1, key, vel))
			at = append(at, e.At)
		}
	}
	for i := len(at) - 1; i >= 0; i-- {
		at[i] -= at[0]
	}
	return notes, at
}

// Play then record through 0-30 ms of network jitter: recorded at the
// sender's time, a file comes back with the same notes, each onset within
// a tick (0.52 ms) of the file's; recorded at arrival, the jitter is in
// the file (the control). The performance runs on a stepping clock: this
// checks where the Recorder places events, not how punctually the OS
// wakes a player (cmd/jambridge's jitter test does that in real time).
func TestPlayThenRecordRoundTrip(t *testing.T) {
	song := roundTripSong(t)
	for _, tc := range []struct {
		timing    bridge.RecordTiming
		worstOver time.Duration // the largest onset error must be over this...
		worstMax  time.Duration // ...and at most this
	}{
		{bridge.RecordSender, -1, time.Second/1920 + time.Microsecond},
		{bridge.RecordArrival, 10 * time.Millisecond, 30 * time.Millisecond},
	} {
		t.Run(tc.timing.String(), func(t *testing.T) {
			p50, worst := playThenRecord(t, song, tc.timing)
			t.Logf("onset error p50 %v max %v", p50, worst)
			if worst <= tc.worstOver || worst > tc.worstMax {
				t.Errorf("largest onset error %v, want over %v and at most %v", worst, tc.worstOver, tc.worstMax)
			}
		})
	}
}

// playThenRecord performs song into a Recorder through a jittery network,
// reads back what it wrote and returns the median and largest onset
// errors.
func playThenRecord(t *testing.T, song []byte, timing bridge.RecordTiming) (p50, worst time.Duration) {
	orig, err := bridge.LoadPerformance(bytes.NewReader(song))
	if err != nil {
		t.Fatal(err)
	}
	clock := &stepClock{now: time.Date(2026, 11, 27, 20, 0, 0, 0, time.UTC)}
	rec := bridge.NewRecorder(bridge.RecordConfig{Rule: mapping.DefaultOutputRule(), Start: clock.now, Timing: timing})
	send := &jitterSender{rec: rec, clock: clock, rng: rand.New(rand.NewPCG(3, 4))}
	if _, err := bridge.Perform(context.Background(), orig, mapping.DefaultInputRule(), send, clock); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := rec.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	back, err := bridge.LoadPerformance(&buf)
	if err != nil {
		t.Fatal(err)
	}
	wantNotes, wantAt := onsets(orig)
	gotNotes, gotAt := onsets(back)
	if len(wantNotes) < 50 || !slices.Equal(gotNotes, wantNotes) {
		t.Fatalf("notes back:\n%s\nwant:\n%s", strings.Join(gotNotes, "\n"), strings.Join(wantNotes, "\n"))
	}
	return spread(gotAt, wantAt)
}

// A Left stamped before the participant's last event (clocks differ)
// never ends a note before it starts.
func TestRecorderLeftNeverEndsANoteBeforeItStarts(t *testing.T) {
	start := recStart()
	rec := arrivalRecorder(start)
	rec.Add(recRemote(t, "e5", start, 100, mapping.Event{Kind: mapping.PianoNote, MIDI: 60, Velocity: 90}), "eve")
	rec.Left("e5", start.Add(50*time.Millisecond))
	var buf bytes.Buffer
	if _, err := rec.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	_, tracks := readBack(t, buf.Bytes())
	checkTrack(t, "eve", tracks[1], []recorded{{recMS(100), recNote(0, 60, 90)}, {recMS(100), recOff(0, 60)}})
}

// Events are placed at their sender's stamp, converted to our clock by
// the relay-time estimate; an event without a usable stamp, or before our
// clock is synchronised, at its arrival; never before the participant's
// previous event.
func TestRecorderPlacesEventsAtTheSendersTime(t *testing.T) {
	start := recStart()
	const offset = 5000.0 // the relay's clock is 5 s ahead of ours
	synced := true
	rec := bridge.NewRecorder(bridge.RecordConfig{Rule: mapping.DefaultOutputRule(), Start: start,
		RelayTime: func(t time.Time) (float64, bool) { return mapping.UnixMillis(t) + offset, synced }})
	// stamped is an event played at start+playedMs (relay time), arriving
	// at start+arrivalMs.
	stamped := func(id string, playedMs, arrivalMs int, key int) {
		ev := mapping.Event{Kind: mapping.DrumHit, MIDI: key, Velocity: 100}
		if playedMs >= 0 {
			ev.Timestamp = mapping.UnixMillis(start.Add(recMS(playedMs))) + offset
		}
		rem := recRemote(t, id, start, arrivalMs, ev)
		rec.Add(rem, id)
	}
	stamped("a", 100, 123, 36)   // 23 ms of network: placed at 100
	stamped("a", 200, 201, 38)   // 1 ms: at 200
	stamped("a", 300, 330, 42)   // 30 ms: at 300
	stamped("a", 290, 331, 46)   // a stamp before the previous event's: at 300, in order
	stamped("a", -1, 450, 49)    // no stamp: at its arrival, 450
	stamped("a", 2000, 500, 51)  // 1.5 s in the future: the sender's clock is off, at 500
	stamped("a", 600, 20000, 37) // 19.4 s late: off too, at 20000
	synced = false
	stamped("b", 700, 725, 40) // our clock not synchronised yet: at its arrival, 725
	synced = true
	stamped("b", 800, 812, 41) // at 800
	var buf bytes.Buffer
	if _, err := rec.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	_, tracks := readBack(t, buf.Bytes())
	starts := func(tr []recorded) (out []recorded) {
		for _, r := range tr {
			if strings.HasPrefix(r.msg, "NoteOn") {
				out = append(out, r)
			}
		}
		return out
	}
	checkTrack(t, "a", starts(tracks[1]), []recorded{
		{recMS(100), recNote(9, 36, 100)}, {recMS(200), recNote(9, 38, 100)}, {recMS(300), recNote(9, 42, 100)},
		{recMS(300), recNote(9, 46, 100)}, {recMS(450), recNote(9, 49, 100)}, {recMS(500), recNote(9, 51, 100)},
		{recMS(20000), recNote(9, 37, 100)},
	})
	checkTrack(t, "b", starts(tracks[2]), []recorded{{recMS(725), recNote(9, 40, 100)}, {recMS(800), recNote(9, 41, 100)}})
	want := bridge.RecordStats{Events: 9, Participants: 2, Unstamped: 1, Skewed: 2, Unsynced: 1}
	if got := rec.Stats(); got != want {
		t.Errorf("stats %+v, want %+v", got, want)
	}
}

func TestParseRecordTiming(t *testing.T) {
	for _, tm := range []bridge.RecordTiming{bridge.RecordSender, bridge.RecordArrival} {
		if got, err := bridge.ParseRecordTiming(tm.String()); err != nil || got != tm {
			t.Errorf("ParseRecordTiming(%q) = %v, %v", tm.String(), got, err)
		}
	}
	if _, err := bridge.ParseRecordTiming("network"); err == nil || !strings.Contains(err.Error(), "want sender or arrival") {
		t.Errorf("ParseRecordTiming(network): %v", err)
	}
}
