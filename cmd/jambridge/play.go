package main

import (
	"context"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/jambridge/jambridge/bridge"
	"github.com/jambridge/jambridge/mapping"
	"github.com/jambridge/jambridge/relay"
)

func playCommand() *cli.Command {
	return &cli.Command{
		Name:      "play",
		Usage:     "perform a Standard MIDI File into a session in real time",
		ArgsUsage: "FILE.mid",
		Flags:     toolFlags("player", "session to play into (created when it does not exist)"),
		Action:    playAction,
	}
}

// clockWait bounds how long play waits for the session's clock estimate
// (about a second of clock:sync) before the first note, so that every
// note is stamped in relay time.
const clockWait = 5 * time.Second

func playAction(c *cli.Context) error {
	if c.NArg() != 1 {
		return fmt.Errorf("play needs one MIDI file: jambridge play FILE.mid --relay URL --room CODE")
	}
	t, err := setupTool(c)
	if err != nil {
		return err
	}
	log := t.log
	f, err := os.Open(c.Args().First())
	if err != nil {
		return err
	}
	perf, err := bridge.LoadPerformance(f)
	f.Close()
	if err != nil {
		return fmt.Errorf("%s: %w", c.Args().First(), err)
	}
	joined := make(chan struct{})
	var once sync.Once
	sess, err := relay.NewSession(relay.SessionConfig{
		URL: t.relay, TLS: t.tls, Room: t.room, Name: t.name, Secret: t.secret, Token: t.token, Kind: "player", Logger: log,
		OnPresence: func(p relay.Presence) {
			if p.Kind == relay.PresenceConnected {
				once.Do(func() { close(joined) })
			}
		},
	})
	if err != nil {
		return err
	}
	return withSession(c.Context, sess, joined, func(ctx context.Context) error {
		if !clockReady(ctx, sess, clockWait) && ctx.Err() == nil {
			log.Warn("the relay's clock is not known: the notes are stamped with this machine's clock", "after", clockWait)
		}
		log.Info("playing", "file", c.Args().First(), "events", len(perf.Events), "length", perf.Length)
		stats, err := bridge.Perform(ctx, perf, mapping.DefaultInputRule(), sess, relayClock{sess})
		log.Info("played", "stats", fmt.Sprintf("%+v", stats))
		return err
	})
}

// withSession runs sess, calls f once joined, and leaves when f returns
// (or ctx ends). A session that fails before joining returns its error.
func withSession(ctx context.Context, sess *relay.Session, joined <-chan struct{}, f func(context.Context) error) error {
	sessCtx, stop := context.WithCancel(context.Background())
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- sess.Run(sessCtx) }()
	select {
	case <-joined:
	case err := <-errc:
		return err
	case <-ctx.Done():
		stop()
		return <-errc
	}
	ferr := f(ctx)
	stop()
	if err := <-errc; err != nil {
		return err
	}
	if ferr == context.Canceled {
		return nil
	}
	return ferr
}

// relayClock is the real clock read in the session's time, so a played
// file is stamped like live input; sleeps are relative, so the shift is
// harmless to the timing of the performance.
type relayClock struct{ sess *relay.Session }

func (c relayClock) Now() time.Time {
	return mapping.TimeOfUnixMillis(c.sess.RelayTime(time.Now()))
}

func (c relayClock) Sleep(ctx context.Context, d time.Duration) error {
	return bridge.RealClock{}.Sleep(ctx, d)
}
