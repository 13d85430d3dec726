package bridge

import (
	"context"
	"fmt"
	"sync"
)

// Bridge connects local MIDI ports to a jam session: local notes go out
// through a Sender, remote events come in through Remote, Left and
// ReleaseAll and play on the output ports.
type Bridge struct {
	cfg     Config
	lister  Lister
	stats   counters
	echo    *echoGuard
	player  *player
	inputs  *inputs
	scanner *scanner
	done    chan struct{} // closed when Run has returned
}

// New returns a Bridge reading and playing the ports of lister and
// sending local events to send.
func New(cfg Config, lister Lister, send Sender) (*Bridge, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("bridge config: %w", err)
	}
	cfg = cfg.withDefaults()
	b := &Bridge{cfg: cfg, lister: lister, done: make(chan struct{})}
	b.echo = newEchoGuard(cfg.EchoWindow)
	b.player = newPlayer(cfg, &b.stats, b.echo)
	b.inputs = newInputs(cfg, &b.stats, b.echo, send)
	b.scanner = newScanner(cfg, lister, b.inputs, b.player)
	return b, nil
}

// Run bridges until ctx ends, then shuts down in order: stop listening to
// MIDI, release every held note (local ones to the session, remote ones
// on the outputs), close the ports. The caller closes the relay
// connection after Run returns.
func (b *Bridge) Run(ctx context.Context) error {
	defer close(b.done)
	var wg sync.WaitGroup
	loops, stopLoops := context.WithCancel(context.Background())
	wg.Add(2)
	go func() { defer wg.Done(); b.inputs.run(loops) }()
	go func() { defer wg.Done(); b.player.run(loops) }()
	b.scanner.run(ctx) // returns when ctx ends; it also opens the virtual ports
	stopLoops()
	wg.Wait()
	return nil
}

// Remote plays an event from another participant. It never blocks: when
// the player is 1024 events behind, the new event is dropped and counted
// (it would sound too late anyway).
func (b *Bridge) Remote(r Remote) {
	select {
	case b.player.cmds <- playerCmd{remote: &r}:
	default:
		b.stats.remoteDropped.Add(1)
	}
}

// Left releases everything the participant holds. Releases are never
// dropped: it waits for room in the player's queue, or for Run to end.
func (b *Bridge) Left(userID string) { b.command(playerCmd{left: userID}) }

// ReleaseAll releases every remote note, as when the relay connection
// drops.
func (b *Bridge) ReleaseAll() { b.command(playerCmd{all: true}) }

func (b *Bridge) command(c playerCmd) {
	select {
	case b.player.cmds <- c:
	case <-b.done:
	}
}
