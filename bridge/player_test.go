package bridge_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"gitlab.com/gomidi/midi/v2"
	"gitlab.com/gomidi/midi/v2/drivers/testdrv"

	"github.com/jambridge/jambridge/bridge"
	"github.com/jambridge/jambridge/bridge/miditest"
	"github.com/jambridge/jambridge/mapping"
)

func remote(from, name, payload string) bridge.Remote {
	return bridge.Remote{SenderID: from, EventName: name, Payload: []byte(payload), Received: time.Now()}
}

func synth(t *testing.T, cfg bridge.Config) (*harness, *miditest.Out) {
	t.Helper()
	f := &miditest.System{}
	out := f.PlugOut("FluidSynth virtual port")
	cfg.Output = bridge.MustMatch("fluid")
	h := start(t, cfg, f)
	eventually(t, "the player has the output", func() bool { return h.b.Stats().Outputs == 1 })
	return h, out
}

func TestRemoteEventsPlayOnTheSynth(t *testing.T) {
	h, out := synth(t, bridge.Config{DrumGate: 20 * time.Millisecond})
	h.b.Remote(remote("alice", "piano_note", `{"note":"C4","velocity":80,"timestamp":1}`))
	h.b.Remote(remote("alice", "piano_note", `{"note":"D#5","velocity":64,"timestamp":1,"channel":3}`))
	h.b.Remote(remote("alice", "control_change", `{"controller":64,"value":127,"channel":1,"timestamp":1}`))
	h.b.Remote(remote("alice", "piano_note", `{"note":"C4","velocity":0,"timestamp":2,"duration":100}`))
	h.b.Remote(remote("bob", "drum_hit", `{"note":"kick","velocity":110,"timestamp":1}`))
	got := outMsgs(t, out, 6)
	wantMsgs := []string{
		midi.NoteOn(0, 60, 80).String(),
		midi.NoteOn(2, 75, 64).String(),
		midi.ControlChange(0, 64, 127).String(),
		midi.NoteOff(0, 60).String(),
		midi.NoteOn(9, 36, 110).String(),
		midi.NoteOff(9, 36).String(), // the drum gate
	}
	if fmt.Sprint(got) != fmt.Sprint(wantMsgs) {
		t.Errorf("synth got\n%q\nwant\n%q", got, wantMsgs)
	}
}

func TestUnplayableEventsAreCountedNotFatal(t *testing.T) {
	h, out := synth(t, bridge.Config{})
	h.b.Remote(remote("x", "drum_hit", `{"note":"didgeridoo","velocity":100}`))
	h.b.Remote(remote("x", "piano_note", `{"note":"H9","velocity":100}`))
	h.b.Remote(remote("x", "piano_note", `not json`))
	h.b.Remote(remote("x", "pattern_change", `{"patternId":"p1","timestamp":1}`)) // not for a synth
	h.b.Remote(remote("x", "piano_note", `{"note":"A4","velocity":1}`))
	if got := outMsgs(t, out, 1); got[0] != midi.NoteOn(0, 69, 1).String() {
		t.Errorf("got %s, want A4", got[0])
	}
	// The player counts after sending: wait for the count, not the note.
	eventually(t, "counted", func() bool { return h.b.Stats().Played == 1 })
	if s := h.b.Stats(); s.Unplayable != 3 || s.Played != 1 {
		t.Errorf("stats %+v: want 3 unplayable, 1 played", s)
	}
}

// When a participant leaves, their notes and pedal end; All Notes Off
// follows only on channels nobody else is playing.
func TestLeaveReleasesOnlyThatParticipant(t *testing.T) {
	h, out := synth(t, bridge.Config{})
	h.b.Remote(remote("alice", "piano_note", `{"note":"C4","velocity":80}`))
	h.b.Remote(remote("alice", "piano_note", `{"note":"E4","velocity":80,"channel":2}`))
	h.b.Remote(remote("alice", "control_change", `{"controller":64,"value":127,"channel":2}`))
	h.b.Remote(remote("bob", "piano_note", `{"note":"C4","velocity":90}`))
	h.b.Remote(remote("bob", "piano_note", `{"note":"G4","velocity":90}`))
	outMsgs(t, out, 5)
	h.b.Left("alice")
	got := outMsgs(t, out, 3)
	wantMsgs := []string{
		// C4 on channel 1 is still held by bob: no note-off for it.
		midi.NoteOff(1, 64).String(),
		midi.ControlChange(1, 64, 0).String(),
		midi.ControlChange(1, 123, 0).String(), // channel 2 is free now
	}
	if fmt.Sprint(got) != fmt.Sprint(wantMsgs) {
		t.Errorf("after alice left:\n%q\nwant\n%q", got, wantMsgs)
	}
	outQuiet(t, h, out)
	h.b.Left("bob")
	got = outMsgs(t, out, 3)
	wantMsgs = []string{midi.NoteOff(0, 60).String(), midi.NoteOff(0, 67).String(), midi.ControlChange(0, 123, 0).String()}
	if fmt.Sprint(got) != fmt.Sprint(wantMsgs) {
		t.Errorf("after bob left:\n%q\nwant\n%q", got, wantMsgs)
	}
}

// A shared key sounds until the last holder lets go.
func TestSharedKeyEndsWithItsLastHolder(t *testing.T) {
	h, out := synth(t, bridge.Config{})
	h.b.Remote(remote("alice", "piano_note", `{"note":"C4","velocity":80}`))
	h.b.Remote(remote("bob", "piano_note", `{"note":"C4","velocity":80}`))
	h.b.Remote(remote("alice", "piano_note", `{"note":"C4","velocity":0}`))
	outMsgs(t, out, 2)
	outQuiet(t, h, out)
	h.b.Remote(remote("bob", "piano_note", `{"note":"C4","velocity":0}`))
	if got := outMsgs(t, out, 1); got[0] != midi.NoteOff(0, 60).String() {
		t.Errorf("got %s, want the note-off", got[0])
	}
}

func TestDisconnectAndShutdownReleaseEverything(t *testing.T) {
	h, out := synth(t, bridge.Config{})
	h.b.Remote(remote("alice", "piano_note", `{"note":"C4","velocity":80}`))
	h.b.Remote(remote("bob", "piano_note", `{"note":"A0","velocity":80,"channel":5}`))
	outMsgs(t, out, 2)
	h.b.ReleaseAll()
	got := outMsgs(t, out, 4)
	wantMsgs := []string{
		midi.NoteOff(0, 60).String(), midi.ControlChange(0, 123, 0).String(),
		midi.NoteOff(4, 21).String(), midi.ControlChange(4, 123, 0).String(),
	}
	if fmt.Sprint(got) != fmt.Sprint(wantMsgs) {
		t.Errorf("release all:\n%q\nwant\n%q", got, wantMsgs)
	}
	outQuiet(t, h, out) // each channel silenced once
	h.b.Remote(remote("carol", "piano_note", `{"note":"B7","velocity":80}`))
	outMsgs(t, out, 1)
	h.stop()
	got = outMsgs(t, out, 2)
	if got[0] != midi.NoteOff(0, 107).String() || got[1] != midi.ControlChange(0, 123, 0).String() {
		t.Errorf("shutdown: %q, want B7 released, then All Notes Off", got)
	}
	if out.IsOpen() {
		t.Error("output still open after shutdown")
	}
}

// Held notes survive the player being busy: releases are never dropped.
func TestReleasesAreNeverDroppedUnderLoad(t *testing.T) {
	h, out := synth(t, bridge.Config{})
	for i := range 2000 {
		h.b.Remote(remote("alice", "piano_note", fmt.Sprintf(`{"note":"C4","velocity":%d}`, i%127+1)))
	}
	h.b.Left("alice")
	deadline := time.After(wait)
	for {
		select {
		case b := <-out.Sent:
			if midi.Message(b).String() == midi.ControlChange(0, 123, 0).String() {
				return // the release made it through
			}
		case <-deadline:
			t.Fatal("the release was lost behind the flood")
		}
	}
}

// While the synth port is stuck, Remote, Left and ReleaseAll return at
// once (they run on the relay reader); once it recovers, what sounded is
// released, the note-offs of notes dropped unsounded are not played, and
// the drops are counted.
func TestAStuckPortNeverBlocksTheReader(t *testing.T) {
	sys := &miditest.System{}
	port := newStuckPort(t, sys)
	h := start(t, bridge.Config{Output: bridge.MustMatch("synth")}, sys)
	eventually(t, "the player has the output", func() bool { return h.b.Stats().Outputs == 1 })
	returned := make(chan struct{})
	go func() {
		defer close(returned)
		for i := range 3000 {
			note := mapping.NoteName(40 + i%40)
			h.b.Remote(remote("alice", "piano_note", fmt.Sprintf(`{"note":%q,"velocity":90}`, note)))
			h.b.Remote(remote("bob", "piano_note", fmt.Sprintf(`{"note":%q,"velocity":90,"channel":2}`, note)))
			if i%2 == 0 {
				h.b.Remote(remote("alice", "piano_note", fmt.Sprintf(`{"note":%q,"velocity":0}`, note)))
			}
		}
		h.b.Left("alice")
		h.b.ReleaseAll()
	}()
	<-port.stuck
	select {
	case <-returned:
	case <-time.After(wait):
		t.Fatal("Remote, Left or ReleaseAll blocked behind the stuck port")
	}
	port.release()
	bridge.Flush(h.b)
	port.check(t)
	if st := h.b.Stats(); st.RemoteDropped == 0 {
		t.Errorf("stats %+v: want drops counted", st)
	}
}

// A DAW routing our output back into an input must not echo: gomidi's
// testdrv loops its output into its input exactly like that.
func TestLoopGuardWithTestdrv(t *testing.T) {
	drv := &lockedDriver{drv: testdrv.New("loop")}
	h := start(t, bridge.Config{Output: bridge.MustMatch("loop-out")}, drv)
	ins, _ := drv.Ins()
	eventually(t, "loop ports opened", func() bool {
		outs, _ := drv.Outs()
		return ins[0].IsOpen() && outs[0].IsOpen()
	})
	eventually(t, "the player has the output", func() bool { return h.b.Stats().Outputs == 1 })
	h.b.Remote(remote("alice", "piano_note", `{"note":"C4","velocity":80}`))
	h.b.Remote(remote("alice", "piano_note", `{"note":"C4","velocity":0}`))
	eventually(t, "echoes dropped", func() bool { return h.b.Stats().Echoes == 2 })
	// A note really played on the input still goes out, and is the next
	// event: the echoes sent nothing.
	outs, _ := drv.Outs()
	outs[0].Send(midi.NoteOn(0, 62, 99))
	name, ev := h.next()
	want(t, "piano_note", ev, name, map[string]any{"note": "D4", "velocity": 99})
}

func TestVirtualPortsForADAW(t *testing.T) {
	f := &miditest.VirtualSystem{System: &miditest.System{}}
	h := start(t, bridge.Config{Virtual: true}, f)
	virtualPortsOpen(t, "virtual ports", f)
	// The virtual output is open a moment before the player takes it: a
	// remote note in between finds no output (its note-off, later, does).
	eventually(t, "the player has the virtual output", func() bool { return h.b.Stats().Outputs == 1 })
	vin, vout := f.Ports()
	vin.Play(midi.NoteOn(0, 72, 100))
	name, ev := h.next()
	want(t, "piano_note", ev, name, map[string]any{"note": "C5"})
	h.b.Remote(remote("alice", "drum_hit", `{"note":"snare","velocity":100}`))
	if got := outMsgs(t, vout, 1); got[0] != midi.NoteOn(9, 38, 100).String() {
		t.Errorf("virtual out got %s", got[0])
	}
	// Our virtual output shows up as an input in the listings: never read.
	h.rescans(3)
	ins, _ := f.Ins()
	for _, in := range ins {
		if in.(*miditest.In).Listening() {
			t.Errorf("the bridge reads %q", in.String())
		}
	}
}

// A box that starts jambridge before its sound modules load gets its
// virtual ports once the MIDI system answers.
func TestVirtualPortsComeWithTheMIDISystem(t *testing.T) {
	f := &miditest.VirtualSystem{System: &miditest.System{}}
	f.SetListErr(errors.New("no MIDI system: /dev/snd/seq is missing"))
	h := start(t, bridge.Config{Virtual: true}, f)
	eventually(t, "the missing MIDI system said", func() bool { return contains(h.logs.String(), "no MIDI system") })
	h.rescans(3)
	if vin, vout := f.Ports(); vin != nil || vout != nil {
		t.Fatal("virtual ports opened without a MIDI system")
	}
	f.SetListErr(nil)
	virtualPortsOpen(t, "virtual ports once the MIDI system is there", f)
	vin, _ := f.Ports()
	vin.Play(midi.NoteOn(0, 60, 90))
	name, ev := h.next()
	want(t, "piano_note", ev, name, map[string]any{"note": "C4", "velocity": 90})
}

func TestVirtualPortsUnavailableIsOneWarning(t *testing.T) {
	h := start(t, bridge.Config{Virtual: true}, &miditest.System{})
	eventually(t, "warning", func() bool { return contains(h.logs.String(), bridge.ErrNoVirtualPorts.Error()) })
	h.rescans(3)
	if n := strings.Count(h.logs.String(), bridge.ErrNoVirtualPorts.Error()); n != 1 {
		t.Errorf("said %d times, want once:\n%s", n, h.logs)
	}
}

// Virtual ports that fail to open are retried at each look, each failure
// said once (the input's and the output's apart), and open when they can.
func TestVirtualPortsRetriedAndEachFailureSaidOnce(t *testing.T) {
	f := &miditest.VirtualSystem{System: &miditest.System{}}
	f.SetVirtualErr(errors.New("the sequencer refused"))
	h := start(t, bridge.Config{Virtual: true}, f)
	eventually(t, "warnings", func() bool { return contains(h.logs.String(), "virtual MIDI output") })
	h.rescans(3)
	for _, w := range []string{"cannot create the virtual MIDI input", "cannot create the virtual MIDI output"} {
		if n := strings.Count(h.logs.String(), w); n != 1 {
			t.Errorf("%q said %d times, want once:\n%s", w, n, h.logs)
		}
	}
	f.SetVirtualErr(nil)
	virtualPortsOpen(t, "virtual ports after the retry", f)
}

// virtualPortsOpen waits until the bridge has opened both virtual ports
// and listens to the input.
func virtualPortsOpen(t *testing.T, what string, f *miditest.VirtualSystem) {
	t.Helper()
	eventually(t, what, func() bool {
		vin, vout := f.Ports()
		return vin != nil && vin.Listening() && vout != nil
	})
}

// A keyboard's note-off that matches one just played to the synth is
// not an echo when its note-on went out: a release of a note that
// sounded always leaves. A copy of a played note-on is still an echo.
func TestAReleaseOfANoteSentIsNeverAnEcho(t *testing.T) {
	sys := &miditest.System{}
	kb := sys.PlugIn("USB Keyboard")
	out := sys.PlugOut("Synth")
	h := start(t, bridge.Config{Output: bridge.MustMatch("synth"), EchoWindow: time.Hour}, sys)
	eventually(t, "ports open", func() bool { return kb.Listening() && h.b.Stats().Outputs == 1 })
	kb.Play(midi.NoteOn(0, 60, 100))
	name, ev := h.next()
	want(t, "piano_note", ev, name, map[string]any{"note": "C4", "velocity": 100})
	h.b.Remote(remote("alice", "piano_note", `{"note":"C4","velocity":80}`))
	h.b.Remote(remote("alice", "piano_note", `{"note":"C4","velocity":0}`))
	outMsgs(t, out, 2) // NoteOn and NoteOff of C4 played: both in the echo guard
	kb.Play(midi.NoteOff(0, 60))
	name, ev = h.next()
	want(t, "piano_note", ev, name, map[string]any{"note": "C4", "velocity": 0})
	kb.Play(midi.NoteOn(0, 60, 80)) // a copy of alice's note-on: an echo
	kb.Play(midi.NoteOn(0, 62, 70))
	name, ev = h.next()
	want(t, "piano_note", ev, name, map[string]any{"note": "D4", "velocity": 70})
	if st := h.b.Stats(); st.Echoes != 1 {
		t.Errorf("%d echoes, want 1", st.Echoes)
	}
}

// A bridge with no output plays nothing, so nothing it receives can come
// back as an echo: a bandmate's note that the keyboard plays too, at the
// same moment, is sent (it was dropped as an echo of the remote one).
func TestNoOutputMeansNoEcho(t *testing.T) {
	sys := &miditest.System{}
	kb := sys.PlugIn("USB Keyboard")
	h := start(t, bridge.Config{EchoWindow: time.Hour}, sys)
	eventually(t, "keyboard opened", kb.Listening)
	h.b.Remote(remote("alice", "piano_note", `{"note":"C4","velocity":100}`))
	bridge.Flush(h.b) // the player has taken alice's note
	kb.Play(midi.NoteOn(0, 60, 100))
	name, ev := h.next()
	want(t, "piano_note", ev, name, map[string]any{"note": "C4", "velocity": 100})
	if st := h.b.Stats(); st.Echoes != 0 {
		t.Errorf("%d echoes, want 0", st.Echoes)
	}
}
