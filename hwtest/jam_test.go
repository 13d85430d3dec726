//go:build hwtest

package hwtest

import (
	"encoding/json"
	"testing"
	"time"
)

// jam is a session on one machine: jamrelay, a bridge "keys" for the USB
// keyboard that plays the others on virmidi port 0, a bridge "drums"
// reading virmidi port 1, and a watcher printing what the session
// carries. The keyboard starts unplugged.
type jam struct {
	url, room string
	v         virmidi
	kbd       *keyboard
	keys      *proc
	watch     *monitor
	synth     *dump // what "keys" plays out, as a synth on virmidi port 0 hears it
}

func startJam(t *testing.T) *jam {
	t.Helper()
	loadSound(t)
	j := &jam{url: "http://127.0.0.1:3001", room: "HW-42", kbd: usbKeyboard(t),
		v: virmidi(waitCard(t, "VirMIDI", true, 5*time.Second))}
	relay := start(t, "jamrelay", "--listen", "127.0.0.1:3001")
	relay.expect(t, 0, 10*time.Second, "listening")
	j.keys = start(t, "jambridge", "run", "--relay", j.url, "--room", j.room, "--name", "keys",
		"--in", "FakeUSBMIDI", "--out", j.v.port(0))
	j.keys.expect(t, 0, 10*time.Second, "created session", j.room)
	j.keys.expect(t, 0, 10*time.Second, "playing remote events on output", j.v.port(0))
	drums := start(t, "jambridge", "run", "--relay", j.url, "--room", j.room, "--name", "drums", "--in", j.v.port(1))
	drums.expect(t, 0, 10*time.Second, "listening to MIDI input", j.v.port(1))
	drums.expect(t, 0, 10*time.Second, "joined session", j.room)
	j.watch = &monitor{start(t, "jambridge", "monitor", "--json", "--relay", j.url, "--room", j.room, "--name", "watcher")}
	j.watch.expect(t, 0, 10*time.Second, "joined session", j.room)
	j.synth = j.v.listen(t, 0)
	t.Cleanup(func() {
		if j.kbd.plugged { // leave the machine as the jam found it
			j.kbd.unplug(t)
		}
	})
	return j
}

// plugKeyboard plugs the keyboard in and returns how long after that
// "keys" listened to it.
func (j *jam) plugKeyboard(t *testing.T) time.Duration {
	t.Helper()
	from := j.keys.mark()
	plugged := time.Now()
	j.kbd.plug(t)
	enumerated := time.Since(plugged)
	j.keys.expect(t, from, 10*time.Second, "listening to MIDI input", "FakeUSBMIDI")
	used := time.Since(plugged)
	t.Logf("plugged in: ALSA card after %v, bridge listening after %v", enumerated.Round(time.Millisecond), used.Round(time.Millisecond))
	return used
}

// unplugKeyboard pulls the cable and waits for "keys" to notice.
func (j *jam) unplugKeyboard(t *testing.T) {
	t.Helper()
	from := j.keys.mark()
	j.kbd.unplug(t)
	j.keys.expect(t, from, 5*time.Second, "MIDI input closed", "FakeUSBMIDI")
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
	_, at, ok := m.waitFrom(from, 5*time.Second, func(line string) bool {
		var e monitorEvent
		return json.Unmarshal([]byte(line), &e) == nil && e.Sender == sender && e.Event == event &&
			e.MIDI != nil && *e.MIDI == note && e.Velocity != nil && *e.Velocity == velocity
	})
	if !ok {
		t.Fatalf("the watcher did not see %s send %s note %d velocity %d; it saw:\n%s", sender, event, note, velocity, m.output())
	}
	return at
}
