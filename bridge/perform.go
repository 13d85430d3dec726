package bridge

import (
	"context"
	"fmt"
	"runtime"
	"sort"
	"time"

	"github.com/jambridge/jambridge/mapping"
)

// Clock is what Perform needs of time. RealClock is the system's; tests
// use a fake.
type Clock interface {
	Now() time.Time
	// Sleep returns after d (at once when d <= 0), or with ctx.Err()
	// as soon as ctx ends.
	Sleep(ctx context.Context, d time.Duration) error
}

// RealClock is the system clock, with a Sleep precise to microseconds
// when the machine has a core to spare: it waits on a timer until
// spinLead before the deadline, then yields the processor in a loop
// (runtime.Gosched) until the deadline. The spin costs up to spinLead of
// one core per distinct event time: about 7% of a core for a file of 100
// events a second.
//
// Measured on a 2-core Linux VM (go1.26, with and without -race): a Go
// timer alone wakes 0.6 ms late at p50 and over 1 ms at p90 (the runtime
// waits in epoll with millisecond granularity); Sleep returns 0.3 µs
// after its deadline at p50 and 16 µs at worst. When both cores are
// oversubscribed, the OS holds any thread back for 3-4 ms at times and
// for tens of ms at worst; a spin of 2 ms did no better than 1 ms there.
type RealClock struct{}

// spinLead is how long before its deadline Sleep stops trusting the
// timer: the runtime's timers may wake up to a millisecond late.
const spinLead = time.Millisecond

// Now returns time.Now().
func (RealClock) Now() time.Time { return time.Now() }

// Sleep waits for d or until ctx ends.
func (RealClock) Sleep(ctx context.Context, d time.Duration) error {
	deadline := time.Now().Add(d)
	if err := ctx.Err(); err != nil {
		return err
	}
	if d > spinLead {
		t := time.NewTimer(d - spinLead)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
	}
	for time.Now().Before(deadline) {
		runtime.Gosched()
	}
	return nil
}

// lateAfter is how far behind its time an event may be sent before
// Perform counts it late.
const lateAfter = 5 * time.Millisecond

// PerformStats counts what Perform did.
type PerformStats struct {
	Sent     int // events broadcast, releases included
	Dropped  int // events the Sender refused
	Late     int // events sent more than 5 ms after their time
	Released int // notes and pedals still held at the end, released
}

// Perform plays p into the session in real time: every message goes
// through rule (one mapping.Input per track, so each track has its own
// held notes) at the start plus its At, and the resulting event is
// broadcast through send, its timestamp the time it is due (unix ms).
// Events are sent in order even when late.
//
// At the end of p (its Length), or as soon as ctx ends, Perform releases
// every note and pedal still held, so nothing sticks. A Sender error drops
// that event and is counted, never fatal. Perform returns ctx.Err() when
// ctx ended first, and an error for an invalid rule before sending anything.
func Perform(ctx context.Context, p Performance, rule mapping.InputRule, send Sender, clock Clock) (PerformStats, error) {
	if err := rule.Validate(); err != nil {
		return PerformStats{}, fmt.Errorf("perform: %w", err)
	}
	pf := &performer{rule: rule, send: send, clock: clock, inputs: map[int]*mapping.Input{}}
	warmUp()
	start := clock.Now()
	err := pf.play(ctx, p.Events, start)
	if err == nil {
		err = clock.Sleep(ctx, start.Add(p.Length).Sub(clock.Now()))
	}
	pf.releaseAll()
	return pf.stats, err
}

// warmUp encodes an event of each kind before the clock starts, so that
// the first note does not pay for setting up the JSON encoder (about
// 0.3 ms under the race detector, which the first note would be late by).
func warmUp() {
	for _, k := range []mapping.Kind{mapping.PianoNote, mapping.ControlChange} {
		_, _ = mapping.Event{Kind: k, MIDI: 60, Velocity: 1}.Payload()
	}
}

// performer is the state of one Perform call, owned by its goroutine.
type performer struct {
	rule   mapping.InputRule // validated
	send   Sender
	clock  Clock
	inputs map[int]*mapping.Input // by track
	stats  PerformStats
}

func (pf *performer) play(ctx context.Context, events []TimedMessage, start time.Time) error {
	for _, tm := range events {
		due := start.Add(tm.At)
		if err := pf.clock.Sleep(ctx, due.Sub(pf.clock.Now())); err != nil {
			return err
		}
		now := pf.clock.Now()
		// Stamped with its time in the file: sent late, it still says
		// when it sounds, so a recorder or a playout puts it there.
		ev, ok := pf.input(tm.Track).FromMIDI(tm.Msg, unixMillis(due))
		if !ok {
			continue
		}
		if now.Sub(due) > lateAfter {
			pf.stats.Late++
		}
		pf.broadcast(ev)
	}
	return nil
}

// input returns the Input of a track, made on first use.
func (pf *performer) input(track int) *mapping.Input {
	in := pf.inputs[track]
	if in == nil {
		in, _ = mapping.NewInput(pf.rule) // cannot fail: Perform validated the rule
		pf.inputs[track] = in
	}
	return in
}

// releaseAll ends what every track holds, tracks in order.
func (pf *performer) releaseAll() {
	tracks := make([]int, 0, len(pf.inputs))
	for tr := range pf.inputs {
		tracks = append(tracks, tr)
	}
	sort.Ints(tracks)
	for _, tr := range tracks {
		evs := pf.inputs[tr].Release(unixMillis(pf.clock.Now()))
		pf.stats.Released += len(evs)
		for _, ev := range evs {
			pf.broadcast(ev)
		}
	}
}

func (pf *performer) broadcast(ev mapping.Event) {
	payload, err := ev.Payload()
	if err == nil {
		err = broadcast(pf.send, ev, payload)
	}
	if err != nil {
		pf.stats.Dropped++
		return
	}
	pf.stats.Sent++
}
