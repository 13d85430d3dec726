package main

import (
	"crypto/tls"
	"fmt"
	"log/slog"

	"github.com/urfave/cli/v2"
)

// toolFlags are the flags of the commands that join a session as a tool
// rather than as a musician: monitor, play and record.
func toolFlags(defaultName, roomUsage string, extra ...cli.Flag) []cli.Flag {
	flags := []cli.Flag{
		configFlag(),
		relayFlag("relay of the session, e.g. http://192.168.1.20:3001"),
		caFlag(),
		roomFlag(roomUsage),
		&cli.StringFlag{Name: "name", Value: defaultName, EnvVars: []string{"JAMBRIDGE_NAME"}, Usage: "your name in the session"},
	}
	flags = append(flags, accessFlags()...)
	return append(append(flags, extra...), logFlags()...)
}

// toolSetup is what a tool command needs to join its session.
type toolSetup struct {
	log   *slog.Logger
	relay string
	tls   *tls.Config // nil: the system's roots
	room  string
	name  string
	// secret and token go with the join: a private session's secret,
	// the relay's access token.
	secret, token string
}

// setupTool reads a tool command's settings; relay and room are required.
func setupTool(c *cli.Context) (toolSetup, error) {
	st, err := loadSettings(c)
	if err != nil {
		return toolSetup{}, err
	}
	log, err := st.logger()
	if err != nil {
		return toolSetup{}, err
	}
	t := toolSetup{log: log, relay: st.str("relay", st.file.Relay), room: st.str("room", st.file.Room), name: c.String("name")}
	t.secret, t.token = st.access()
	if t.tls, err = relayTLS(st); err != nil {
		return t, err
	}
	if t.relay == "" || t.room == "" {
		return t, fmt.Errorf("%s needs --relay URL and --room CODE", c.Command.Name)
	}
	return t, checkRoom(st, t.room)
}
