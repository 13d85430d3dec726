package bridge

import (
	"context"
	"log/slog"
	"time"

	"gitlab.com/gomidi/midi/v2"
	"gitlab.com/gomidi/midi/v2/drivers"

	"github.com/jambridge/jambridge/mapping"
)

// inPort is one open input port. The scanner opens it and hands it to
// the input loop, which owns it from then on.
type inPort struct {
	key    string // name, with "#2" etc. for same-named ports
	in     drivers.In
	stop   func()
	mapper *mapping.Input // owned by the input loop
	gone   bool           // closed: late messages are ignored
}

// inMsg is one MIDI message as the port's callback received it.
type inMsg struct {
	port *inPort
	msg  []byte
	at   time.Time
}

// portChange tells the input loop of a port that appeared or vanished.
type portChange struct {
	add  *inPort
	gone string
}

// inputs turns local MIDI into session events. The MIDI callbacks only
// queue messages; one goroutine (run) maps and sends them, so each port's
// held-note table has a single owner.
type inputs struct {
	cfg   Config
	log   *slog.Logger
	stats *counters
	echo  *echoGuard
	send  Sender
	// msgs is bounded: when the loop is 1024 messages behind, the
	// callback drops the new message and counts it, never blocking the
	// MIDI driver's thread.
	msgs    chan inMsg
	changes chan portChange

	ports map[string]*inPort // owned by run
}

func newInputs(cfg Config, stats *counters, echo *echoGuard, send Sender) *inputs {
	return &inputs{
		cfg: cfg, log: cfg.Logger, stats: stats, echo: echo, send: send,
		msgs:    make(chan inMsg, 1024),
		changes: make(chan portChange),
		ports:   map[string]*inPort{},
	}
}

// listen starts p's callback. It copies each message (drivers may reuse
// the buffer) and stamps it with the wall clock (rtmidi's own timestamps
// drift).
func (ins *inputs) listen(p *inPort) error {
	stop, err := p.in.Listen(func(msg []byte, _ int32) {
		m := inMsg{port: p, msg: append([]byte(nil), msg...), at: ins.cfg.Now()}
		select {
		case ins.msgs <- m:
		default:
			ins.stats.inputDropped.Add(1)
		}
	}, drivers.ListenConfig{})
	if err != nil {
		return err
	}
	p.stop = stop
	return nil
}

func (ins *inputs) run(ctx context.Context) {
	for {
		select {
		case m := <-ins.msgs:
			ins.handle(m)
		case c := <-ins.changes:
			if c.add != nil {
				ins.ports[c.add.key] = c.add
				ins.stats.inputs.Add(1)
				ins.log.Info("listening to MIDI input", "port", c.add.key)
			} else {
				ins.closePort(ins.ports[c.gone], "unplugged")
			}
		case <-ctx.Done():
			ins.shutdown()
			return
		}
	}
}

func (ins *inputs) handle(m inMsg) {
	if m.port.gone {
		return
	}
	if ins.echo.isEcho(m.msg, m.at) {
		ins.stats.echoes.Add(1)
		return
	}
	ev, ok := m.port.mapper.FromMIDI(midi.Message(m.msg), ins.cfg.RelayTime(m.at))
	if ok {
		ins.publish(ev)
	}
}

func (ins *inputs) publish(ev mapping.Event) {
	payload, err := ev.Payload()
	if err != nil {
		ins.log.Debug("event not sent", "err", err)
		return
	}
	if err := ins.send.Broadcast(string(ev.Kind), payload); err != nil {
		ins.stats.sendDropped.Add(1) // the sender says why, once per outage
		return
	}
	ins.stats.sent.Add(1)
}

// closePort stops listening to p, handles what it had already sent, and
// tells the session to release the notes it still held: a keyboard pulled
// out mid-chord leaves nothing sounding elsewhere.
func (ins *inputs) closePort(p *inPort, why string) {
	if p == nil || p.gone {
		return
	}
	if p.stop != nil {
		p.stop()
	}
	ins.drain()
	p.gone = true
	for _, ev := range p.mapper.Release(ins.cfg.RelayTime(ins.cfg.Now())) {
		ins.publish(ev)
	}
	p.in.Close()
	delete(ins.ports, p.key)
	ins.stats.inputs.Add(-1)
	ins.log.Info("MIDI input closed", "port", p.key, "reason", why)
}

// drain handles every message already queued.
func (ins *inputs) drain() {
	for {
		select {
		case m := <-ins.msgs:
			ins.handle(m)
		default:
			return
		}
	}
}

// shutdown stops listening everywhere first, then releases and closes.
func (ins *inputs) shutdown() {
	for _, p := range ins.ports {
		if p.stop != nil {
			p.stop()
			p.stop = nil
		}
	}
	for _, p := range ins.ports {
		ins.closePort(p, "shutdown")
	}
}

func unixMillis(t time.Time) float64 { return float64(t.UnixMicro()) / 1000 }
