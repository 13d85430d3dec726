package bridge_test

import (
	"errors"
	"sync"

	"gitlab.com/gomidi/midi/v2/drivers"
)

// fakeMIDI is a MIDI system whose ports the test plugs and unplugs.
type fakeMIDI struct {
	mu      sync.Mutex
	ins     []*fakeIn
	outs    []*fakeOut
	listErr error
	virtual bool // can open virtual ports
}

func (f *fakeMIDI) Ins() ([]drivers.In, error) {
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

func (f *fakeMIDI) Outs() ([]drivers.Out, error) {
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

func (f *fakeMIDI) plugIn(name string) *fakeIn {
	f.mu.Lock()
	defer f.mu.Unlock()
	in := &fakeIn{name: name}
	f.ins = append(f.ins, in)
	return in
}

func (f *fakeMIDI) plugOut(name string) *fakeOut {
	f.mu.Lock()
	defer f.mu.Unlock()
	o := &fakeOut{name: name, sent: make(chan []byte, 4096)}
	f.outs = append(f.outs, o)
	return o
}

// unplug removes a port from the listings, as the kernel does; like
// rtmidi, the open port itself reports nothing.
func (f *fakeMIDI) unplug(name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, in := range f.ins {
		if in.name == name {
			f.ins = append(f.ins[:i], f.ins[i+1:]...)
			return
		}
	}
}

func (f *fakeMIDI) setListErr(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.listErr = err
}

// fakeVirtual is a fakeMIDI that can open virtual ports.
type fakeVirtual struct {
	*fakeMIDI
	vmu  sync.Mutex
	vin  *fakeIn
	vout *fakeOut
}

func (f *fakeVirtual) OpenVirtualIn(name string) (drivers.In, error) {
	f.vmu.Lock()
	defer f.vmu.Unlock()
	f.vin = &fakeIn{name: name, open: true}
	return f.vin, nil
}

func (f *fakeVirtual) OpenVirtualOut(name string) (drivers.Out, error) {
	f.vmu.Lock()
	f.vout = &fakeOut{name: name, open: true, sent: make(chan []byte, 4096)}
	f.vmu.Unlock()
	// Other programs (and our own listings) see the virtual output as
	// an input port: the bridge must never read it.
	f.plugIn(name)
	return f.vout, nil
}

func (f *fakeVirtual) ports() (*fakeIn, *fakeOut) {
	f.vmu.Lock()
	defer f.vmu.Unlock()
	return f.vin, f.vout
}

type fakeIn struct {
	name string

	mu     sync.Mutex
	open   bool
	closed int
	cb     func([]byte, int32)
}

func (p *fakeIn) Open() error             { p.mu.Lock(); p.open = true; p.mu.Unlock(); return nil }
func (p *fakeIn) IsOpen() bool            { p.mu.Lock(); defer p.mu.Unlock(); return p.open }
func (p *fakeIn) Number() int             { return 0 }
func (p *fakeIn) String() string          { return p.name }
func (p *fakeIn) Underlying() interface{} { return nil }

func (p *fakeIn) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.open = false
	p.closed++
	return nil
}

func (p *fakeIn) Listen(cb func([]byte, int32), _ drivers.ListenConfig) (func(), error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.open {
		return nil, errors.New("port not open")
	}
	p.cb = cb
	return func() { p.mu.Lock(); p.cb = nil; p.mu.Unlock() }, nil
}

// play delivers msg as the driver would; it reports whether anyone was
// listening.
func (p *fakeIn) play(msg []byte) bool {
	p.mu.Lock()
	cb := p.cb
	p.mu.Unlock()
	if cb == nil {
		return false
	}
	cb(msg, 0)
	return true
}

func (p *fakeIn) listening() bool { p.mu.Lock(); defer p.mu.Unlock(); return p.cb != nil }

type fakeOut struct {
	name string
	sent chan []byte

	mu   sync.Mutex
	open bool
}

func (p *fakeOut) Open() error             { p.mu.Lock(); p.open = true; p.mu.Unlock(); return nil }
func (p *fakeOut) Close() error            { p.mu.Lock(); p.open = false; p.mu.Unlock(); return nil }
func (p *fakeOut) IsOpen() bool            { p.mu.Lock(); defer p.mu.Unlock(); return p.open }
func (p *fakeOut) Number() int             { return 0 }
func (p *fakeOut) String() string          { return p.name }
func (p *fakeOut) Underlying() interface{} { return nil }

func (p *fakeOut) Send(b []byte) error {
	if !p.IsOpen() {
		return drivers.ErrPortClosed
	}
	p.sent <- append([]byte(nil), b...)
	return nil
}

// sentEvent is one event:broadcast the bridge handed to its Sender.
type sentEvent struct {
	name    string
	payload string
}

// fakeSender records what the bridge sends to the session.
type fakeSender struct {
	events chan sentEvent
	mu     sync.Mutex
	down   bool
}

func newSender() *fakeSender { return &fakeSender{events: make(chan sentEvent, 4096)} }

func (s *fakeSender) Broadcast(name string, payload []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down {
		return errors.New("relay unreachable")
	}
	s.events <- sentEvent{name, string(payload)}
	return nil
}

// lockedDriver serialises every call into gomidi's testdrv, whose in and
// out ports share unguarded state (an ALSA sequencer serialises the same
// way). The in port's callback runs inside out.Send, under the lock.
type lockedDriver struct {
	mu  sync.Mutex
	drv drivers.Driver
}

func (d *lockedDriver) Ins() ([]drivers.In, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	ins, err := d.drv.Ins()
	for i, in := range ins {
		ins[i] = &lockedIn{In: in, mu: &d.mu}
	}
	return ins, err
}

func (d *lockedDriver) Outs() ([]drivers.Out, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	outs, err := d.drv.Outs()
	for i, o := range outs {
		outs[i] = &lockedOut{Out: o, mu: &d.mu}
	}
	return outs, err
}

type lockedIn struct {
	drivers.In
	mu *sync.Mutex
}

func (p *lockedIn) Open() error  { p.mu.Lock(); defer p.mu.Unlock(); return p.In.Open() }
func (p *lockedIn) Close() error { p.mu.Lock(); defer p.mu.Unlock(); return p.In.Close() }
func (p *lockedIn) IsOpen() bool { p.mu.Lock(); defer p.mu.Unlock(); return p.In.IsOpen() }
func (p *lockedIn) Listen(cb func([]byte, int32), c drivers.ListenConfig) (func(), error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	stop, err := p.In.Listen(cb, c)
	if err != nil {
		return nil, err
	}
	return func() { p.mu.Lock(); defer p.mu.Unlock(); stop() }, nil
}

type lockedOut struct {
	drivers.Out
	mu *sync.Mutex
}

func (p *lockedOut) Open() error         { p.mu.Lock(); defer p.mu.Unlock(); return p.Out.Open() }
func (p *lockedOut) Close() error        { p.mu.Lock(); defer p.mu.Unlock(); return p.Out.Close() }
func (p *lockedOut) IsOpen() bool        { p.mu.Lock(); defer p.mu.Unlock(); return p.Out.IsOpen() }
func (p *lockedOut) Send(b []byte) error { p.mu.Lock(); defer p.mu.Unlock(); return p.Out.Send(b) }
