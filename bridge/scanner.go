package bridge

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"gitlab.com/gomidi/midi/v2/drivers"

	"github.com/jambridge/jambridge/mapping"
)

// scanner lists the MIDI ports on a timer and on hotplug hints, opens the
// inputs and the output the config selects, and hands them to their
// owners: inputs to the input loop, outputs to the player. Owned by its
// run goroutine.
type scanner struct {
	cfg    Config
	log    *slog.Logger
	lister Lister
	inputs *inputs
	player *player

	ins     map[string]bool // keys handed to the input loop
	outs    map[string]bool // names handed to the player
	lastErr string          // the listing error last logged

	virtual virtualState
}

// virtualState is how far the virtual ports got: they are opened once the
// MIDI system answers (a box may start jambridge before its sound
// modules load), and retried at each look until they are.
type virtualState struct {
	in, out       bool   // opened and handed over
	inErr, outErr string // the failure last logged for each, so it is said once
}

func newScanner(cfg Config, lister Lister, ins *inputs, pl *player) *scanner {
	return &scanner{cfg: cfg, log: cfg.Logger, lister: lister, inputs: ins, player: pl,
		ins: map[string]bool{}, outs: map[string]bool{}}
}

// After a hotplug hint the scanner waits hotplugSettle for the device's
// other nodes, looks, and looks again hotplugRecheck later: a card's
// sequencer port can come a moment after its device node.
const (
	hotplugSettle  = 50 * time.Millisecond
	hotplugRecheck = 300 * time.Millisecond
)

func (s *scanner) run(ctx context.Context) {
	ticker := time.NewTicker(s.cfg.Rescan)
	defer ticker.Stop()
	var hints <-chan struct{}
	if h, ok := s.lister.(HotplugNotifier); ok {
		hints = h.Hotplug(ctx)
	}
	var recheck <-chan time.Time
	for {
		s.scanInputs(ctx)
		s.scanOutputs(ctx)
		if s.cfg.Virtual && s.lastErr == "" && ctx.Err() == nil {
			s.openVirtual(ctx)
		}
		s.inputs.stats.scans.Add(1)
		select {
		case <-ticker.C:
		case _, ok := <-hints:
			if !ok {
				hints = nil // the watch ended: the ticker goes on
				continue
			}
			select {
			case <-time.After(hotplugSettle):
			case <-ctx.Done():
				return
			}
			recheck = time.After(hotplugRecheck)
		case <-recheck:
			recheck = nil
		case <-ctx.Done():
			return
		}
	}
}

// report logs a listing error when it changes, so a missing MIDI system
// is said once, not every second.
func (s *scanner) report(err error) {
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	if msg == s.lastErr {
		return
	}
	if err != nil {
		s.log.Warn(msg)
	} else {
		s.log.Info("MIDI system available")
	}
	s.lastErr = msg
}

// portKeys names ports uniquely: two identical keyboards become "Name"
// and "Name#2".
func portKeys(names []string) []string {
	seen := map[string]int{}
	keys := make([]string, len(names))
	for i, n := range names {
		seen[n]++
		keys[i] = n
		if seen[n] > 1 {
			keys[i] = fmt.Sprintf("%s#%d", n, seen[n])
		}
	}
	return keys
}

func (s *scanner) scanInputs(ctx context.Context) {
	list, err := s.lister.Ins()
	s.report(err)
	if err != nil {
		return
	}
	names := make([]string, len(list))
	for i, in := range list {
		names[i] = in.String()
	}
	present := map[string]bool{}
	for i, key := range portKeys(names) {
		present[key] = true
		if s.ins[key] {
			continue
		}
		rule, ok := s.cfg.ruleFor(names[i])
		if !ok {
			continue
		}
		if p := s.openIn(list[i], key, rule); p != nil && s.hand(ctx, portChange{add: p}) {
			s.ins[key] = true
		}
	}
	for key := range s.ins {
		if !present[key] && s.hand(ctx, portChange{gone: key}) {
			delete(s.ins, key)
		}
	}
}

// openIn opens and starts listening to one input; nil when it fails.
func (s *scanner) openIn(in drivers.In, key string, rule mapping.InputRule) *inPort {
	if err := in.Open(); err != nil {
		s.log.Warn("cannot open MIDI input", "port", key, "err", err)
		return nil
	}
	p, err := s.listenTo(in, key, rule)
	if err != nil {
		s.log.Warn("cannot listen to MIDI input", "port", key, "err", err)
		return nil
	}
	return p
}

// listenTo starts listening to an open input with its rule (rules were
// checked by Config.Validate); on failure the input is closed.
func (s *scanner) listenTo(in drivers.In, key string, rule mapping.InputRule) (*inPort, error) {
	mapper, err := mapping.NewInput(rule)
	if err == nil {
		p := &inPort{key: key, in: in, mapper: mapper}
		if err = s.inputs.listen(p); err == nil {
			return p, nil
		}
	}
	in.Close()
	return nil, err
}

func (s *scanner) hand(ctx context.Context, c portChange) bool {
	select {
	case s.inputs.changes <- c:
		return true
	case <-ctx.Done():
		if c.add != nil {
			c.add.stop()
			c.add.in.Close()
		}
		return false
	}
}

func (s *scanner) scanOutputs(ctx context.Context) {
	if s.cfg.Output.Empty() {
		return
	}
	list, err := s.lister.Outs()
	if err != nil {
		return // reported by scanInputs
	}
	present := map[string]bool{}
	for _, out := range list {
		name := out.String()
		present[name] = true
		if s.outs[name] || !s.cfg.Output.Matches(name) || s.cfg.ownPort(name) {
			continue
		}
		if err := out.Open(); err != nil {
			s.log.Warn("cannot open MIDI output", "port", name, "err", err)
			continue
		}
		if s.toPlayer(ctx, playerCmd{addOut: out}) {
			s.outs[name] = true
		}
	}
	for name := range s.outs {
		if !present[name] && s.toPlayer(ctx, playerCmd{dropOut: name}) {
			delete(s.outs, name)
		}
	}
}

func (s *scanner) toPlayer(ctx context.Context, c playerCmd) bool {
	select {
	case s.player.cmds <- c:
		return true
	case <-ctx.Done():
		if c.addOut != nil {
			c.addOut.Close()
		}
		return false
	}
}

// openVirtual creates whichever virtual port a DAW connects to is not
// open yet.
func (s *scanner) openVirtual(ctx context.Context) {
	v := &s.virtual
	if v.in && v.out {
		return
	}
	vo, ok := s.lister.(VirtualOpener)
	if !ok {
		s.virtualFailed(&v.inErr, ErrNoVirtualPorts.Error())
		v.in, v.out = true, true // nothing to retry
		return
	}
	if !v.in {
		in, err := vo.OpenVirtualIn(s.cfg.VirtualName + " in")
		if err == nil {
			var p *inPort
			// Not in the scanner's list of ports: no rescan closes it.
			if p, err = s.listenTo(in, in.String(), s.cfg.VirtualRule); err == nil && s.hand(ctx, portChange{add: p}) {
				v.in = true
				s.log.Info("virtual MIDI input ready: send to it from your DAW", "port", in.String())
			}
		}
		if err != nil {
			s.virtualFailed(&v.inErr, fmt.Sprintf("cannot create the virtual MIDI input: %v", err))
		}
	}
	if !v.out {
		out, err := vo.OpenVirtualOut(s.cfg.VirtualName + " out")
		if err != nil {
			s.virtualFailed(&v.outErr, fmt.Sprintf("cannot create the virtual MIDI output: %v", err))
		} else if s.toPlayer(ctx, playerCmd{addOut: out}) {
			v.out = true
		}
	}
}

// virtualFailed logs why a virtual port is missing, once per reason:
// last is the port's last logged reason.
func (s *scanner) virtualFailed(last *string, msg string) {
	if msg != *last {
		s.log.Warn(msg)
		*last = msg
	}
}
