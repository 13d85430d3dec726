//go:build hwtest

package hwtest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The scenarios run in the order of this file, then synth_test.go's
// (go test runs the files in name order; the others hold no VM tests):
// the first needs a machine with no sound modules loaded, the others
// load them.

// Without the ALSA sequencer, `jambridge ports` says so in one sentence
// and exits non-zero; `jambridge run` says it once and keeps the session
// up, and uses the MIDI devices and opens its virtual ports as soon as the
// sequencer comes (a box that starts jambridge at boot before its sound
// modules load).
func TestNoMIDISystem(t *testing.T) {
	if _, err := os.Stat("/dev/snd/seq"); err == nil {
		t.Fatal("the sequencer is already loaded: this test must run first, on a machine without sound modules")
	}
	const sentence = "no MIDI system: /dev/snd/seq is missing, so no MIDI device can be used " +
		"(load the ALSA sequencer with `sudo modprobe snd-seq`, or run on a machine with sound support)"

	out, code := runStatus(t, "jambridge", "ports")
	if code != 1 || strings.TrimSpace(out) != "jambridge: "+sentence {
		t.Errorf("jambridge ports: exit %d, output:\n%s\nwant exit 1 and only:\njambridge: %s", code, out, sentence)
	}

	daemon := start(t, "jambridge", "run", "--listen", "127.0.0.1:3009", "--room", "NO-MIDI", "--virtual")
	at := daemon.expect(t, 0, "level=WARN", sentence)
	daemon.expect(t, 0, "created session", "NO-MIDI")
	c := cables(t)
	at = daemon.expect(t, at, "MIDI system available")
	daemon.expect(t, at, "listening to MIDI input", c[0].port)
	daemon.expect(t, at, "virtual MIDI input ready")
	daemon.expect(t, at, "playing remote events on output", "jambridge out")
	findPort(t, "jambridge in")
	findPort(t, "jambridge out")
	if n := strings.Count(daemon.output(), sentence); n != 1 {
		t.Errorf("jambridge run said %d times that there is no MIDI system, want once", n)
	}
	daemon.stop()
	if code := daemon.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("jambridge run: exit %d after SIGTERM, want 0", code)
	}
}

// `jambridge ports` lists the kernel's ports by their real names.
func TestPortsByRealName(t *testing.T) {
	loadSound(t)
	if kbd := usbKeyboard(t); !kbd.plugged {
		kbd.plug(t)
		defer kbd.unplug(t)
	}
	c := cables(t)

	out := run(t, "jambridge", "ports")
	ins, outs, ok := strings.Cut(out, "MIDI outputs")
	if !ok || !strings.HasPrefix(ins, "MIDI inputs") {
		t.Fatalf("jambridge ports: no inputs and outputs sections:\n%s", out)
	}
	for _, name := range []string{"Midi Through:Midi Through Port-0", c[0].client + ":" + c[0].port,
		c[3].client + ":" + c[3].port, "FakeUSBMIDI:FakeUSBMIDI MIDI 1"} {
		if !strings.Contains(ins, name) || !strings.Contains(outs, name) {
			t.Errorf("jambridge ports: %q missing from the inputs or the outputs:\n%s", name, out)
		}
	}
}

// A user without access to the sequencer (its nodes are root's until
// udev gives them to the audio group) gets the one sentence that says
// what to do; done, the same user lists the ports.
func TestSequencerPermission(t *testing.T) {
	loadSound(t)
	const want = "jambridge: no access to /dev/snd/seq: add this user to the audio group " +
		"(`sudo usermod -aG audio $USER`) and log in again"
	musician := &syscall.Credential{Uid: 1000, Gid: 1000}
	out, code := runAs(t, musician, "jambridge", "ports")
	if code != 1 || strings.TrimSpace(out) != want {
		t.Errorf("jambridge ports as a user: exit %d, output:\n%s\nwant exit 1 and only:\n%s", code, out, want)
	}

	// What udev does on a desktop, and the advice: the audio group.
	const audio = 29
	nodes, _ := filepath.Glob("/dev/snd/*")
	for _, n := range nodes {
		if err := os.Chown(n, 0, audio); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(n, 0o660); err != nil {
			t.Fatal(err)
		}
	}
	defer func() {
		for _, n := range nodes {
			os.Chown(n, 0, 0)
			os.Chmod(n, 0o600)
		}
	}()
	musician.Groups = []uint32{audio}
	out, code = runAs(t, musician, "jambridge", "ports")
	if code != 0 || !strings.Contains(out, "Midi Through") {
		t.Errorf("jambridge ports as a member of audio: exit %d, output:\n%s", code, out)
	}
}

// A jam with the USB keyboard: notes both ways, hotplug, virtual ports.
// "keys" reads the keyboard and plays the others on cable 0,
// where synth hears them. Each subtest sets up what it needs, so any one
// runs alone (HWTEST='-test.run JamSession/unplugged').
func TestJamSession(t *testing.T) {
	j := startJam(t)
	keys := j.startKeyboardBridge(t, "keys", "--out", j.c[0].port)
	keys.expect(t, 0, "playing remote events on output", j.c[0].port)
	synth := j.c[0].listen(t) // what "keys" plays out, as a synth on cable 0 hears it

	t.Run("keyboard plugged in after start is used", func(t *testing.T) {
		if j.kbd.plugged {
			j.unplugKeyboard(t)
		}
		j.plugKeyboard(t)
	})

	t.Run("keyboard notes reach the others", func(t *testing.T) {
		at := j.watch.mark()
		j.play(t, "90 3C 64")
		at = j.watch.expectEvent(t, at, "keys", "piano_note", 60, 100)
		j.play(t, "80 3C 40")
		at = j.watch.expectEvent(t, at, "keys", "piano_note", 60, 0)
		j.play(t, "99 26 50") // channel 10: a drum pad
		j.watch.expectEvent(t, at, "keys", "drum_hit", 38, 80)
	})

	t.Run("remote events play out as MIDI bytes", func(t *testing.T) {
		at, n := j.watch.mark(), len(synth.messages())
		send(t, j.c[1].raw(), "99 24 70") // "drums" hits the kick
		at = j.watch.expectEvent(t, at, "drums", "drum_hit", 36, 112)
		n = synth.expect(t, n, "99 24 70")
		n = synth.expect(t, n, "89 24 00") // the drum gate's note-off
		send(t, j.c[1].raw(), "90 3C 64 80 3C 00")
		j.watch.expectEvent(t, at, "drums", "piano_note", 60, 0)
		n = synth.expect(t, n, "90 3C 64")
		synth.expect(t, n, "80 3C 00")
	})

	t.Run("unplugged mid-note, the others get the release", func(t *testing.T) {
		at := j.watch.mark()
		j.play(t, "90 40 70")
		at = j.watch.expectEvent(t, at, "keys", "piano_note", 64, 112)
		j.unplugKeyboard(t)
		j.watch.expectEvent(t, at, "keys", "piano_note", 64, 0)
	})

	t.Run("plugged back, it works again", func(t *testing.T) {
		if j.kbd.plugged {
			j.unplugKeyboard(t)
		}
		j.plugKeyboard(t)
		at := j.watch.mark()
		j.play(t, "90 43 60")
		j.watch.expectEvent(t, at, "keys", "piano_note", 67, 96)
	})

	t.Run("virtual ports are seen and used by other ALSA clients", func(t *testing.T) {
		daw := start(t, "jambridge", "run", "--config", "daw.yaml", "--relay", j.url, "--room", j.room, "--name", "daw")
		daw.expect(t, 0, "joined session", j.room)
		daw.expect(t, 0, "virtual MIDI input ready")
		daw.expect(t, 0, "playing remote events on output", "jambridge out")
		in, out := findPort(t, "jambridge in"), findPort(t, "jambridge out")
		for _, p := range []seqPort{in, out} {
			if p.clientName != "jambridge" {
				t.Errorf("aconnect -l: %q is a port of client %q, want \"jambridge\"", p.name, p.clientName)
			}
		}
		// A DAW track sends to "jambridge in" and records "jambridge out":
		// here cables 2 and 3 stand in for the DAW.
		run(t, "aconnect", findPort(t, j.c[2].port).addr(), in.addr())
		run(t, "aconnect", out.addr(), findPort(t, j.c[3].port).addr())
		track := j.c[3].listen(t)

		at := j.watch.mark()
		send(t, j.c[2].raw(), "90 48 50")
		j.watch.expectEvent(t, at, "daw", "piano_note", 72, 80)
		send(t, j.c[1].raw(), "90 4A 60") // "drums" plays; the DAW hears it
		track.expect(t, 0, "90 4A 60")
	})
}

// The USB keyboard as input and synth: "piano" reads the keyboard and
// plays the others on it, with a rescan tick of ten minutes, so only the
// hotplug hints from /dev/snd can notice the cable coming and going. The
// keyboard is piano's alone (see jam).
func TestKeyboardAsInputAndSynth(t *testing.T) {
	j := startJam(t)
	if !j.kbd.plugged {
		j.kbd.plug(t) // before the bridge starts: its first look finds it
	}
	piano := j.startKeyboardBridge(t, "piano", "--out", "FakeUSBMIDI", "--rescan", "10m")
	piano.expect(t, 0, "playing remote events on output", "FakeUSBMIDI")
	piano.expect(t, 0, "listening to MIDI input", "FakeUSBMIDI")
	speaker := j.kbd.listen(t)
	send(t, j.c[1].raw(), "90 3E 55") // "drums" plays; the keyboard sounds it
	speaker.expect(t, 0, "90 3E 55")

	from, at := piano.mark(), j.watch.mark()
	j.play(t, "90 41 50") // held while the cable comes out
	at = j.watch.expectEvent(t, at, "piano", "piano_note", 65, 80)
	j.unplugKeyboard(t)
	piano.expect(t, from, "output port gone", "FakeUSBMIDI")
	at = j.watch.expectEvent(t, at, "piano", "piano_note", 65, 0)

	j.plugKeyboard(t)
	piano.expect(t, from, "playing remote events on output", "FakeUSBMIDI")
	speaker = j.kbd.listen(t)
	send(t, j.c[1].raw(), "80 3E 00 90 3F 56")
	speaker.expect(t, 0, "90 3F 56")
	j.play(t, "90 43 51")
	j.watch.expectEvent(t, at, "piano", "piano_note", 67, 81)
}

// runAs is runStatus as another user.
func runAs(t *testing.T, cred *syscall.Credential, name string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	cmd.Env = append(os.Environ(), "HOME=/tmp")
	out, err := cmd.CombinedOutput()
	if err != nil && cmd.ProcessState == nil {
		t.Fatalf("%s as uid %d: %v", name, cred.Uid, err)
	}
	return string(out), cmd.ProcessState.ExitCode()
}

// runStatus runs a program to its end and returns its output and exit
// code.
func runStatus(t *testing.T, name string, args ...string) (string, int) {
	t.Helper()
	p := start(t, name, args...)
	select {
	case <-p.done:
	case <-time.After(patience):
		t.Fatalf("%s: still running after %v", p.name, patience)
	}
	return p.output(), p.cmd.ProcessState.ExitCode()
}
