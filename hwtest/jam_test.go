//go:build hwtest

package hwtest

import (
	"encoding/json"
	"testing"
	"time"
)

// jam is a session on one machine: jamrelay, a bridge "drums" reading
// cable 1, and a watcher printing what the session carries. The
// keyboard starts unplugged, and with no bridge reading it: a test starts
// one with startKeyboardBridge. One only, as on a musician's desk: with
// two, one of them playing the session on the keyboard gets the other's
// copy of each key press from the session and plays it out about when the
// key press itself reaches its input, and its echo guard (what an input
// receives within EchoWindow of being played out is taken for an echo)
// rightly drops the key press.
type jam struct {
	url, room string
	c         []cable
	kbd       *keyboard
	kbdBridge *proc // the bridge reading the keyboard, that plugKeyboard and unplugKeyboard wait on
	watch     *monitor
}

func startJam(t *testing.T) *jam {
	t.Helper()
	loadSound(t)
	j := &jam{url: "http://127.0.0.1:3001", room: "HW-42", kbd: usbKeyboard(t), c: cables(t)}
	relay := start(t, "jamrelay", "--listen", "127.0.0.1:3001")
	relay.expect(t, 0, "listening")
	drums := start(t, "jambridge", "run", "--relay", j.url, "--room", j.room, "--name", "drums", "--in", j.c[1].port)
	drums.expect(t, 0, "listening to MIDI input", j.c[1].port)
	drums.expect(t, 0, "created session", j.room)
	j.watch = &monitor{start(t, "jambridge", "monitor", "--json", "--relay", j.url, "--room", j.room, "--name", "watcher")}
	j.watch.expect(t, 0, "joined session", j.room)
	t.Cleanup(func() {
		if j.kbd.plugged { // leave the machine as the jam found it
			j.kbd.unplug(t)
		}
	})
	return j
}

// startKeyboardBridge starts the bridge that reads the USB keyboard, named
// name, with more flags (its output): `jambridge run --in FakeUSBMIDI`.
// It returns when the bridge is in the session.
func (j *jam) startKeyboardBridge(t *testing.T, name string, flags ...string) *proc {
	t.Helper()
	args := append([]string{"run", "--relay", j.url, "--room", j.room, "--name", name, "--in", "FakeUSBMIDI"}, flags...)
	j.kbdBridge = start(t, "jambridge", args...)
	j.kbdBridge.expect(t, 0, "joined session", j.room)
	return j.kbdBridge
}

// plugKeyboard plugs the keyboard in and waits for its bridge to listen
// to it. It logs how long that took, a figure and not a check: the tests
// wait for what should happen, whatever the machine's load.
func (j *jam) plugKeyboard(t *testing.T) {
	t.Helper()
	from := j.kbdBridge.mark()
	plugged := time.Now()
	j.kbd.plug(t)
	enumerated := time.Since(plugged)
	j.kbdBridge.expect(t, from, "listening to MIDI input", "FakeUSBMIDI")
	t.Logf("plugged in: ALSA card after %v, bridge listening after %v",
		enumerated.Round(time.Millisecond), time.Since(plugged).Round(time.Millisecond))
}

// unplugKeyboard pulls the cable and waits for its bridge to notice.
func (j *jam) unplugKeyboard(t *testing.T) {
	t.Helper()
	from := j.kbdBridge.mark()
	j.kbd.unplug(t)
	j.kbdBridge.expect(t, from, "MIDI input closed", "FakeUSBMIDI")
}

// play presses keys on the keyboard, plugging it in first if needed.
func (j *jam) play(t *testing.T, bytes string) {
	t.Helper()
	if !j.kbd.plugged {
		j.plugKeyboard(t)
	}
	send(t, j.kbd.keys(t), bytes)
}

// monitor is `jambridge monitor --json`: one participant's view of the
// session.
type monitor struct{ *proc }

// monitorEvent is the part of a monitor line the tests check.
type monitorEvent struct {
	Sender   string `json:"sender"`
	Event    string `json:"event"`
	MIDI     *int   `json:"midi"`
	Velocity *int   `json:"velocity"`
}

// expectEvent waits for an event from sender with that note and
// velocity, among the lines from line number from on.
func (m *monitor) expectEvent(t *testing.T, from int, sender, event string, note, velocity int) int {
	t.Helper()
	_, at, ok := m.waitFrom(from, func(line string) bool {
		var e monitorEvent
		return json.Unmarshal([]byte(line), &e) == nil && e.Sender == sender && e.Event == event &&
			e.MIDI != nil && *e.MIDI == note && e.Velocity != nil && *e.Velocity == velocity
	})
	if !ok {
		t.Fatalf("the watcher did not see %s send %s note %d velocity %d; it saw:\n%s\n%s", sender, event, note, velocity, m.output(), seqState())
	}
	return at
}
