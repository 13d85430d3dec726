package bridge_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"gitlab.com/gomidi/midi/v2"

	"github.com/jambridge/jambridge/bridge"
	"github.com/jambridge/jambridge/mapping"
)

// perfClock jumps to the end of every Sleep, plus lag. When cancel is set
// it is called once a Sleep would go past cancelAt.
type perfClock struct {
	now      time.Time
	lag      time.Duration
	cancelAt time.Time
	cancel   context.CancelFunc
}

func (c *perfClock) Now() time.Time { return c.now }

func (c *perfClock) Sleep(ctx context.Context, d time.Duration) error {
	if c.cancel != nil && c.now.Add(d).After(c.cancelAt) {
		c.now = c.cancelAt
		c.cancel()
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	c.now = c.now.Add(max(d, 0) + c.lag)
	return nil
}

// perfSent is one broadcast, decoded.
type perfSent struct {
	name string
	ev   mapping.Event
}

// perfSender decodes what it is sent; it refuses the calls fail names
// (counting from 0).
type perfSender struct {
	t    *testing.T
	got  []perfSent
	n    int
	fail func(n int) bool
}

func (s *perfSender) Broadcast(name string, payload []byte) error {
	s.n++
	if s.fail != nil && s.fail(s.n-1) {
		return errors.New("relay unreachable")
	}
	ev, err := mapping.ParseEvent(name, payload)
	if err != nil {
		s.t.Errorf("perfSent %s %s: %v", name, payload, err)
	}
	s.got = append(s.got, perfSent{name, ev})
	return nil
}

// describe is a perfSent event in short, its time in ms since perfStart.
func describe(s perfSent, perfStart time.Time) string {
	e := s.ev
	at := e.Timestamp - float64(perfStart.UnixMicro())/1e3
	switch e.Kind {
	case mapping.ControlChange:
		return fmt.Sprintf("%g %s ch%d cc%d=%d", at, s.name, e.Channel, e.Controller, e.Value)
	default:
		return fmt.Sprintf("%g %s ch%d %s(%d) v%d d%g", at, s.name, e.Channel, e.Note, e.MIDI, e.Velocity, e.Duration)
	}
}

func describeAll(got []perfSent, perfStart time.Time) []string {
	out := make([]string, len(got))
	for i, s := range got {
		out[i] = describe(s, perfStart)
	}
	return out
}

// song is two tracks: keys with the pedal on channel 1, a snare on 10.
func song() bridge.Performance {
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	return bridge.Performance{Length: ms(1000), Events: []bridge.TimedMessage{
		{ms(0), 0, midi.NoteOn(0, 60, 100)},
		{ms(100), 0, midi.ControlChange(0, 64, 127)},
		{ms(250), 1, midi.NoteOn(9, 38, 90)},
		{ms(250), 1, midi.NoteOff(9, 38)}, // drums have no release: dropped
		{ms(500), 0, midi.NoteOff(0, 60)},
		{ms(500), 1, midi.Pitchbend(9, 100)}, // not mapped: dropped
		{ms(600), 0, midi.ControlChange(0, 64, 0)},
	}}
}

var perfStart = time.Date(2025, 5, 1, 20, 0, 0, 0, time.UTC)

func TestPerform(t *testing.T) {
	clock := &perfClock{now: perfStart}
	send := &perfSender{t: t}
	stats, err := bridge.Perform(context.Background(), song(), mapping.DefaultInputRule(), send, clock)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"0 piano_note ch1 C4(60) v100 d0",
		"100 control_change ch1 cc64=127",
		"250 drum_hit ch10 snare(38) v90 d0",
		"500 piano_note ch1 C4(60) v0 d500",
		"600 control_change ch1 cc64=0",
	}
	if got := describeAll(send.got, perfStart); !slices.Equal(got, want) {
		t.Errorf("perfSent:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if want := (bridge.PerformStats{Sent: 5}); stats != want {
		t.Errorf("stats %+v, want %+v", stats, want)
	}
	if got, want := clock.now.Sub(perfStart), time.Second; got != want {
		t.Errorf("returned at %v, want the length %v", got, want)
	}
}

func TestPerformCancelReleases(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	clock := &perfClock{now: perfStart, cancelAt: perfStart.Add(300 * time.Millisecond), cancel: cancel}
	send := &perfSender{t: t}
	stats, err := bridge.Perform(ctx, song(), mapping.DefaultInputRule(), send, clock)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err %v, want context.Canceled", err)
	}
	want := []string{
		"0 piano_note ch1 C4(60) v100 d0",
		"100 control_change ch1 cc64=127",
		"250 drum_hit ch10 snare(38) v90 d0",
		"300 piano_note ch1 C4(60) v0 d300", // released at cancellation
		"300 control_change ch1 cc64=0",
	}
	if got := describeAll(send.got, perfStart); !slices.Equal(got, want) {
		t.Errorf("perfSent:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if want := (bridge.PerformStats{Sent: 5, Released: 2}); stats != want {
		t.Errorf("stats %+v, want %+v", stats, want)
	}
}

// Each track has its own held notes: the same key held by two tracks is
// released once by the track that let go, and once at the end.
func TestPerformTracksHoldTheirOwnNotes(t *testing.T) {
	p := bridge.Performance{Length: time.Second, Events: []bridge.TimedMessage{
		{0, 0, midi.NoteOn(0, 60, 100)},
		{0, 1, midi.NoteOn(0, 60, 50)},
		{time.Millisecond, 0, midi.NoteOff(0, 60)},
	}}
	send := &perfSender{t: t}
	stats, err := bridge.Perform(context.Background(), p, mapping.DefaultInputRule(), send, &perfClock{now: perfStart})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"0 piano_note ch1 C4(60) v100 d0",
		"0 piano_note ch1 C4(60) v50 d0",
		"1 piano_note ch1 C4(60) v0 d1",
		"1000 piano_note ch1 C4(60) v0 d1000",
	}
	if got := describeAll(send.got, perfStart); !slices.Equal(got, want) {
		t.Errorf("perfSent:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if stats.Released != 1 {
		t.Errorf("released %d, want 1", stats.Released)
	}
}

func TestPerformSenderErrorsAreCounted(t *testing.T) {
	send := &perfSender{t: t, fail: func(n int) bool { return n%2 == 1 }}
	stats, err := bridge.Perform(context.Background(), song(), mapping.DefaultInputRule(), send, &perfClock{now: perfStart})
	if err != nil {
		t.Fatal(err)
	}
	if want := (bridge.PerformStats{Sent: 3, Dropped: 2}); stats != want {
		t.Errorf("stats %+v, want %+v", stats, want)
	}
}

func TestPerformCountsLate(t *testing.T) {
	clock := &perfClock{now: perfStart, lag: 6 * time.Millisecond}
	stats, err := bridge.Perform(context.Background(), song(), mapping.DefaultInputRule(), &perfSender{t: t}, clock)
	if err != nil {
		t.Fatal(err)
	}
	if want := (bridge.PerformStats{Sent: 5, Late: 5}); stats != want {
		t.Errorf("stats %+v, want %+v", stats, want)
	}
}

func TestPerformRefusesBadRule(t *testing.T) {
	_, err := bridge.Perform(context.Background(), song(), mapping.InputRule{MinVelocity: 200}, &perfSender{t: t}, &perfClock{now: perfStart})
	if err == nil {
		t.Error("no error for a min velocity of 200")
	}
}

func TestRealClockSleep(t *testing.T) {
	var clock bridge.RealClock
	var late []time.Duration
	for range 50 {
		start := time.Now()
		if err := clock.Sleep(context.Background(), 3*time.Millisecond); err != nil {
			t.Fatal(err)
		}
		late = append(late, time.Since(start)-3*time.Millisecond)
	}
	sort.Slice(late, func(i, j int) bool { return late[i] < late[j] })
	if late[0] < 0 {
		t.Errorf("woke %v early", -late[0])
	}
	t.Logf("Sleep(3ms) lateness: p50 %v, p90 %v, max %v", late[25], late[45], late[49])

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := clock.Sleep(ctx, time.Hour); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > wait {
		t.Errorf("cancelled Sleep took %v", d)
	}
}
