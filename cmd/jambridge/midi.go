package main

import (
	"errors"
	"fmt"
	"math"
	"os"
	"runtime"
	"strings"
	"syscall"
	"unicode"

	"gitlab.com/gomidi/midi/v2/drivers"
	"gitlab.com/gomidi/midi/v2/drivers/rtmididrv"
	"gitlab.com/gomidi/midi/v2/drivers/rtmididrv/imported/rtmidi"
)

// seqDevice is the ALSA sequencer every Linux MIDI program goes through.
const seqDevice = "/dev/snd/seq"

// Errors of the MIDI system, each one sentence saying what to do.
var (
	errNoMIDISystem = errors.New("no MIDI system: " + seqDevice + " is missing, so no MIDI device can be used " +
		"(load the ALSA sequencer with `sudo modprobe snd-seq`, or run on a machine with sound support)")
	errMIDIPermission = errors.New("no access to " + seqDevice + ": add this user to the audio group " +
		"(`sudo usermod -aG audio $USER`) and log in again")
)

// systemMIDI is the machine's MIDI system through rtmidi (ALSA on Linux,
// CoreMIDI on macOS). It checks the ALSA sequencer before every call, so
// a machine without one gets one clear sentence instead of ALSA's noise
// on stderr and rtmidi's garbled error.
type systemMIDI struct {
	drv *rtmididrv.Driver
}

func newSystemMIDI() *systemMIDI {
	drv, _ := rtmididrv.New() // never fails: it only allocates
	return &systemMIDI{drv: drv}
}

// check reports why the MIDI system cannot be used, or nil.
func (m *systemMIDI) check() error {
	if runtime.GOOS != "linux" {
		return nil
	}
	if _, err := os.Stat(seqDevice); err != nil {
		return errNoMIDISystem
	}
	if err := syscall.Access(seqDevice, 0x6 /* R_OK|W_OK */); err != nil {
		return errMIDIPermission
	}
	return nil
}

func (m *systemMIDI) Ins() ([]drivers.In, error) {
	if err := m.check(); err != nil {
		return nil, err
	}
	ins, err := m.drv.Ins()
	for i, in := range ins {
		ins[i] = hardwareIn{in}
	}
	return ins, clean(err)
}

// hardwareIn is an input as rtmididrv lists and opens it, with a Listen
// that has set the callback when it returns. rtmididrv's own sets it from
// a goroutine: a key pressed before that goroutine ran, after the bridge
// said it was listening, waited in rtmidi's queue, which nothing reads.
type hardwareIn struct{ drivers.In }

func (h hardwareIn) Listen(onMsg func(msg []byte, milliseconds int32), config drivers.ListenConfig) (func(), error) {
	in, _ := h.Underlying().(rtmidi.MIDIIn)
	if in == nil {
		return nil, drivers.ErrPortClosed
	}
	return listenRtmidi(in, onMsg, config, func() bool { return !h.IsOpen() })
}

// listenRtmidi makes onMsg in's callback before it returns, so nothing
// that arrives afterwards is missed. The returned stop cancels it, unless
// closed reports the port closed already.
func listenRtmidi(in rtmidi.MIDIIn, onMsg func(msg []byte, milliseconds int32), config drivers.ListenConfig, closed func() bool) (func(), error) {
	if err := in.IgnoreTypes(!config.SysEx, !config.TimeCode, !config.ActiveSense); err != nil {
		return nil, clean(err)
	}
	rd := drivers.NewReader(config, onMsg)
	if err := in.SetCallback(func(_ rtmidi.MIDIIn, b []byte, deltaSeconds float64) {
		rd.EachMessage(b, int32(math.Round(deltaSeconds*1000)))
	}); err != nil {
		return nil, clean(err)
	}
	return func() {
		if !closed() { // after Close the rtmidi object may be gone
			in.CancelCallback()
		}
	}, nil
}

func (m *systemMIDI) Outs() ([]drivers.Out, error) {
	if err := m.check(); err != nil {
		return nil, err
	}
	outs, err := m.drv.Outs()
	return outs, clean(err)
}

func (m *systemMIDI) Close() error { return m.drv.Close() }

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
