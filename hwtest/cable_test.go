//go:build hwtest

package hwtest

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// cable is a MIDI cable between a raw MIDI device that the tests play
// into and read (amidi -p hw:C,D; /dev/snd/midiCcDd) and the sequencer
// port at its other end, which jambridge opens by name: a keyboard's
// keys, or a synth's ears.
//
// With snd-virmidi (Debian's amd64 kernel), cable i is virmidi port i.
// Debian's arm64 kernel has no snd-virmidi: there cable i is a USB MIDI
// gadget of its own, "JamCableI", plugged for good into a dummy_hcd
// device controller of its own (dummy_udc.1 to .4; the keyboard has
// dummy_udc.0).
type cable struct {
	client, port string // the sequencer side, as `aconnect -l` names them
	card, device int    // the raw side
}

func (c cable) raw() string { return fmt.Sprintf("hw:%d,%d", c.card, c.device) }

// listen reads what the sequencer delivers to the cable's port.
func (c cable) listen(t *testing.T) *dump { return startDump(t, c.card, c.device) }

// nCables is how many cables the scenarios use (virmidi's four ports).
const nCables = 4

var theCables []cable

// cables returns the cables, loading the sound modules and plugging the
// USB cables the first time.
func cables(t *testing.T) []cable {
	t.Helper()
	loadSound(t)
	if theCables != nil {
		return theCables
	}
	if haveVirmidi() {
		n := waitCard(t, "VirMIDI", true)
		for i := range nCables {
			theCables = append(theCables, cable{client: fmt.Sprintf("Virtual Raw MIDI %d-%d", n, i),
				port: fmt.Sprintf("VirMIDI %d-%d", n, i), card: n, device: i})
		}
		return theCables
	}
	for i := range nCables {
		product := fmt.Sprintf("JamCable%d", i)
		g := newGadget(t, fmt.Sprintf("cable%d", i), product, fmt.Sprintf("gcable%d", i), fmt.Sprintf("dummy_udc.%d", i+1))
		g.plug(t)
		theCables = append(theCables, cable{client: product, port: product + " MIDI 1",
			card: waitCard(t, g.gadgetID, true), device: 0})
	}
	return theCables
}

// haveVirmidi reports whether the running kernel has snd-virmidi.
func haveVirmidi() bool {
	b, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	dep, _ := os.ReadFile("/lib/modules/" + strings.TrimSpace(string(b)) + "/modules.dep")
	return strings.Contains(string(dep), "/snd-virmidi.ko")
}
