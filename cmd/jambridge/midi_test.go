package main

import (
	"testing"

	"gitlab.com/gomidi/midi/v2/drivers"
	"gitlab.com/gomidi/midi/v2/drivers/rtmididrv/imported/rtmidi"
)

// fakeRtIn is the rtmidi input under a port: it keeps the callback that
// rtmidi's input thread would call.
type fakeRtIn struct {
	rtmidi.MIDIIn // methods the test does not expect panic
	cb            func(rtmidi.MIDIIn, []byte, float64)
	cancelled     bool
}

func (f *fakeRtIn) IgnoreTypes(bool, bool, bool) error { return nil }
func (f *fakeRtIn) SetCallback(cb func(rtmidi.MIDIIn, []byte, float64)) error {
	f.cb = cb
	return nil
}
func (f *fakeRtIn) CancelCallback() error { f.cancelled = true; return nil }

// fakeDriverIn is an open port as rtmididrv lists it.
type fakeDriverIn struct {
	drivers.In
	rt *fakeRtIn
}

func (f fakeDriverIn) Underlying() interface{} {
	if f.rt == nil {
		return nil
	}
	return rtmidi.MIDIIn(f.rt)
}
func (f fakeDriverIn) IsOpen() bool { return f.rt != nil }

// When Listen returns, the callback is set: a key pressed right after the
// bridge says it is listening reaches it (rtmididrv's Listen sets the
// callback from a goroutine, later).
func TestHardwareInListensBeforeReturning(t *testing.T) {
	rt := &fakeRtIn{}
	var got [][]byte
	stop, err := hardwareIn{fakeDriverIn{rt: rt}}.Listen(func(msg []byte, _ int32) {
		got = append(got, append([]byte(nil), msg...))
	}, drivers.ListenConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if rt.cb == nil {
		t.Fatal("Listen returned before setting the callback")
	}
	rt.cb(rt, []byte{0x90, 0x41, 0x50}, 0)
	if len(got) != 1 || string(got[0]) != "\x90\x41\x50" {
		t.Errorf("the callback got % X, want [90 41 50]", got)
	}
	stop()
	if !rt.cancelled {
		t.Error("stop did not cancel the callback")
	}
}

// A closed port cannot be listened to.
func TestHardwareInClosedRefusesToListen(t *testing.T) {
	_, err := hardwareIn{fakeDriverIn{}}.Listen(func([]byte, int32) {}, drivers.ListenConfig{})
	if err != drivers.ErrPortClosed {
		t.Errorf("Listen on a closed port: %v, want %v", err, drivers.ErrPortClosed)
	}
}
