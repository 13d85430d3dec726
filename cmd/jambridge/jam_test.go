package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"gitlab.com/gomidi/midi/v2"

	"github.com/jambridge/jambridge/bridge"
	"github.com/jambridge/jambridge/bridge/miditest"
	"github.com/jambridge/jambridge/relay"
)

// wait bounds every wait; never a speed assertion.
const wait = 10 * time.Second

// syncBuf is a writer tests can read while the jam writes.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// testRelay is a relay on a fixed loopback address that a test can stop
// and start again, as when the relay machine restarts.
type testRelay struct {
	t    *testing.T
	addr string
	srv  *relay.Server
	hs   *http.Server
	done chan struct{}
}

func startRelay(t *testing.T, addr string) *testRelay {
	t.Helper()
	var ln net.Listener
	var err error
	for deadline := time.Now().Add(wait); ; time.Sleep(20 * time.Millisecond) {
		if ln, err = net.Listen("tcp", addr); err == nil || time.Now().After(deadline) {
			break
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	srv, err := relay.NewServer(relay.Config{})
	if err != nil {
		t.Fatal(err)
	}
	r := &testRelay{t: t, addr: ln.Addr().String(), srv: srv, hs: &http.Server{Handler: srv}, done: make(chan struct{})}
	go func() { r.hs.Serve(ln); close(r.done) }()
	t.Cleanup(r.stop)
	return r
}

func (r *testRelay) url() string { return "http://" + r.addr }

func (r *testRelay) stop() {
	r.srv.Close()
	r.hs.Close()
	<-r.done
}

// player is one jambridge run with a fake MIDI system.
type player struct {
	sys  *miditest.System
	out  *syncBuf
	logs *syncBuf
	stop func()
}

func startJam(t *testing.T, r *testRelay, name string, cfg bridge.Config, sys *miditest.System) *player {
	t.Helper()
	p := &player{sys: sys, out: &syncBuf{}, logs: &syncBuf{}}
	log := slog.New(slog.NewTextHandler(p.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg.Rescan, cfg.Logger = 10*time.Millisecond, log
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- runJam(ctx, jamSetup{
			Session: relay.SessionConfig{URL: r.url(), Room: "JAM-TEST", Name: name, Logger: log,
				Backoff: relay.Backoff{Min: 20 * time.Millisecond, Max: 200 * time.Millisecond}},
			Bridge: cfg, MIDI: sys, Out: p.out, Log: log,
		})
	}()
	var once sync.Once
	p.stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("%s: run: %v", name, err)
				}
			case <-time.After(wait):
				t.Errorf("%s did not stop", name)
			}
		})
	}
	t.Cleanup(p.stop)
	eventually(t, name+" joined", func() bool { return strings.Contains(p.out.String(), "Joined jam session JAM-TEST") })
	return p
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(wait); !cond(); time.Sleep(2 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, wait)
		}
	}
}

func expectOut(t *testing.T, o *miditest.Out, want ...midi.Message) {
	t.Helper()
	for i, w := range want {
		select {
		case b := <-o.Sent:
			if got := midi.Message(b); got.String() != w.String() {
				t.Fatalf("synth message %d = %s, want %s", i, got, w)
			}
		case <-time.After(wait):
			t.Fatalf("synth got %d of %d messages; next wanted %s", i, len(want), w)
		}
	}
}

// alice plays keys and drums; bob's synth plays her.
func duo(t *testing.T, r *testRelay) (*miditest.In, *miditest.Out, *player, *player) {
	t.Helper()
	aSys, bSys := &miditest.System{}, &miditest.System{}
	keys := aSys.PlugIn("Alice Keys")
	synth := bSys.PlugOut("Bob Synth")
	alice := startJam(t, r, "alice", bridge.Config{}, aSys)
	bob := startJam(t, r, "bob", bridge.Config{Output: bridge.MustMatch("synth"), DrumGate: time.Hour}, bSys)
	eventually(t, "ports open", func() bool { return keys.Listening() && synth.IsOpen() && playing(bob) })
	return keys, synth, alice, bob
}

// playing reports whether p's player has taken an output: the port is
// open a moment before the scanner hands it over, and a remote note in
// between finds no output to play on.
func playing(p *player) bool {
	return strings.Contains(p.logs.String(), `msg="playing remote events on output"`)
}

func TestNotesFlowFromBridgeToBridgeThroughARelay(t *testing.T) {
	r := startRelay(t, "127.0.0.1:0")
	keys, synth, _, _ := duo(t, r)
	played := []midi.Message{
		midi.NoteOn(0, 60, 100),
		midi.NoteOn(3, 64, 1),
		midi.ControlChange(0, 64, 127),
		midi.NoteOff(0, 60),
		midi.NoteOn(9, 36, 127), // kick on the drum channel
		midi.ControlChange(0, 64, 0),
		midi.NoteOn(3, 64, 0), // note-on velocity 0 is a release
	}
	for _, m := range played {
		keys.Play(m)
	}
	expectOut(t, synth,
		midi.NoteOn(0, 60, 100), midi.NoteOn(3, 64, 1), midi.ControlChange(0, 64, 127),
		midi.NoteOff(0, 60), midi.NoteOn(9, 36, 127), midi.ControlChange(0, 64, 0), midi.NoteOff(3, 64))
}

// Alice quits mid-chord: bob's synth ends her notes.
func TestLeavingParticipantLeavesNothingSounding(t *testing.T) {
	r := startRelay(t, "127.0.0.1:0")
	keys, synth, alice, _ := duo(t, r)
	keys.Play(midi.NoteOn(0, 60, 90))
	keys.Play(midi.NoteOn(0, 67, 90))
	expectOut(t, synth, midi.NoteOn(0, 60, 90), midi.NoteOn(0, 67, 90))
	alice.stop()
	// Her bridge releases what she held before leaving; the session's
	// user-left then ends anything left with All Notes Off.
	expectOut(t, synth, midi.NoteOff(0, 60), midi.NoteOff(0, 67), midi.ControlChange(0, 123, 0))
}

// The relay machine restarts: bob's synth lets go of alice's notes at
// once, both rejoin the same session by themselves, and music flows again.
func TestRelayRestartReleasesThenRejoins(t *testing.T) {
	r := startRelay(t, "127.0.0.1:0")
	keys, synth, alice, bob := duo(t, r)
	keys.Play(midi.NoteOn(0, 72, 80))
	expectOut(t, synth, midi.NoteOn(0, 72, 80))
	r.stop()
	expectOut(t, synth, midi.NoteOff(0, 72), midi.ControlChange(0, 123, 0))
	keys.Play(midi.NoteOn(0, 74, 80)) // played while down: dropped, not queued
	r2 := startRelay(t, r.addr)
	_ = r2
	joins := regexp.MustCompile(`msg="(joined|created) session" room=JAM-TEST `)
	for _, p := range []*player{alice, bob} {
		eventually(t, "both rejoined", func() bool { return len(joins.FindAllString(p.logs.String(), -1)) >= 2 })
	}
	for deadline := time.Now().Add(wait); ; {
		keys.Play(midi.NoteOn(0, 76, 70))
		select {
		case b := <-synth.Sent:
			got := midi.Message(b)
			if got.String() == midi.NoteOn(0, 74, 80).String() {
				t.Fatal("a note played during the outage was delivered late")
			}
			if got.String() != midi.NoteOn(0, 76, 70).String() {
				t.Fatalf("after the restart the synth got %s", got)
			}
			return
		case <-time.After(50 * time.Millisecond):
			if time.Now().After(deadline) {
				t.Fatal("music did not flow again after the relay restarted")
			}
		}
	}
}

func TestHostedSessionPrintsHowToJoin(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	host, err := hostRelay("127.0.0.1:0", nil, log)
	if err != nil {
		t.Fatal(err)
	}
	defer host.Close()
	out := &syncBuf{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- runJam(ctx, jamSetup{Session: relay.SessionConfig{URL: host.localURL, Name: "host"},
			Bridge: bridge.Config{}, MIDI: &miditest.System{}, Host: host, Out: out, Log: log})
	}()
	eventually(t, "announcement", func() bool { return strings.Contains(out.String(), "Others join with") })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	text := out.String()
	var code string
	fmt.Sscanf(text, "Jam session %s is open.", &code)
	if len(code) != 9 || !strings.Contains(text, "--room "+code) || !strings.Contains(text, "--relay "+host.shareURL) {
		t.Errorf("announcement:\n%s", text)
	}
}

func TestMonitorOfAnUnknownSessionSaysSo(t *testing.T) {
	r := startRelay(t, "127.0.0.1:0")
	app := newApp()
	out := &syncBuf{}
	app.Writer, app.ErrWriter = out, out
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	err := app.RunContext(ctx, []string{"jambridge", "monitor", "--relay", r.url(), "--room", "NOPE-42"})
	if err == nil || err.Error() != "session NOPE-42 does not exist" {
		t.Errorf("monitor: %v, want the relay's message", err)
	}
}

func TestHostedRelayLogsNoLinePerNote(t *testing.T) {
	for _, tc := range []struct {
		level slog.Level
		lines bool
	}{{slog.LevelInfo, false}, {slog.LevelDebug, true}} {
		logs := &syncBuf{}
		log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: tc.level}))
		quietRelayLog(log).Info("Event broadcasted in X: drum_hit from y")
		quietRelayLog(log).Warn("User y tried to broadcast to X but is not a member")
		if got := strings.Contains(logs.String(), "Event broadcasted"); got != tc.lines {
			t.Errorf("at %v: per-event line logged %v, want %v", tc.level, got, tc.lines)
		}
		if !strings.Contains(logs.String(), "not a member") {
			t.Errorf("at %v: the relay's warnings are lost", tc.level)
		}
	}
}
