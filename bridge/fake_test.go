package bridge_test

import (
	"errors"
	"sync"

	"gitlab.com/gomidi/midi/v2/drivers"
)

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
