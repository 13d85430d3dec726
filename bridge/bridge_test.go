package bridge_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gitlab.com/gomidi/midi/v2"
	"gitlab.com/gomidi/midi/v2/drivers"

	"github.com/jambridge/jambridge/bridge"
	"github.com/jambridge/jambridge/bridge/miditest"
	"github.com/jambridge/jambridge/mapping"
)

// wait bounds every wait; never a speed assertion.
const wait = 5 * time.Second

type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) { l.mu.Lock(); defer l.mu.Unlock(); return l.b.Write(p) }
func (l *logBuf) String() string              { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

type harness struct {
	t      *testing.T
	b      *bridge.Bridge
	send   *fakeSender
	logs   *logBuf
	stop   func()
	done   chan struct{}
	stopMu sync.Once
}

func start(t *testing.T, cfg bridge.Config, lister bridge.Lister) *harness {
	t.Helper()
	h := &harness{t: t, send: newSender(), logs: &logBuf{}, done: make(chan struct{})}
	cfg.Logger = slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if cfg.Rescan == 0 {
		cfg.Rescan = 10 * time.Millisecond
	}
	b, err := bridge.New(cfg, lister, h.send)
	if err != nil {
		t.Fatal(err)
	}
	h.b = b
	ctx, cancel := context.WithCancel(context.Background())
	go func() { b.Run(ctx); close(h.done) }()
	h.stop = func() {
		h.stopMu.Do(func() {
			cancel()
			select {
			case <-h.done:
			case <-time.After(wait):
				t.Error("bridge did not stop")
			}
		})
	}
	t.Cleanup(h.stop)
	return h
}

// eventually polls cond until it holds, failing after wait.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, wait)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// next returns the next event the bridge sent, decoded.
func (h *harness) next() (string, map[string]any) {
	h.t.Helper()
	select {
	case ev := <-h.send.events:
		var m map[string]any
		if err := json.Unmarshal([]byte(ev.payload), &m); err != nil {
			h.t.Fatalf("payload %s: %v", ev.payload, err)
		}
		return ev.name, m
	case <-time.After(wait):
		h.t.Fatal("the bridge sent nothing")
	}
	return "", nil
}

// rescans waits until the bridge has looked at the ports n more times:
// whatever those looks would open or say is done.
func (h *harness) rescans(n uint64) {
	h.t.Helper()
	from := bridge.Scans(h.b)
	eventually(h.t, fmt.Sprintf("%d more looks at the ports", n), func() bool { return bridge.Scans(h.b) >= from+n })
}

func want(t *testing.T, name string, got map[string]any, gotName string, fields map[string]any) {
	t.Helper()
	if gotName != name {
		t.Fatalf("event %s %v, want %s", gotName, got, name)
	}
	for k, v := range fields {
		if fmt.Sprint(got[k]) != fmt.Sprint(v) {
			t.Errorf("%s.%s = %v, want %v (all: %v)", name, k, got[k], v, got)
		}
	}
}

// outMsgs reads n messages from an output, formatted like "NoteOn channel: 0 key: 60 velocity: 100".
func outMsgs(t *testing.T, o *miditest.Out, n int) []string {
	t.Helper()
	var got []string
	for range n {
		select {
		case b := <-o.Sent:
			got = append(got, midi.Message(b).String())
		case <-time.After(wait):
			t.Fatalf("output got %d of %d messages: %q", len(got), n, got)
		}
	}
	return got
}

// outQuiet checks that the player, once it has taken everything queued
// to it, sent nothing more to o.
func outQuiet(t *testing.T, h *harness, o *miditest.Out) {
	t.Helper()
	bridge.Flush(h.b)
	select {
	case b := <-o.Sent:
		t.Fatalf("unexpected output %s", midi.Message(b))
	default:
	}
}

func TestKeyboardNotesBecomePianoNotes(t *testing.T) {
	f := &miditest.System{}
	kb := f.PlugIn("Launchkey Mini MIDI 1")
	h := start(t, bridge.Config{}, f)
	eventually(t, "keyboard opened", kb.Listening)
	kb.Play(midi.NoteOn(0, 60, 100))
	name, ev := h.next()
	want(t, "piano_note", ev, name, map[string]any{"note": "C4", "velocity": 100, "midi": 60, "channel": 1})
	kb.Play(midi.ControlChange(0, 64, 127))
	name, ev = h.next()
	want(t, "control_change", ev, name, map[string]any{"controller": 64, "value": 127, "channel": 1})
	kb.Play(midi.NoteOff(0, 60))
	name, ev = h.next()
	want(t, "piano_note", ev, name, map[string]any{"note": "C4", "velocity": 0})
	if d, _ := ev["duration"].(float64); d < 0 {
		t.Errorf("duration = %v", ev["duration"])
	}
	kb.Play(midi.NoteOn(9, 38, 90)) // channel 10: drums
	name, ev = h.next()
	want(t, "drum_hit", ev, name, map[string]any{"note": "snare", "velocity": 90, "midi": 38, "channel": 10})
	kb.Play(midi.NoteOff(9, 38)) // drums have no release
	kb.Play(midi.Pitchbend(0, 100))
	kb.Play(midi.NoteOn(0, 61, 70)) // the next event must be this one
	name, ev = h.next()
	want(t, "piano_note", ev, name, map[string]any{"note": "C#4", "velocity": 70})
}

func TestPortRulesSelectAndMap(t *testing.T) {
	f := &miditest.System{}
	pad := f.PlugIn("TD-17 e-drums")
	keys := f.PlugIn("Digital Piano")
	f.PlugIn("Midi Through Port-0")
	other := f.PlugIn("Some Controller")
	drums := mapping.DefaultInputRule()
	drums.Role = mapping.Drums
	drums.PadMinVelocity = map[int]int{42: 20}
	piano := mapping.DefaultInputRule()
	piano.Transpose = 12
	h := start(t, bridge.Config{Inputs: []bridge.InputSpec{
		{Match: bridge.MustMatch("/^TD-\\d+/"), Rule: drums},
		{Match: bridge.MustMatch("piano"), Rule: piano},
	}}, f)
	eventually(t, "ports opened", func() bool { return pad.Listening() && keys.Listening() })
	h.rescans(2) // the look that opened them is over
	if other.Listening() {
		t.Error("a port no rule matches was opened")
	}
	pad.Play(midi.NoteOn(0, 42, 10)) // crosstalk below the pad's minimum
	pad.Play(midi.NoteOn(0, 42, 64))
	name, ev := h.next()
	want(t, "drum_hit", ev, name, map[string]any{"note": "hihat_closed", "velocity": 64, "midi": 42})
	keys.Play(midi.NoteOn(0, 60, 50))
	name, ev = h.next()
	want(t, "piano_note", ev, name, map[string]any{"note": "C5", "midi": 72})
}

func TestDefaultsNeverReadThroughOrOwnPorts(t *testing.T) {
	f := &miditest.System{}
	through := f.PlugIn("Midi Through:Midi Through Port-0 14:0")
	own := f.PlugIn("jambridge out")
	// rtmidi's client for an output the bridge plays to: its port is
	// readable, and reading it would hand back what the bridge plays.
	rtOut := f.PlugIn("RtMidi Output Client:port-0 130:0")
	kb := f.PlugIn("USB Keyboard")
	h := start(t, bridge.Config{}, f)
	eventually(t, "keyboard opened", kb.Listening)
	h.rescans(3)
	if through.Listening() || own.Listening() || rtOut.Listening() {
		t.Errorf("through %v, own %v, rtmidi output client %v: want none read", through.Listening(), own.Listening(), rtOut.Listening())
	}
}

// A keyboard pulled out mid-chord: the others get the releases, and
// plugged back in it works again.
func TestUnplugMidNoteReleasesAndReplugWorks(t *testing.T) {
	f := &miditest.System{}
	kb := f.PlugIn("USB Keyboard")
	h := start(t, bridge.Config{}, f)
	eventually(t, "keyboard opened", kb.Listening)
	kb.Play(midi.NoteOn(0, 60, 100))
	kb.Play(midi.NoteOn(0, 64, 100))
	kb.Play(midi.ControlChange(0, 64, 127))
	for range 3 {
		h.next()
	}
	f.Unplug("USB Keyboard")
	released := map[string]bool{}
	for range 3 {
		name, ev := h.next()
		released[fmt.Sprintf("%s %v %v %v", name, ev["note"], ev["velocity"], ev["value"])] = true
	}
	for _, w := range []string{"piano_note C4 0 <nil>", "piano_note E4 0 <nil>", "control_change <nil> <nil> 0"} {
		if !released[w] {
			t.Errorf("missing release %s (got %v)", w, released)
		}
	}
	eventually(t, "port closed", func() bool { return !kb.Listening() })
	kb2 := f.PlugIn("USB Keyboard")
	eventually(t, "keyboard reopened", kb2.Listening)
	kb2.Play(midi.NoteOn(0, 67, 80))
	name, ev := h.next()
	want(t, "piano_note", ev, name, map[string]any{"note": "G4", "velocity": 80})
	if !strings.Contains(h.logs.String(), "unplugged") {
		t.Error("the log does not say the keyboard was unplugged")
	}
}

func TestHotplugAfterStartAndNoMIDISystem(t *testing.T) {
	f := &miditest.System{}
	f.SetListErr(errors.New("no MIDI system: /dev/snd/seq is missing"))
	h := start(t, bridge.Config{}, f)
	h.rescans(3)
	if n := strings.Count(h.logs.String(), "no MIDI system"); n != 1 {
		t.Errorf("the missing MIDI system was logged %d times, want once:\n%s", n, h.logs)
	}
	f.SetListErr(nil)
	kb := f.PlugIn("Late Keyboard")
	eventually(t, "late keyboard opened", kb.Listening)
	kb.Play(midi.NoteOn(0, 48, 70))
	name, ev := h.next()
	want(t, "piano_note", ev, name, map[string]any{"note": "C3"})
}

// With hotplug hints the bridge looks at once: the rescan tick here is an
// hour, so only the hints can find the keyboard and notice it gone.
func TestHotplugHintsScanAtOnce(t *testing.T) {
	f := miditest.NewHotplugSystem()
	h := start(t, bridge.Config{Rescan: time.Hour}, f)
	kb := f.PlugIn("USB Keyboard")
	f.Notify()
	eventually(t, "keyboard opened after the hint", kb.Listening)
	kb.Play(midi.NoteOn(0, 60, 100))
	name, ev := h.next()
	want(t, "piano_note", ev, name, map[string]any{"note": "C4", "velocity": 100})
	f.Unplug("USB Keyboard")
	f.Notify()
	name, ev = h.next()
	want(t, "piano_note", ev, name, map[string]any{"note": "C4", "velocity": 0})
	eventually(t, "keyboard closed after the hint", func() bool { return !kb.Listening() })
}

// A device's sequencer port can appear a moment after the device node
// that gave the hint: the bridge looks again shortly after.
func TestHotplugHintLooksAgainForLatePorts(t *testing.T) {
	f := &lateSystem{HotplugSystem: miditest.NewHotplugSystem()}
	var kb *miditest.In
	var kbMu sync.Mutex
	f.afterList = func(n int) {
		if n == 2 { // the look the hint caused: the port comes just after it
			kbMu.Lock()
			kb = f.PlugIn("USB Keyboard")
			kbMu.Unlock()
		}
	}
	start(t, bridge.Config{Rescan: time.Hour}, f)
	eventually(t, "first look", func() bool { return f.lists.Load() >= 1 })
	f.Notify()
	eventually(t, "keyboard opened by the second look", func() bool {
		kbMu.Lock()
		defer kbMu.Unlock()
		return kb != nil && kb.Listening()
	})
	if n := f.lists.Load(); n != 3 {
		t.Errorf("the bridge listed the inputs %d times, want 3 (at start, after the hint, once more)", n)
	}
}

// lateSystem calls afterList after each listing of the inputs.
type lateSystem struct {
	*miditest.HotplugSystem
	lists     atomic.Int64
	afterList func(n int)
}

func (l *lateSystem) Ins() ([]drivers.In, error) {
	list, err := l.HotplugSystem.Ins()
	l.afterList(int(l.lists.Add(1)))
	return list, err
}

func TestShutdownReleasesLocalNotesAndClosesPorts(t *testing.T) {
	f := &miditest.System{}
	kb := f.PlugIn("USB Keyboard")
	h := start(t, bridge.Config{}, f)
	eventually(t, "keyboard opened", kb.Listening)
	kb.Play(midi.NoteOn(0, 60, 100))
	h.next()
	h.stop()
	name, ev := h.next()
	want(t, "piano_note", ev, name, map[string]any{"note": "C4", "velocity": 0})
	if kb.Listening() || kb.IsOpen() {
		t.Error("keyboard still open after shutdown")
	}
}

func TestInputFloodNeverBlocksTheDriver(t *testing.T) {
	f := &miditest.System{}
	kb := f.PlugIn("USB Keyboard")
	h := start(t, bridge.Config{}, f)
	eventually(t, "keyboard opened", kb.Listening)
	h.send.mu.Lock() // the session stalls: the input loop blocks on it
	done := make(chan struct{})
	go func() {
		for i := range 5000 {
			kb.Play(midi.NoteOn(0, uint8(i%128), 100))
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(wait):
		t.Fatal("the MIDI callback blocked")
	}
	h.send.mu.Unlock()
	eventually(t, "overflow counted", func() bool { return h.b.Stats().InputDropped > 0 })
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
