package rtmidiport

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"syscall"
	"unicode"

	"gitlab.com/gomidi/midi/v2/drivers"
	"gitlab.com/gomidi/midi/v2/drivers/rtmididrv"
)

// SeqDevice is the ALSA sequencer every Linux MIDI program goes through.
const SeqDevice = "/dev/snd/seq"

// Errors of the MIDI system, each one sentence saying what to do.
var (
	ErrNoMIDISystem = errors.New("no MIDI system: " + SeqDevice + " is missing, so no MIDI device can be used " +
		"(load the ALSA sequencer with `sudo modprobe snd-seq`, or run on a machine with sound support)")
	ErrPermission = errors.New("no access to " + SeqDevice + ": add this user to the audio group " +
		"(`sudo usermod -aG audio $USER`) and log in again")
)

// System is the machine's MIDI system through rtmidi (ALSA on Linux,
// CoreMIDI on macOS). It checks the ALSA sequencer before every call, so
// a machine without one gets one clear sentence instead of ALSA's noise
// on stderr and rtmidi's garbled error. It satisfies bridge.Lister,
// bridge.HotplugNotifier and bridge.VirtualOpener.
type System struct {
	drv *rtmididrv.Driver
}

// New returns the machine's MIDI system. It opens nothing: each Ins and
// Outs opens an ALSA client of its own (so list on a timer, not in a loop).
func New() *System {
	drv, _ := rtmididrv.New() // never fails: it only allocates
	return &System{drv: drv}
}

// Check reports why the MIDI system cannot be used (ErrNoMIDISystem,
// ErrPermission), or nil.
func (m *System) Check() error {
	if runtime.GOOS != "linux" {
		return nil
	}
	if _, err := os.Stat(SeqDevice); err != nil {
		return ErrNoMIDISystem
	}
	if err := syscall.Access(SeqDevice, 0x6 /* R_OK|W_OK */); err != nil {
		return ErrPermission
	}
	return nil
}

// Ins lists the input ports.
func (m *System) Ins() ([]drivers.In, error) {
	if err := m.Check(); err != nil {
		return nil, err
	}
	ins, err := m.drv.Ins()
	for i, in := range ins {
		ins[i] = hardwareIn{in}
	}
	return ins, clean(err)
}

// Outs lists the output ports.
func (m *System) Outs() ([]drivers.Out, error) {
	if err := m.Check(); err != nil {
		return nil, err
	}
	outs, err := m.drv.Outs()
	for i, out := range outs {
		outs[i] = hardwareOut{out}
	}
	return outs, clean(err)
}

// Close frees the driver and the ports it opened.
func (m *System) Close() error { return m.drv.Close() }

// clean turns rtmidi's error, whose C message often arrives garbled, into
// readable text.
func clean(err error) error {
	if err == nil {
		return nil
	}
	msg := strings.Map(func(r rune) rune {
		if r == unicode.ReplacementChar || !unicode.IsPrint(r) {
			return -1
		}
		return r
	}, err.Error())
	return fmt.Errorf("the MIDI system failed: %s", strings.TrimRight(strings.TrimSpace(msg), ":"))
}
