// Package miditest provides a MIDI system for tests: ports that a test
// plugs in and Unplugs, plays notes into and reads messages from. It
// implements bridge.Lister, and bridge.VirtualOpener and
// bridge.HotplugNotifier in its VirtualSystem and HotplugSystem.
//
// Like rtmidi's, an Unplugged port only vanishes from the listings; the
// open port itself reports nothing.
//
// Concurrency: every type is safe for concurrent use.
package miditest

import (
	"context"
	"errors"
	"sync"

	"gitlab.com/gomidi/midi/v2/drivers"
)

// System is a MIDI system whose ports the test plugs and Unplugs.
// System is a MIDI system whose ports a test plugs in and unplugs. The
// zero value has no ports.
type System struct {
	mu      sync.Mutex
	ins     []*In
	outs    []*Out
	listErr error
}

// Ins lists the plugged-in inputs, or the error set by SetListErr.
func (f *System) Ins() ([]drivers.In, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.listErr != nil {
		return nil, f.listErr
	}
	out := make([]drivers.In, len(f.ins))
	for i, in := range f.ins {
		out[i] = in
	}
	return out, nil
}

// Outs lists the plugged-in outputs, or the error set by SetListErr.
func (f *System) Outs() ([]drivers.Out, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.listErr != nil {
		return nil, f.listErr
	}
	out := make([]drivers.Out, len(f.outs))
	for i, o := range f.outs {
		out[i] = o
	}
	return out, nil
}

// PlugIn adds an input port.
func (f *System) PlugIn(name string) *In {
	f.mu.Lock()
	defer f.mu.Unlock()
	in := &In{name: name}
	f.ins = append(f.ins, in)
	return in
}

// PlugOut adds an output port; what is sent to it arrives on its Sent
// channel.
func (f *System) PlugOut(name string) *Out {
	f.mu.Lock()
	defer f.mu.Unlock()
	o := &Out{name: name, Sent: make(chan []byte, 4096)}
	f.outs = append(f.outs, o)
	return o
}

// Unplug removes an input from the listings, as the kernel does; like
// rtmidi, the open port itself reports nothing.
func (f *System) Unplug(name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, in := range f.ins {
		if in.name == name {
			f.ins = append(f.ins[:i], f.ins[i+1:]...)
			return
		}
	}
}

// SetListErr makes listings fail with err (nil: work again), as when
// the MIDI system is missing.
func (f *System) SetListErr(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.listErr = err
}

// HotplugSystem is a System that tells the bridge of changes, as the
// kernel's device nodes do on Linux: Notify sends the hint.
type HotplugSystem struct {
	*System
	hints chan struct{}
}

// NewHotplugSystem returns a HotplugSystem with no ports.
func NewHotplugSystem() *HotplugSystem {
	return &HotplugSystem{System: &System{}, hints: make(chan struct{}, 1)}
}

// Hotplug implements bridge.HotplugNotifier.
func (f *HotplugSystem) Hotplug(context.Context) <-chan struct{} { return f.hints }

// Notify tells the bridge something was plugged in or out.
func (f *HotplugSystem) Notify() {
	select {
	case f.hints <- struct{}{}:
	default: // one hint pending is as good as several
	}
}

// VirtualSystem is a System that can open virtual ports.
type VirtualSystem struct {
	*System
	vmu  sync.Mutex
	VIn  *In
	VOut *Out
	fail error
}

// SetVirtualErr makes opening virtual ports fail with err (nil: work).
func (f *VirtualSystem) SetVirtualErr(err error) {
	f.vmu.Lock()
	defer f.vmu.Unlock()
	f.fail = err
}

// OpenVirtualIn creates the virtual input a DAW sends to.
func (f *VirtualSystem) OpenVirtualIn(name string) (drivers.In, error) {
	f.vmu.Lock()
	defer f.vmu.Unlock()
	if f.fail != nil {
		return nil, f.fail
	}
	f.VIn = &In{name: name, open: true}
	return f.VIn, nil
}

// OpenVirtualOut creates the virtual output a DAW listens to.
func (f *VirtualSystem) OpenVirtualOut(name string) (drivers.Out, error) {
	f.vmu.Lock()
	if f.fail != nil {
		defer f.vmu.Unlock()
		return nil, f.fail
	}
	f.VOut = &Out{name: name, open: true, Sent: make(chan []byte, 4096)}
	f.vmu.Unlock()
	// Other programs (and our own listings) see the virtual output as
	// an input port: the bridge must never read it.
	f.PlugIn(name)
	return f.VOut, nil
}

// Ports returns the virtual ports opened so far.
func (f *VirtualSystem) Ports() (*In, *Out) {
	f.vmu.Lock()
	defer f.vmu.Unlock()
	return f.VIn, f.VOut
}

// In is an input port: Play delivers a message to its listener.
type In struct {
	name string

	mu     sync.Mutex
	open   bool
	closed int
	cb     func([]byte, int32)
}

func (p *In) Open() error             { p.mu.Lock(); p.open = true; p.mu.Unlock(); return nil }
func (p *In) IsOpen() bool            { p.mu.Lock(); defer p.mu.Unlock(); return p.open }
func (p *In) Number() int             { return 0 }
func (p *In) String() string          { return p.name }
func (p *In) Underlying() interface{} { return nil }

// Close closes the port.
func (p *In) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.open = false
	p.closed++
	return nil
}

// Listen starts delivering messages to cb; stop ends it.
func (p *In) Listen(cb func([]byte, int32), _ drivers.ListenConfig) (func(), error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.open {
		return nil, errors.New("port not open")
	}
	p.cb = cb
	return func() { p.mu.Lock(); p.cb = nil; p.mu.Unlock() }, nil
}

// Play delivers msg as the driver would; it reports whether anyone was
// Listening.
func (p *In) Play(msg []byte) bool {
	p.mu.Lock()
	cb := p.cb
	p.mu.Unlock()
	if cb == nil {
		return false
	}
	cb(msg, 0)
	return true
}

// Listening reports whether the port is being listened to.
func (p *In) Listening() bool { p.mu.Lock(); defer p.mu.Unlock(); return p.cb != nil }

// Out is an output port: every message sent arrives on Sent.
type Out struct {
	name string
	Sent chan []byte
	// OnSend, when set before the port is used, is called by Send with
	// each message, in the sender's goroutine (benchmarks stamp times).
	OnSend func([]byte)

	mu   sync.Mutex
	open bool
}

func (p *Out) Open() error             { p.mu.Lock(); p.open = true; p.mu.Unlock(); return nil }
func (p *Out) Close() error            { p.mu.Lock(); p.open = false; p.mu.Unlock(); return nil }
func (p *Out) IsOpen() bool            { p.mu.Lock(); defer p.mu.Unlock(); return p.open }
func (p *Out) Number() int             { return 0 }
func (p *Out) String() string          { return p.name }
func (p *Out) Underlying() interface{} { return nil }

// Send records b on Sent; a closed port refuses it.
func (p *Out) Send(b []byte) error {
	if !p.IsOpen() {
		return drivers.ErrPortClosed
	}
	if p.OnSend != nil {
		p.OnSend(b)
		return nil
	}
	p.Sent <- append([]byte(nil), b...)
	return nil
}
