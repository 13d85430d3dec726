package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/jambridge/jambridge/bridge"
	"github.com/jambridge/jambridge/mapping"
	"github.com/jambridge/jambridge/relay"
)

func recordCommand() *cli.Command {
	return &cli.Command{
		Name:      "record",
		Usage:     "record a session to a Standard MIDI File, one track per musician, until stopped",
		ArgsUsage: "FILE.mid",
		Flags: toolFlags("recorder", "session to record",
			&cli.BoolFlag{Name: "force", Usage: "replace FILE.mid if it exists"},
			&cli.StringFlag{Name: "timing", Value: "sender", Usage: "place each event at its sender's time (sender: the rhythm as played, without the network's jitter) or at its arrival (arrival)"},
		),
		Action: recordAction,
	}
}

func recordAction(c *cli.Context) error {
	if c.NArg() != 1 {
		return fmt.Errorf("record needs one output file: jambridge record FILE.mid --relay URL --room CODE")
	}
	path := c.Args().First()
	timing, err := bridge.ParseRecordTiming(c.String("timing"))
	if err != nil {
		return fmt.Errorf("--timing: %w", err)
	}
	t, err := setupTool(c)
	if err != nil {
		return err
	}
	// Fail now, not after an hour of music, if the file cannot be written.
	out, err := createRecording(path, c.Bool("force"))
	if err != nil {
		return err
	}
	rec, runErr := recordSession(c.Context, t, timing, path)
	if rec == nil || (runErr != nil && rec.Stats().Events == 0) {
		return runErr // nothing recorded: no file
	}
	if err := out.commit(rec); err != nil {
		return err
	}
	t.log.Info("recorded", "file", path, "timing", timing, "stats", fmt.Sprintf("%+v", rec.Stats()))
	return runErr
}

// recordSession records the session until ctx ends or the session fails
// for good; the Recorder is nil when the session could not even start.
func recordSession(ctx context.Context, t toolSetup, timing bridge.RecordTiming, path string) (*bridge.Recorder, error) {
	var sess *relay.Session
	rec := bridge.NewRecorder(bridge.RecordConfig{
		Rule: mapping.DefaultOutputRule(), Start: time.Now(), Timing: timing,
		RelayTime: func(at time.Time) (float64, bool) { return sess.RelayTime(at), sess.ClockStats().OK },
	})
	sess, err := relay.NewSession(relay.SessionConfig{
		URL: t.relay, TLS: t.tls, Room: t.room, Name: t.name, Secret: t.secret, Token: t.token, Kind: "recorder", JoinOnly: true, Logger: t.log,
		OnEvent: func(b relay.Broadcast) {
			name := participantName(sess, b.SenderID)
			rec.Add(bridge.Remote{SenderID: b.SenderID, EventName: b.EventName, Payload: b.Payload, Received: b.Received}, name)
			t.log.Debug("event", "from", name, "event", b.EventName)
		},
		OnPresence: func(p relay.Presence) {
			switch p.Kind {
			case relay.PresenceLeft:
				rec.Left(p.UserID, time.Now())
			case relay.PresenceConnected:
				t.log.Info("recording", "room", p.Room, "file", path, "timing", timing)
			}
		},
	})
	if err != nil {
		return nil, err
	}
	var watch sync.WaitGroup
	watchCtx, stopWatch := context.WithCancel(ctx)
	if timing == bridge.RecordSender {
		watch.Go(func() { sayWhenSynced(watchCtx, sess, t.log) })
	}
	err = sess.Run(ctx)
	stopWatch()
	watch.Wait()
	return rec, err
}

// clockPoll is how often a tool looks whether its clock estimate is
// ready, until it is.
const clockPoll = 100 * time.Millisecond

// clockReady waits until sess has an estimate of the relay's clock, for
// at most within; false when it has none by then or ctx ended.
func clockReady(ctx context.Context, sess *relay.Session, within time.Duration) bool {
	ctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	tick := time.NewTicker(clockPoll)
	defer tick.Stop()
	for !sess.ClockStats().OK {
		select {
		case <-ctx.Done():
			return false
		case <-tick.C:
		}
	}
	return true
}

// sayWhenSynced logs once when the session's clock estimate is ready:
// from then on events are placed at their senders' time (before, at
// their arrival).
func sayWhenSynced(ctx context.Context, sess *relay.Session, log *slog.Logger) {
	if clockReady(ctx, sess, math.MaxInt64) {
		st := sess.ClockStats()
		log.Info("clock synchronised with the relay: events are placed at their senders' time",
			"offset_ms", fmt.Sprintf("%.2f", st.Offset), "rtt_ms", fmt.Sprintf("%.2f", st.RTT))
	}
}

func participantName(sess *relay.Session, id string) string {
	if sess != nil {
		for _, p := range sess.Participants() {
			if p.ID == id {
				return p.Name
			}
		}
	}
	return id
}

// recording is the file a recording goes to: written to a temporary file
// beside it at the end, then moved into place, so an existing file is
// never left half-written and a recording is never lost on the way. No
// file exists while the recording is in memory, so a daemon killed
// meanwhile (SIGKILL, a power cut) leaves nothing behind.
type recording struct {
	path  string
	force bool // replace path if it exists
}

// createRecording refuses an existing path unless force, and proves the
// directory writable with a temporary file it removes at once.
func createRecording(path string, force bool) (*recording, error) {
	if _, err := os.Lstat(path); err == nil && !force {
		return nil, fmt.Errorf("%s exists: give --force to replace it, or another file name", path)
	}
	probe, err := createTemp(path)
	if err != nil {
		return nil, err
	}
	probe.Close()
	os.Remove(probe.Name())
	return &recording{path: path, force: force}, nil
}

// createTemp makes the hidden temporary file beside path.
func createTemp(path string) (*os.File, error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return nil, fmt.Errorf("cannot write %s: %w", path, withoutPath(err))
	}
	return tmp, nil
}

// commit writes rec to a temporary file and moves it into place. When
// the move fails the temporary file is kept, and the error says where.
func (r *recording) commit(rec *bridge.Recorder) error {
	tmp, err := createTemp(r.path)
	if err != nil {
		return err
	}
	_, err = rec.WriteTo(tmp)
	err = errors.Join(err, tmp.Chmod(0o644), tmp.Sync())
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", r.path, err)
	}
	if err := r.place(tmp.Name()); err != nil {
		return fmt.Errorf("%w; the recording is kept in %s", err, tmp.Name())
	}
	return nil
}

// place moves the written file to r.path: with force it replaces what is
// there; without, it refuses a file that appeared meanwhile.
func (r *recording) place(tmp string) error {
	if r.force {
		return os.Rename(tmp, r.path)
	}
	err := os.Link(tmp, r.path) // fails if r.path exists, atomically
	switch {
	case errors.Is(err, fs.ErrExist):
		return fmt.Errorf("%s appeared while recording: give --force to replace it", r.path)
	case err != nil: // a file system without hard links
		if _, serr := os.Lstat(r.path); serr == nil {
			return fmt.Errorf("%s appeared while recording: give --force to replace it", r.path)
		}
		return os.Rename(tmp, r.path)
	}
	return os.Remove(tmp)
}
