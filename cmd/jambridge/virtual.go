package main

import (
	"math"

	"gitlab.com/gomidi/midi/v2/drivers"
	"gitlab.com/gomidi/midi/v2/drivers/rtmididrv/imported/rtmidi"
)

// virtualClient names the ALSA client (on macOS, the CoreMIDI owner) of
// the virtual ports, so a DAW and `aconnect -l` show "jambridge" rather
// than rtmididrv's "RtMidi Input Client" and "RtMidi Output Client".
const virtualClient = "jambridge"

// OpenVirtualIn creates the input port a DAW sends to.
func (m *systemMIDI) OpenVirtualIn(name string) (drivers.In, error) {
	if err := m.check(); err != nil {
		return nil, err
	}
	in, err := rtmidi.NewMIDIIn(rtmidi.APIUnspecified, virtualClient, 100)
	if err != nil {
		return nil, clean(err)
	}
	if err := in.OpenVirtualPort(name); err != nil {
		return nil, clean(err)
	}
	return &virtualIn{name: name, in: in}, nil
}

// OpenVirtualOut creates the output port a DAW records or plays.
func (m *systemMIDI) OpenVirtualOut(name string) (drivers.Out, error) {
	if err := m.check(); err != nil {
		return nil, err
	}
	out, err := rtmidi.NewMIDIOut(rtmidi.APIUnspecified, virtualClient)
	if err != nil {
		return nil, clean(err)
	}
	if err := out.OpenVirtualPort(name); err != nil {
		return nil, clean(err)
	}
	return &virtualOut{name: name, out: out}, nil
}

// virtualIn is a virtual input port, open from its creation until Close;
// messages reach Listen's callback as they do from rtmididrv's ports.
type virtualIn struct {
	name string
	in   rtmidi.MIDIIn // nil once closed
}

func (v *virtualIn) Open() error             { return nil }
func (v *virtualIn) IsOpen() bool            { return v.in != nil }
func (v *virtualIn) Number() int             { return -1 }
func (v *virtualIn) String() string          { return v.name }
func (v *virtualIn) Underlying() interface{} { return v.in }

func (v *virtualIn) Close() error {
	if v.in == nil {
		return nil
	}
	err := v.in.Close()
	v.in = nil
	return clean(err)
}

func (v *virtualIn) Listen(onMsg func(msg []byte, milliseconds int32), config drivers.ListenConfig) (func(), error) {
	if v.in == nil {
		return nil, drivers.ErrPortClosed
	}
	in := v.in
	if err := in.IgnoreTypes(!config.SysEx, !config.TimeCode, !config.ActiveSense); err != nil {
		return nil, clean(err)
	}
	rd := drivers.NewReader(config, onMsg)
	if err := in.SetCallback(func(_ rtmidi.MIDIIn, b []byte, deltaSeconds float64) {
		rd.EachMessage(b, int32(math.Round(deltaSeconds*1000)))
	}); err != nil {
		return nil, clean(err)
	}
	return func() { in.CancelCallback() }, nil
}

// virtualOut is a virtual output port, open from its creation until Close.
type virtualOut struct {
	name string
	out  rtmidi.MIDIOut // nil once closed
}

func (v *virtualOut) Open() error             { return nil }
func (v *virtualOut) IsOpen() bool            { return v.out != nil }
func (v *virtualOut) Number() int             { return -1 }
func (v *virtualOut) String() string          { return v.name }
func (v *virtualOut) Underlying() interface{} { return v.out }

func (v *virtualOut) Close() error {
	if v.out == nil {
		return nil
	}
	err := v.out.Close()
	v.out = nil
	return clean(err)
}

func (v *virtualOut) Send(b []byte) error {
	if v.out == nil {
		return drivers.ErrPortClosed
	}
	return clean(v.out.SendMessage(b))
}
