package main

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
	return ins, clean(err)
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
