package bridge

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// PlayoutKind is how remote events are scheduled.
type PlayoutKind uint8

// The playout modes of --playout.
const (
	// PlayoutImmediate plays each event as it arrives: the lowest
	// latency, and the network's jitter in the rhythm.
	PlayoutImmediate PlayoutKind = iota
	// PlayoutFixed plays each event at its timestamp plus a fixed delay,
	// so the spacing between notes comes out as it was played as long as
	// the delay covers the one-way latency.
	PlayoutFixed
	// PlayoutAuto is PlayoutFixed with a delay per sender that follows
	// their observed one-way latency.
	PlayoutAuto
)

// maxFixedDelay bounds --playout fixed: a second behind is no longer a
// jam.
const maxFixedDelay = time.Second

// PlayoutMode is a parsed --playout. The zero value is immediate.
type PlayoutMode struct {
	Kind  PlayoutKind
	Delay time.Duration // PlayoutFixed: added to each event's timestamp
}

// String returns m as ParsePlayout reads it.
func (m PlayoutMode) String() string {
	switch m.Kind {
	case PlayoutFixed:
		return "fixed:" + m.Delay.String()
	case PlayoutAuto:
		return "auto"
	default:
		return "immediate"
	}
}

// ParsePlayout reads "immediate", "fixed:<delay>" (a Go duration from 0
// to 1s, such as fixed:20ms) or "auto".
func ParsePlayout(s string) (PlayoutMode, error) {
	switch v := strings.ToLower(strings.TrimSpace(s)); {
	case v == "immediate":
		return PlayoutMode{Kind: PlayoutImmediate}, nil
	case v == "auto":
		return PlayoutMode{Kind: PlayoutAuto}, nil
	case strings.HasPrefix(v, "fixed:"):
		d, err := time.ParseDuration(strings.TrimPrefix(v, "fixed:"))
		if err != nil || d < 0 || d > maxFixedDelay {
			return PlayoutMode{}, fmt.Errorf("playout %q needs a delay from 0 to %v, such as fixed:20ms", s, maxFixedDelay)
		}
		return PlayoutMode{Kind: PlayoutFixed, Delay: d}, nil
	default:
		return PlayoutMode{}, fmt.Errorf("playout %q is not immediate, fixed:<delay> (such as fixed:20ms) or auto", s)
	}
}

// SchedulerConfig tunes a Scheduler. A zero field takes the default in
// its comment.
type SchedulerConfig struct {
	// Auto mode: the delay is the Percentile (0-1; 0.95) of the sender's
	// last Window (128) one-way latencies plus Margin (2 ms), clamped to
	// [MinDelay, MaxDelay] (0, 150 ms). It rises by at most Step (1 ms)
	// per event and falls by at most Decay (5 ms) per second of relay
	// time and Step per event, so it never jolts the rhythm.
	Percentile float64
	Window     int
	Margin     time.Duration
	MinDelay   time.Duration
	MaxDelay   time.Duration
	Step       time.Duration
	Decay      time.Duration

	// A timestamp more than MaxAhead (1 s) after its arrival or more
	// than MaxBehind (10 s) before it says the sender's clock is off:
	// the event plays at arrival and counts as skewed.
	MaxAhead  time.Duration
	MaxBehind time.Duration
}

func (c SchedulerConfig) withDefaults() SchedulerConfig {
	if c.Percentile <= 0 || c.Percentile > 1 {
		c.Percentile = 0.95
	}
	if c.Window <= 0 {
		c.Window = 128
	}
	c.Margin = playoutDefault(c.Margin, 2*time.Millisecond)
	c.MaxDelay = playoutDefault(c.MaxDelay, 150*time.Millisecond)
	c.MinDelay = min(max(c.MinDelay, 0), c.MaxDelay)
	c.Step = playoutDefault(c.Step, time.Millisecond)
	c.Decay = playoutDefault(c.Decay, 5*time.Millisecond)
	c.MaxAhead = playoutDefault(c.MaxAhead, time.Second)
	c.MaxBehind = playoutDefault(c.MaxBehind, 10*time.Second)
	return c
}

func playoutDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// PlayoutStats describe one sender's playout.
type PlayoutStats struct {
	Events    uint64        // events scheduled
	Late      uint64        // arrived after their slot: played at arrival
	Skewed    uint64        // timestamp too far off arrival: played at arrival
	Unstamped uint64        // no timestamp: played at arrival
	Delay     time.Duration // current delay after the timestamp (0 when immediate)
	// One-way latency (arrival - timestamp, relay time) over the last
	// Window events: median, 95th percentile, and the smoothed
	// interarrival jitter of RFC 3550.
	LatencyP50, LatencyP95, Jitter time.Duration
}

// Scheduler decides when each remote event plays, in relay time (unix
// ms). It never reorders one sender's events: the times it returns for a
// sender never decrease. It reads no clock: callers pass times in.
//
// It is not safe for concurrent use: the player goroutine owns it.
type Scheduler struct {
	mode    PlayoutMode
	cfg     SchedulerConfig
	senders map[string]*senderPlayout
}

// senderPlayout is one sender's schedule.
type senderPlayout struct {
	last    float64 // the last time returned; -Inf before the first
	delay   float64 // ms; auto: adapted, fixed: the mode's
	adapted bool    // auto: delay set from a first latency
	prev    struct{ arrival, transit float64 }
	jitter  float64 // ms
	lat     latencyWindow
	stats   PlayoutStats
}

// NewScheduler returns a Scheduler for mode.
func NewScheduler(mode PlayoutMode, cfg SchedulerConfig) *Scheduler {
	return &Scheduler{mode: mode, cfg: cfg.withDefaults(), senders: make(map[string]*senderPlayout)}
}

// When returns the relay time (unix ms) at which an event of sender
// stamped timestamp (relay time, 0 = none) that arrived at arrival
// (relay time) should play, and whether it is late: its slot had passed
// when it arrived, so it plays at once. Events without a usable
// timestamp, and every event in immediate mode, play at arrival. In any
// mode an event plays no earlier than the sender's previous one.
func (s *Scheduler) When(sender string, timestamp, arrival float64) (at float64, late bool) {
	p := s.senders[sender]
	if p == nil {
		p = &senderPlayout{last: math.Inf(-1), lat: latencyWindow{size: s.cfg.Window}}
		if s.mode.Kind == PlayoutFixed {
			p.delay = playoutMillis(s.mode.Delay)
		}
		s.senders[sender] = p
	}
	p.stats.Events++
	at = arrival
	switch {
	case !(timestamp > 0) || math.IsInf(timestamp, 0):
		p.stats.Unstamped++
	case timestamp-arrival > playoutMillis(s.cfg.MaxAhead) || arrival-timestamp > playoutMillis(s.cfg.MaxBehind):
		p.stats.Skewed++
	default:
		p.observe(timestamp, arrival)
		if s.mode.Kind == PlayoutAuto {
			s.adapt(p, arrival)
		}
		if s.mode.Kind != PlayoutImmediate {
			if slot := timestamp + p.delay; slot >= arrival {
				at = slot
			} else {
				late = true
				p.stats.Late++
			}
		}
	}
	at = max(at, p.last) // never reorder a sender
	p.last = at
	return at, late
}

// observe records one latency and updates the jitter.
func (p *senderPlayout) observe(timestamp, arrival float64) {
	transit := arrival - timestamp
	if p.lat.len() > 0 {
		d := math.Abs(transit - p.prev.transit)
		p.jitter += (d - p.jitter) / 16
	}
	p.lat.add(transit)
	p.prev.transit = transit
}

// adapt moves p's delay towards the latency percentile plus the margin,
// slowly; arrival is now, to measure the decay by.
func (s *Scheduler) adapt(p *senderPlayout, arrival float64) {
	c := s.cfg
	target := min(max(p.lat.quantile(c.Percentile)+playoutMillis(c.Margin), playoutMillis(c.MinDelay)), playoutMillis(c.MaxDelay))
	switch {
	case !p.adapted:
		p.delay, p.adapted = target, true
	case target > p.delay:
		p.delay = min(target, p.delay+playoutMillis(c.Step))
	case target < p.delay:
		elapsed := max(arrival-p.prev.arrival, 0) / 1000 // seconds
		p.delay = max(target, p.delay-min(playoutMillis(c.Step), playoutMillis(c.Decay)*elapsed))
	}
	p.prev.arrival = arrival
}

// Forget drops sender's schedule and statistics: call it when they
// leave.
func (s *Scheduler) Forget(sender string) {
	delete(s.senders, sender)
}

// Stats returns sender's playout statistics; zero for a sender never
// seen or forgotten.
func (s *Scheduler) Stats(sender string) PlayoutStats {
	p := s.senders[sender]
	if p == nil {
		return PlayoutStats{}
	}
	st := p.stats
	if s.mode.Kind != PlayoutImmediate {
		st.Delay = playoutDuration(p.delay)
	}
	if p.lat.len() > 0 {
		st.LatencyP50 = playoutDuration(p.lat.quantile(0.5))
		st.LatencyP95 = playoutDuration(p.lat.quantile(0.95))
	}
	st.Jitter = playoutDuration(p.jitter)
	return st
}

// latencyWindow holds the last size samples, in arrival order (ring) and
// sorted, so a percentile costs no sort.
type latencyWindow struct {
	size   int
	ring   []float64
	next   int // where the next sample goes once the ring is full
	sorted []float64
}

func (l *latencyWindow) len() int { return len(l.ring) }

func (l *latencyWindow) add(x float64) {
	if len(l.ring) < l.size {
		l.ring = append(l.ring, x)
	} else {
		old := l.ring[l.next]
		i, _ := slices.BinarySearch(l.sorted, old)
		l.sorted = slices.Delete(l.sorted, i, i+1)
		l.ring[l.next] = x
		l.next = (l.next + 1) % l.size
	}
	i, _ := slices.BinarySearch(l.sorted, x)
	l.sorted = slices.Insert(l.sorted, i, x)
}

// quantile returns the nearest-rank q-quantile (0-1); 0 when empty.
func (l *latencyWindow) quantile(q float64) float64 {
	n := len(l.sorted)
	if n == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(n))) - 1
	return l.sorted[min(max(i, 0), n-1)]
}

func playoutMillis(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func playoutDuration(ms float64) time.Duration { return time.Duration(ms * float64(time.Millisecond)) }

// Senders lists the senders the scheduler has heard from.
func (s *Scheduler) Senders() []string {
	out := make([]string, 0, len(s.senders))
	for id := range s.senders {
		out = append(out, id)
	}
	return out
}
