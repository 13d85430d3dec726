package main

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"gitlab.com/gomidi/midi/v2"

	"github.com/jambridge/jambridge/bridge"
	"github.com/jambridge/jambridge/bridge/miditest"
	"github.com/jambridge/jambridge/relay"
)

// injectedJitter is the most the jitter proxy delays a frame.
const injectedJitter = 30 * time.Millisecond

// jitterWarmup notes are left out of every statistic: auto playout
// starts from the first latency it sees and rises by 1 ms per event
// towards the 95th percentile.
const jitterWarmup = 30

// onsets records when each note's note-on leaves a synth port, stamped
// in the port's Send. Notes are told apart by key and velocity (noteOf).
type onsets struct {
	arrived chan struct{} // one per note-on recorded

	mu sync.Mutex  // guards at
	at []time.Time // by note number; zero until it plays
}

func newOnsets(notes int) *onsets {
	return &onsets{arrived: make(chan struct{}, notes), at: make([]time.Time, notes)}
}

func (o *onsets) onSend(msg []byte) {
	now := time.Now()
	var ch, key, vel uint8
	if !midi.Message(msg).GetNoteStart(&ch, &key, &vel) {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if id := noteID(key, vel); id < len(o.at) && o.at[id].IsZero() {
		o.at[id] = now
		o.arrived <- struct{}{}
	}
}

// wait waits for every note, at most d, and returns the onsets.
func (o *onsets) wait(d time.Duration) []time.Time {
	timeout := time.After(d)
	for range len(o.at) {
		select {
		case <-o.arrived:
		case <-timeout:
			return o.snapshot()
		}
	}
	return o.snapshot()
}

func (o *onsets) snapshot() []time.Time {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.at)
}

// irregularGaps returns the seeded gaps between notes: uniform in
// [lo, hi].
func irregularGaps(seed uint64, notes int, lo, hi time.Duration) []time.Duration {
	rng := rand.New(rand.NewPCG(seed, 0))
	gaps := make([]time.Duration, notes)
	for i := range gaps {
		gaps[i] = lo + time.Duration(rng.Int64N(int64(hi-lo)+1))
	}
	return gaps
}

// playGaps plays one short note per gap on keys, sleeping the gap
// before each, and returns when each one reached the input. The sleeps
// need not be precise: what counts is the stamped time.
func playGaps(keys *miditest.In, gaps []time.Duration) []time.Time {
	sent := make([]time.Time, len(gaps))
	next := time.Now()
	for i, gap := range gaps {
		next = next.Add(gap)
		time.Sleep(time.Until(next))
		key, vel := noteOf(i)
		sent[i] = time.Now()
		keys.Play(midi.NoteOn(0, key, vel))
		keys.Play(midi.NoteOff(0, key))
	}
	return sent
}

// timing is what a receiving bridge made of the sent rhythm, warm-up
// left out. ioiErr is |received gap - sent gap| for each note that
// arrived after an arrived predecessor; latency is each note's
// input-to-output time. Both are sorted.
type timing struct {
	ioiErr, latency []time.Duration
	lost            int
}

func measureTiming(sent, got []time.Time) timing {
	var tm timing
	for i := range sent {
		if got[i].IsZero() {
			tm.lost++
			continue
		}
		if i < jitterWarmup {
			continue
		}
		tm.latency = append(tm.latency, got[i].Sub(sent[i]))
		if !got[i-1].IsZero() {
			d := got[i].Sub(got[i-1]) - sent[i].Sub(sent[i-1])
			tm.ioiErr = append(tm.ioiErr, max(d, -d))
		}
	}
	slices.Sort(tm.ioiErr)
	slices.Sort(tm.latency)
	return tm
}

// under returns the share of sorted below d.
func under(sorted []time.Duration, d time.Duration) float64 {
	i, _ := slices.BinarySearch(sorted, d)
	return float64(i) / float64(max(len(sorted), 1))
}

// Alice plays an irregular rhythm; bob receives it through 0-30 ms of
// random network delay, in each playout mode: every note is played, in
// the order she played them. How well auto playout keeps her rhythm is
// a matter of wall-clock time, so it is not asserted here, where a
// loaded machine would decide the verdict: the scheduler's own tests
// hold it to figures on virtual time (TestSchedulerInterOnset), and
// BenchmarkJitterPlayout measures it through this same proxy.
func TestPlayoutPlaysEveryNoteThroughJitter(t *testing.T) {
	const notes = 200
	gaps := irregularGaps(1, notes, 10*time.Millisecond, 60*time.Millisecond)
	r := startRelay(t, "127.0.0.1:0")
	for _, mode := range []string{"immediate", "auto"} {
		t.Run(mode, func(t *testing.T) {
			playout, err := bridge.ParsePlayout(mode)
			if err != nil {
				t.Fatal(err)
			}
			px := startJitterProxy(t, r.addr, injectedJitter, 7)
			aSys, bSys := &miditest.System{}, &miditest.System{}
			keys := aSys.PlugIn("Alice Keys")
			synth := bSys.PlugOut("Bob Synth")
			rec := newOnsets(notes)
			synth.OnSend = rec.onSend
			startJam(t, r, "alice", bridge.Config{}, aSys)
			bob := startJam(t, px.relay(), "bob", bridge.Config{Output: bridge.MustMatch("synth"), Playout: playout}, bSys)
			eventually(t, "ports open", func() bool { return keys.Listening() && synth.IsOpen() && playing(bob) })
			sent := playGaps(keys, gaps)
			got := rec.wait(wait)
			tm := measureTiming(sent, got)
			if tm.lost > 0 {
				t.Fatalf("%d of %d notes never played", tm.lost, notes)
			}
			for i := 1; i < notes; i++ {
				if got[i].Before(got[i-1]) {
					t.Fatalf("note %d played before note %d", i, i-1)
				}
			}
			t.Logf("IOI error p50 %v p90 %v p99 %v; latency p50 %v p99 %v (wall clock, not asserted)",
				pct(tm.ioiErr, 0.5), pct(tm.ioiErr, 0.9), pct(tm.ioiErr, 0.99), pct(tm.latency, 0.5), pct(tm.latency, 0.99))
		})
	}
}

// BenchmarkJitterPlayout measures how well each playout mode keeps the
// rhythm through 0-30 ms of random delay between the relay and the
// receiving bridge: the inter-onset-interval error (|gap heard - gap
// played|) and the end-to-end latency it costs, first 30 notes left
// out. 2000 notes at about 50 per second (gaps 10-30 ms) per mode.
//
//	go test -run '^$' -bench JitterPlayout -benchtime 1x ./cmd/jambridge/
func BenchmarkJitterPlayout(b *testing.B) {
	const notes = 2000
	gaps := irregularGaps(1, notes, 10*time.Millisecond, 30*time.Millisecond)
	for _, mode := range []string{"immediate", "fixed:35ms", "auto"} {
		playout, err := bridge.ParsePlayout(mode)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(mode, func(b *testing.B) {
			for range b.N {
				tm := jitterRun(b, playout, gaps)
				b.ReportMetric(ms(pct(tm.ioiErr, 0.50)), "ioi_err_p50_ms")
				b.ReportMetric(ms(pct(tm.ioiErr, 0.99)), "ioi_err_p99_ms")
				b.ReportMetric(ms(pct(tm.latency, 0.50)), "e2e_p50_ms")
				b.ReportMetric(ms(pct(tm.latency, 0.99)), "e2e_p99_ms")
				b.ReportMetric(float64(tm.lost), "lost")
			}
		})
	}
}

// jitterRun plays gaps from bridge A (straight to the relay) to bridge B
// (through the jitter proxy) with B in playout mode.
func jitterRun(b *testing.B, playout bridge.PlayoutMode, gaps []time.Duration) timing {
	// A relay that lets a file's worth of notes through its rate limit.
	srv, err := relay.NewServer(relay.Config{EventRate: 1e6, EventBurst: 1e6, SendQueue: 1 << 16})
	if err != nil {
		b.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	defer func() { srv.Close(); hs.Close() }()
	r := &testRelay{addr: strings.TrimPrefix(hs.URL, "http://")}
	px := startJitterProxy(b, r.addr, injectedJitter, 7)
	defer px.Close()
	aSys, bSys := &miditest.System{}, &miditest.System{}
	keys := aSys.PlugIn("Bench Keys")
	synth := bSys.PlugOut("Bench Synth")
	rec := newOnsets(len(gaps))
	synth.OnSend = rec.onSend
	bobLog, playing := playingSignal()
	defer joinedJam(b, r, "a", bridge.Config{Logger: slog.New(slog.DiscardHandler)}, aSys)()
	defer joinedJam(b, px.relay(), "b", bridge.Config{Output: bridge.MustMatch("synth"), Playout: playout, Logger: bobLog}, bSys)()
	waitPlaying(b, keys, playing)
	b.ResetTimer()
	sent := playGaps(keys, gaps)
	got := rec.wait(wait)
	b.StopTimer()
	return measureTiming(sent, got)
}

// joinedJam is benchJam that returns once the session is joined.
func joinedJam(b *testing.B, r *testRelay, name string, cfg bridge.Config, sys *miditest.System) (stop func()) {
	out := &syncBuf{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		runJam(ctx, jamSetup{Session: relay.SessionConfig{URL: r.url(), Room: "BENCH-J", Name: name, Logger: cfg.Logger},
			Bridge: cfg, MIDI: sys, Out: out, Log: cfg.Logger})
		close(done)
	}()
	stop = func() { cancel(); <-done }
	for deadline := time.Now().Add(wait); !strings.Contains(out.String(), "Joined jam session"); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			stop()
			b.Fatalf("%s did not join", name)
		}
	}
	return stop
}

// playingSignal is a quiet logger for the bench bridge that plays, and a channel
// closed once a player logs that it plays on its output: the synth port
// opens a moment before the player takes it, and a note in between
// would count as lost.
func playingSignal() (*slog.Logger, <-chan struct{}) {
	h := &msgSignal{msg: "playing remote events on output", seen: make(chan struct{})}
	return slog.New(h), h.seen
}

// msgSignal drops every record and closes seen at the first one whose
// message is msg.
type msgSignal struct {
	msg  string
	once sync.Once
	seen chan struct{}
}

func (h *msgSignal) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelInfo }
func (h *msgSignal) WithAttrs([]slog.Attr) slog.Handler           { return h }
func (h *msgSignal) WithGroup(string) slog.Handler                { return h }
func (h *msgSignal) Handle(_ context.Context, r slog.Record) error {
	if r.Message == h.msg {
		h.once.Do(func() { close(h.seen) })
	}
	return nil
}

// waitPlaying waits until keys are listened to and a player plays on
// its output (playingSignal).
func waitPlaying(b *testing.B, keys *miditest.In, playing <-chan struct{}) {
	deadline := time.After(wait)
	select {
	case <-playing:
	case <-deadline:
		b.Fatal("no player took its output")
	}
	for !keys.Listening() {
		select {
		case <-deadline:
			b.Fatal("the keys are not listened to")
		case <-time.After(time.Millisecond):
		}
	}
}
