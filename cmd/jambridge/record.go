package main

import (
	"fmt"
	"os"
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
		Flags:     toolFlags("recorder", "session to record"),
		Action:    recordAction,
	}
}

func recordAction(c *cli.Context) error {
	if c.NArg() != 1 {
		return fmt.Errorf("record needs one output file: jambridge record FILE.mid --relay URL --room CODE")
	}
	path := c.Args().First()
	t, err := setupTool(c)
	if err != nil {
		return err
	}
	log := t.log
	// Fail now, not after an hour of music, if the file cannot be written.
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	rec := bridge.NewRecorder(mapping.DefaultOutputRule(), time.Now())
	var sess *relay.Session
	sess, err = relay.NewSession(relay.SessionConfig{
		URL: t.relay, Room: t.room, Name: t.name, Kind: "recorder", JoinOnly: true, Logger: log,
		OnEvent: func(b relay.Broadcast) {
			rec.Add(bridge.Remote{SenderID: b.SenderID, EventName: b.EventName, Payload: b.Payload, Received: b.Received}, participantName(sess, b.SenderID))
		},
		OnPresence: func(p relay.Presence) {
			switch p.Kind {
			case relay.PresenceLeft:
				rec.Left(p.UserID, time.Now())
			case relay.PresenceConnected:
				log.Info("recording", "room", p.Room, "file", path)
			}
		},
	})
	if err != nil {
		f.Close()
		return err
	}
	runErr := sess.Run(c.Context)
	_, werr := rec.WriteTo(f)
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return fmt.Errorf("write %s: %w", path, werr)
	}
	log.Info("recorded", "file", path, "stats", fmt.Sprintf("%+v", rec.Stats()))
	return runErr
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
