package bridge

import (
	"context"
	"log/slog"
	"strconv"
	"time"

	"gitlab.com/gomidi/midi/v2"
	"gitlab.com/gomidi/midi/v2/drivers"

	"github.com/jambridge/jambridge/internal/releasequeue"
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
	// sent marks the keys whose note-on (or pedal down) went to the
	// session and is not yet released: their release is never taken
	// for an echo. Owned by the input loop.
	sent [pedalHold + 16]bool
}

// inMsg is one MIDI message as the port's callback received it.
type inMsg struct {
	port *inPort
	msg  []byte
	at   time.Time
}

// inputQueue carries MIDI messages from the ports' callbacks to the
// input loop; keys are (port, what the message holds).
type inputQueue = releasequeue.Queue[*inPort, holdKey, inMsg]

// Bounds of the input queue. When the input loop is inputQueueSize
// messages behind, the oldest is dropped and counted; note-offs and
// pedal ups are kept apart, coalesced per key (at most
// holdKeysPerSource per port), and never dropped, so the callback never
// blocks the MIDI driver and no note it let through sticks.
const (
	inputQueueSize   = 1024
	maxInputReleases = 16 * holdKeysPerSource
)

// portChange tells the input loop of a port that appeared or vanished.
type portChange struct {
	add  *inPort
	gone string
}

// inputs turns local MIDI into session events. The MIDI callbacks only
// queue messages; one goroutine (run) maps and sends them, so each port's
// held-note table has a single owner.
type inputs struct {
	cfg     Config
	log     *slog.Logger
	stats   *counters
	echo    *echoGuard
	send    Sender
	queue   *inputQueue // bounded; see inputQueueSize for the overflow policy
	changes chan portChange

	ports map[string]*inPort // owned by run
}

func newInputs(cfg Config, stats *counters, echo *echoGuard, send Sender) *inputs {
	return &inputs{
		cfg: cfg, log: cfg.Logger, stats: stats, echo: echo, send: send,
		queue: releasequeue.New[*inPort, holdKey, inMsg](releasequeue.Config{
			Size: inputQueueSize, MaxReleases: maxInputReleases}),
		changes: make(chan portChange),
		ports:   map[string]*inPort{},
	}
}

// listen starts p's callback. It copies each message (drivers may reuse
// the buffer), stamps it with the wall clock (rtmidi's own timestamps
// drift) and queues it without blocking.
func (ins *inputs) listen(p *inPort) error {
	stop, err := p.in.Listen(func(msg []byte, _ int32) {
		m := inMsg{port: p, msg: append([]byte(nil), msg...), at: ins.cfg.Now()}
		kind, key := holdOf(m.msg)
		ins.queue.Push(kind, p, key, m)
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
		case <-ins.queue.Ready():
			if it, ok := ins.queue.Pop(); ok {
				ins.handle(it.Event)
			}
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

// handle maps one message and sends the event. A copy of our own
// output is dropped as an echo, unless it releases a key this port's
// player holds: a release of a note that went out always goes out.
func (ins *inputs) handle(m inMsg) {
	if m.port.gone {
		return
	}
	kind, key := holdOf(m.msg)
	held := kind == releasequeue.Release && m.port.sent[key]
	if !held && ins.echo.isEcho(m.msg, m.at) {
		ins.stats.echoes.Add(1)
		return
	}
	if kind == releasequeue.Release {
		m.port.sent[key] = false
	}
	ev, ok := m.port.mapper.FromMIDI(midi.Message(m.msg), ins.cfg.RelayTime(m.at))
	if !ok {
		return
	}
	if kind == releasequeue.Start {
		m.port.sent[key] = true
	}
	ins.publish(ev)
}

func (ins *inputs) publish(ev mapping.Event) {
	payload, err := ev.Payload()
	if err != nil {
		ins.log.Debug("event not sent", "err", err)
		return
	}
	if err := broadcast(ins.send, ev, payload); err != nil {
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
	ins.queue.Forget(p)
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
		it, ok := ins.queue.Pop()
		if !ok {
			return
		}
		ins.handle(it.Event)
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

// broadcast hands ev to send, through BroadcastHold when send keeps
// releases apart (HoldSender): piano notes and switch pedals hold keys,
// named by channel and key or controller; drum hits end by themselves.
func broadcast(send Sender, ev mapping.Event, payload []byte) error {
	hs, ok := send.(HoldSender)
	if !ok {
		return send.Broadcast(string(ev.Kind), payload)
	}
	var key []byte
	var release bool
	switch {
	case ev.Kind == mapping.PianoNote:
		key = strconv.AppendInt(append(key, "note:"...), int64(ev.Channel), 10)
		key = strconv.AppendInt(append(key, ':'), int64(ev.MIDI), 10)
		release = ev.Velocity == 0
	case ev.Kind == mapping.ControlChange && ev.Controller >= firstSwitchPedal && ev.Controller <= lastSwitchPedal:
		key = strconv.AppendInt(append(key, "pedal:"...), int64(ev.Channel), 10)
		key = strconv.AppendInt(append(key, ':'), int64(ev.Controller), 10)
		release = ev.Value < 64
	default:
		return send.Broadcast(string(ev.Kind), payload)
	}
	return hs.BroadcastHold(string(ev.Kind), payload, string(key), release)
}

// The switch pedals (sustain, portamento, sostenuto, soft, legato, hold
// 2): down at 64 and above, up below.
const (
	firstSwitchPedal = 64
	lastSwitchPedal  = 69
)
