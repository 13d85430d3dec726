package rtmidiport

import (
	"math"

	"gitlab.com/gomidi/midi/v2/drivers"
	"gitlab.com/gomidi/midi/v2/drivers/rtmididrv/imported/rtmidi"
)

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
// closed reports the port closed already (after Close the rtmidi object
// may be gone).
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
		if !closed() {
			in.CancelCallback()
		}
	}, nil
}
