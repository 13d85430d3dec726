package bridge_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jambridge/jambridge/bridge"
)

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)) }

func TestParsePlayout(t *testing.T) {
	good := []struct {
		in   string
		want bridge.PlayoutMode
	}{
		{"immediate", bridge.PlayoutMode{Kind: bridge.PlayoutImmediate}},
		{"auto", bridge.PlayoutMode{Kind: bridge.PlayoutAuto}},
		{" Auto ", bridge.PlayoutMode{Kind: bridge.PlayoutAuto}},
		{"fixed:20ms", bridge.PlayoutMode{Kind: bridge.PlayoutFixed, Delay: 20 * time.Millisecond}},
		{"FIXED:1.5ms", bridge.PlayoutMode{Kind: bridge.PlayoutFixed, Delay: 1500 * time.Microsecond}},
		{"fixed:0s", bridge.PlayoutMode{Kind: bridge.PlayoutFixed}},
		{"fixed:1s", bridge.PlayoutMode{Kind: bridge.PlayoutFixed, Delay: time.Second}},
	}
	for _, tt := range good {
		got, err := bridge.ParsePlayout(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParsePlayout(%q) = %+v, %v; want %+v, nil", tt.in, got, err, tt.want)
			continue
		}
		if again, err := bridge.ParsePlayout(got.String()); err != nil || again != got {
			t.Errorf("ParsePlayout(%q.String() = %q) = %+v, %v; want %+v", tt.in, got.String(), again, err, got)
		}
	}
	for _, in := range []string{"", "fixed", "fixed:", "fixed:20", "fixed:-5ms", "fixed:2s", "fixed:abc", "later", "auto:10ms"} {
		_, err := bridge.ParsePlayout(in)
		if err == nil {
			t.Errorf("ParsePlayout(%q) succeeded, want an error", in)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, `"`+in+`"`) || strings.Count(msg, ".") > 1 || strings.ContainsAny(msg, "\n") {
			t.Errorf("ParsePlayout(%q) error %q: want one sentence quoting the input", in, msg)
		}
	}
}

// when is one call of Scheduler.When and what it should return.
type when struct {
	ts, arrival float64
	at          float64
	late        bool
}

func TestSchedulerWhen(t *testing.T) {
	tests := []struct {
		name  string
		mode  bridge.PlayoutMode
		calls []when
		want  bridge.PlayoutStats
	}{
		{"immediate", bridge.PlayoutMode{}, []when{
			{1000, 1010, 1010, false},
			{1020, 1025, 1025, false},
			{1030, 1024, 1025, false}, // relay-time arrival stepped back: not before the previous
			{0, 1100, 1100, false},
		}, bridge.PlayoutStats{Events: 4, Unstamped: 1}},
		{"fixed", bridge.PlayoutMode{Kind: bridge.PlayoutFixed, Delay: 20 * time.Millisecond}, []when{
			{1000, 1005, 1020, false},
			{1010, 1040, 1040, true},  // slot 1030 passed: at once
			{1015, 1041, 1041, true},  // slot 1035 passed
			{1100, 1105, 1120, false}, // back on time
			{1101, 1106, 1121, false},
			{1050, 1107, 1121, true},  // an older stamp: late, and not before 1121
			{1090, 1108, 1121, false}, // slot 1110 is before the previous: wait for it
			{0, 1200, 1200, false},    // no timestamp
			{5000, 1300, 1300, false}, // 3.7 s in the future: clock off
			{1000, 20000, 20000, false},
			{20010, 20015, 20030, false},
		}, bridge.PlayoutStats{Events: 11, Late: 3, Skewed: 2, Unstamped: 1, Delay: 20 * time.Millisecond}},
		{"fixed zero", bridge.PlayoutMode{Kind: bridge.PlayoutFixed}, []when{
			{1000, 1000, 1000, false},
			{1010, 1010.5, 1010.5, true},
		}, bridge.PlayoutStats{Events: 2, Late: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := bridge.NewScheduler(tt.mode, bridge.SchedulerConfig{})
			for i, c := range tt.calls {
				at, late := s.When("a", c.ts, c.arrival)
				if at != c.at || late != c.late {
					t.Errorf("call %d: When(%v, %v) = %v, %v; want %v, %v", i, c.ts, c.arrival, at, late, c.at, c.late)
				}
			}
			got := s.Stats("a")
			got.LatencyP50, got.LatencyP95, got.Jitter = 0, 0, 0
			if got != tt.want {
				t.Errorf("Stats = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestSchedulerStatsAndForget(t *testing.T) {
	s := bridge.NewScheduler(bridge.PlayoutMode{Kind: bridge.PlayoutFixed, Delay: 50 * time.Millisecond}, bridge.SchedulerConfig{})
	for i := range 100 {
		ts := 1000 + 10*float64(i)
		s.When("a", ts, ts+float64(i%10)) // latencies 0-9 ms, over and over
		s.When("b", ts, ts+7)
	}
	a := s.Stats("a")
	if a.LatencyP50 != 4*time.Millisecond || a.LatencyP95 != 9*time.Millisecond {
		t.Errorf("a: latency p50, p95 = %v, %v; want 4ms, 9ms", a.LatencyP50, a.LatencyP95)
	}
	// Consecutive transits differ by 1 ms, and by 9 ms once in ten.
	if a.Jitter < 1200*time.Microsecond || a.Jitter > 2300*time.Microsecond {
		t.Errorf("a: jitter %v, want 1.2-2.3ms", a.Jitter)
	}
	if b := s.Stats("b"); b.Jitter != 0 || b.LatencyP95 != 7*time.Millisecond || b.Events != 100 {
		t.Errorf("b: %+v, want 100 events, no jitter, p95 7ms", b)
	}
	s.Forget("a")
	if got := s.Stats("a"); got != (bridge.PlayoutStats{}) {
		t.Errorf("Stats after Forget = %+v, want zero", got)
	}
	// Forgotten: a rejoined sender's clock may have moved back.
	if at, _ := s.When("a", 500, 505); at != 550 {
		t.Errorf("first When after Forget = %v, want 550", at)
	}
}

// TestSchedulerAutoAdapts: the delay starts at the first latency plus the
// margin, rises at most Step per event, is capped at MaxDelay, and falls
// at most Decay per second.
func TestSchedulerAutoAdapts(t *testing.T) {
	s := bridge.NewScheduler(bridge.PlayoutMode{Kind: bridge.PlayoutAuto}, bridge.SchedulerConfig{})
	ts := 1e6
	delay := func() float64 { return float64(s.Stats("a").Delay) / float64(time.Millisecond) }
	s.When("a", ts, ts+10)
	if got := delay(); got != 12 {
		t.Fatalf("first delay = %v ms, want 12 (latency 10 + margin 2)", got)
	}
	for i := range 200 { // latency jumps to 400 ms: rise by 1 ms per event up to 150
		ts += 10
		at, late := s.When("a", ts, ts+400)
		want := min(12+float64(i+1), 150)
		if got := delay(); got != want {
			t.Fatalf("event %d: delay = %v ms, want %v", i, got, want)
		}
		if !late || at != ts+400 {
			t.Fatalf("event %d: When = %v, %v; want %v, true", i, at, late, ts+400)
		}
	}
	// Latency back to 10 ms, events every 100 ms: down 0.5 ms per event
	// (5 ms per second) once the window has forgotten the 400s.
	prev := delay()
	for i := range 400 {
		ts += 100
		s.When("a", ts, ts+10)
		got := delay()
		if got > prev || prev-got > 0.5+1e-9 {
			t.Fatalf("event %d: delay went from %v to %v ms, want down by at most 0.5", i, prev, got)
		}
		prev = got
	}
	if got := delay(); got != 12 {
		t.Errorf("delay after settling = %v ms, want 12", got)
	}
}

// jamEvents are n notes as a musician plays them (sender's relay-time
// stamps: chords, runs and rests, on a 1/64 ms grid so sums are exact)
// and their arrivals: base + uniform(0, jitter) ms later, but never
// before the previous one (one TCP connection delivers in order).
func jamEvents(rng *rand.Rand, n int, base, jitter float64) (ts, arrival []float64) {
	t, last := 1.7e12, 0.0
	for range n {
		switch r := rng.Float64(); {
		case r < 0.1: // same chord
		case r < 0.8:
			t += math.Round((60+rng.Float64()*200)*64) / 64
		default:
			t += math.Round((5+rng.Float64()*30)*64) / 64
		}
		last = max(t+base+rng.Float64()*jitter, last)
		ts, arrival = append(ts, t), append(arrival, last)
	}
	return ts, arrival
}

// ioiErrors returns |played - performed| inter-onset interval, in ms, of
// the events from skip on.
func ioiErrors(ts, at []float64, skip int) []float64 {
	var errs []float64
	for i := max(skip, 1); i < len(ts); i++ {
		errs = append(errs, math.Abs((at[i]-at[i-1])-(ts[i]-ts[i-1])))
	}
	slices.Sort(errs)
	return errs
}

func pct(sorted []float64, q float64) float64 {
	return sorted[min(int(math.Ceil(q*float64(len(sorted))))-1, len(sorted)-1)]
}

// playAll schedules every event of one sender and returns the play times.
func playAll(s *bridge.Scheduler, ts, arrival []float64) (at []float64, late int) {
	for i := range ts {
		a, l := s.When("a", ts[i], arrival[i])
		at = append(at, a)
		if l {
			late++
		}
	}
	return at, late
}

func TestSchedulerInterOnset(t *testing.T) {
	const n, warmup = 5000, 200
	tests := []struct {
		name         string
		mode         bridge.PlayoutMode
		base, jitter float64
		p99, max     float64 // ms, inter-onset error from warmup on
		late         int     // at most, from warmup on
		extra        float64 // at - ts at most, ms
	}{
		{"immediate", bridge.PlayoutMode{}, 0, 30, 30, 30, 0, 30},
		{"fixed 30ms", bridge.PlayoutMode{Kind: bridge.PlayoutFixed, Delay: 30 * time.Millisecond}, 0, 30, 0, 0, 0, 30},
		{"fixed 50ms", bridge.PlayoutMode{Kind: bridge.PlayoutFixed, Delay: 50 * time.Millisecond}, 0, 30, 0, 0, 0, 50},
		// p95 of 0-30 ms is 28.5 ms: the delay settles near 30.5 ms.
		{"auto", bridge.PlayoutMode{Kind: bridge.PlayoutAuto}, 0, 30, 2, 4, 20, 30 + 2 + 1},
		{"auto over 25 ms", bridge.PlayoutMode{Kind: bridge.PlayoutAuto}, 25, 30, 2, 4, 20, 55 + 2 + 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, seed := range []uint64{42, 1, 2, 3, 4, 5, 6, 7} {
				ts, arrival := jamEvents(newRand(seed), n, tt.base, tt.jitter)
				s := bridge.NewScheduler(tt.mode, bridge.SchedulerConfig{})
				at, _ := playAll(s, ts[:warmup], arrival[:warmup])
				rest, late := playAll(s, ts[warmup:], arrival[warmup:])
				at = append(at, rest...)
				all, errs := ioiErrors(ts, at, 0), ioiErrors(ts, at, warmup)
				p99, worst := pct(errs, 0.99), errs[len(errs)-1]
				if seed == 42 {
					st := s.Stats("a")
					t.Logf("inter-onset error p50 %.2f ms, p99 %.2f ms, max %.2f ms (from the first event: p99 %.2f, max %.2f); late %d of %d; delay %v; latency p95 %v",
						pct(errs, 0.5), p99, worst, pct(all, 0.99), all[len(all)-1], late, n-warmup, st.Delay, st.LatencyP95)
				}
				if p99 > tt.p99 || worst > tt.max {
					t.Errorf("seed %d: inter-onset error p99 %.3f, max %.3f ms; want at most %v, %v", seed, p99, worst, tt.p99, tt.max)
				}
				if late > tt.late {
					t.Errorf("seed %d: %d late events, want at most %d", seed, late, tt.late)
				}
				for i := warmup; i < n; i++ {
					if d := at[i] - ts[i]; d > tt.extra+1e-9 {
						t.Fatalf("seed %d: event %d plays %.2f ms after its timestamp, want at most %v", seed, i, d, tt.extra)
					}
				}
			}
		})
	}
}

// TestSchedulerNeverReorders: whatever the stamps and arrivals, a sender's
// events play in arrival order, never before they arrive, and late ones
// at once.
func TestSchedulerNeverReorders(t *testing.T) {
	modes := []bridge.PlayoutMode{
		{}, {Kind: bridge.PlayoutFixed, Delay: 20 * time.Millisecond}, {Kind: bridge.PlayoutAuto},
	}
	senders := []string{"a", "b", "c"}
	for _, mode := range modes {
		t.Run(mode.String(), func(t *testing.T) {
			rng := newRand(uint64(mode.Kind) + 1)
			s := bridge.NewScheduler(mode, bridge.SchedulerConfig{})
			last := map[string]float64{}
			now := 1e6
			for i := range 20000 {
				sender := senders[rng.IntN(len(senders))]
				now += rng.Float64()*20 - 2 // relay time may step back a little
				var ts float64
				switch r := rng.Float64(); {
				case r < 0.05: // none
				case r < 0.08:
					ts = now + 1000 + rng.Float64()*5000 // clock ahead
				case r < 0.1:
					ts = now - 10000 - rng.Float64()*5000 // clock behind
				default:
					ts = now - rng.Float64()*200 + 20 // anything plausible, in any order
				}
				at, late := s.When(sender, ts, now)
				prev, seen := last[sender]
				if seen && at < prev {
					t.Fatalf("event %d of %s: at %v before the previous %v", i, sender, at, prev)
				}
				if at < now {
					t.Fatalf("event %d of %s: at %v before its arrival %v", i, sender, at, now)
				}
				if late && at != max(now, prev) {
					t.Fatalf("event %d of %s: late at %v, want at once (%v)", i, sender, at, max(now, prev))
				}
				last[sender] = at
				if rng.IntN(2000) == 0 {
					s.Forget(sender)
					delete(last, sender)
				}
			}
		})
	}
}

func BenchmarkSchedulerWhenAuto(b *testing.B) {
	s := bridge.NewScheduler(bridge.PlayoutMode{Kind: bridge.PlayoutAuto}, bridge.SchedulerConfig{})
	rng := newRand(1)
	ts := 1.7e12
	for range b.N {
		ts += 50
		s.When("a", ts, ts+rng.Float64()*30)
	}
}

func ExampleScheduler() {
	mode, err := bridge.ParsePlayout("fixed:30ms")
	if err != nil {
		fmt.Println(err)
		return
	}
	s := bridge.NewScheduler(mode, bridge.SchedulerConfig{})
	// A note stamped 1000 (relay ms) that arrived at 1012, its release
	// stamped 1250 that arrived at 1251, and a note that took 45 ms.
	for _, e := range []struct{ ts, arrival float64 }{{1000, 1012}, {1250, 1251}, {1400, 1445}} {
		at, late := s.When("alice", e.ts, e.arrival)
		fmt.Println(at, late)
	}
	fmt.Println(s.Stats("alice").Late, "late")
	// Output:
	// 1030 false
	// 1280 false
	// 1445 true
	// 1 late
}
