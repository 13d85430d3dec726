package rtmidiport

import (
	"fmt"

	"gitlab.com/gomidi/midi/v2/drivers"
	"gitlab.com/gomidi/midi/v2/drivers/rtmididrv/imported/rtmidi"
)

// rtmididrv opens a port by its position in the list it made when it
// listed the ports. A device plugged in or out between the listing and
// the Open shifts the positions, and rtmidi then connects to whatever
// port sits there now: a drum pad's events read as the keyboard's, or
// the synth's notes sent to the wrong instrument. After the Open, the
// name at that position is checked again; on a mismatch the port is
// closed and Open fails, and the bridge's next scan (which the hotplug
// that moved the ports triggers) opens the right one.

// namer reads the name of the port at a position in the current list:
// rtmidi's MIDIIn and MIDIOut both do.
type namer interface {
	PortName(port int) (string, error)
}

// openChecked opens p and checks that the port it connected to still
// has the name p was listed with.
func openChecked(p drivers.Port) error {
	if err := p.Open(); err != nil {
		return err
	}
	n, _ := p.Underlying().(namer)
	if n == nil {
		return nil // not an rtmidi port: nothing to check against
	}
	now, err := n.PortName(p.Number())
	if err == nil && now == p.String() {
		return nil
	}
	p.Close()
	if err != nil {
		return fmt.Errorf("MIDI port %q moved while it was opened (the port list changed): %w", p.String(), clean(err))
	}
	return fmt.Errorf("MIDI port %q moved while it was opened (position %d is now %q): the next scan opens it again", p.String(), p.Number(), now)
}

// Open of an input checks the name it connected to.
func (h hardwareIn) Open() error { return openChecked(h.In) }

// hardwareOut is an output as rtmididrv lists it, whose Open checks the
// name it connected to.
type hardwareOut struct{ drivers.Out }

func (h hardwareOut) Open() error { return openChecked(h.Out) }

// The rtmidi types satisfy namer: the check runs on real ports.
var (
	_ namer = rtmidi.MIDIIn(nil)
	_ namer = rtmidi.MIDIOut(nil)
)
