package main

import (
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
		in.Destroy() // frees its ALSA client: the scanner retries, and clients are few (192)
		return nil, clean(err)
	}
	return &virtualIn{virtualPort[rtmidi.MIDIIn]{name: name, port: in}}, nil
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
		out.Destroy()
		return nil, clean(err)
	}
	return &virtualOut{virtualPort[rtmidi.MIDIOut]{name: name, port: out}}, nil
}

// virtualPort is what a virtual input and output share: open from its
// creation until Close.
type virtualPort[P interface{ Close() error }] struct {
	name   string
	port   P
	closed bool
}

func (v *virtualPort[P]) Open() error             { return nil }
func (v *virtualPort[P]) IsOpen() bool            { return !v.closed }
func (v *virtualPort[P]) Number() int             { return -1 }
func (v *virtualPort[P]) String() string          { return v.name }
func (v *virtualPort[P]) Underlying() interface{} { return v.port }

func (v *virtualPort[P]) Close() error {
	if v.closed {
		return nil
	}
	v.closed = true
	return clean(v.port.Close())
}

// virtualIn is a virtual input port; messages reach Listen's callback as
// they do from rtmididrv's ports.
type virtualIn struct{ virtualPort[rtmidi.MIDIIn] }

func (v *virtualIn) Listen(onMsg func(msg []byte, milliseconds int32), config drivers.ListenConfig) (func(), error) {
	if v.closed {
		return nil, drivers.ErrPortClosed
	}
	return listenRtmidi(v.port, onMsg, config, func() bool { return v.closed })
}

// virtualOut is a virtual output port.
type virtualOut struct{ virtualPort[rtmidi.MIDIOut] }

func (v *virtualOut) Send(b []byte) error {
	if v.closed {
		return drivers.ErrPortClosed
	}
	return clean(v.port.SendMessage(b))
}
