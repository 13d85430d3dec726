package bridge

import (
	"context"
	"fmt"
	"sync"

	"github.com/jambridge/jambridge/internal/releasequeue"
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

// Remote plays an event from another participant. It never blocks: it
// is called on the relay client's reader goroutine. When the player is
// remoteQueueSize events behind, the oldest queued event is dropped and
// counted (it would sound too late anyway); a release (note-off, pedal
// up) is never dropped, and is skipped only when the note it ends was
// itself dropped, never sounded.
func (b *Bridge) Remote(r Remote) {
	e, ok := b.player.prepare(r)
	if !ok {
		return
	}
	kind, key := holdOf(e.msgs[0])
	b.player.queue.Push(kind, r.SenderID, key, e)
}

// Left releases everything the participant holds. It never blocks and is
// never dropped: the release waits in the player's queue, after the
// participant's last event.
func (b *Bridge) Left(userID string) {
	b.player.queue.Push(releasequeue.ReleaseGroup, userID, 0, remoteEvent{})
}

// ReleaseAll releases every remote note, as when the relay connection
// drops. Like Left, it never blocks and is never dropped.
func (b *Bridge) ReleaseAll() {
	b.player.queue.Push(releasequeue.ReleaseAll, "", 0, remoteEvent{})
}
