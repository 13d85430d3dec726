package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/jambridge/jambridge/cmd/internal/logging"
)

// version is set by the linker: -X main.version=...
var version = "dev"

func newApp() *cli.App {
	return &cli.App{
		Name: "jambridge",
		// A port pattern such as /Key{1,2}/ holds commas: repeat --in
		// for several patterns instead.
		DisableSliceFlagSeparator: true,
		Usage:                     "play together over the network with the MIDI gear you own",
		Version:                   version,
		Commands: []*cli.Command{
			runCommand(),
			portsCommand(),
			monitorCommand(),
			playCommand(),
			recordCommand(),
			{
				Name:  "version",
				Usage: "print the version",
				Action: func(c *cli.Context) error {
					fmt.Fprintln(c.App.Writer, "jambridge", version)
					return nil
				},
			},
		},
	}
}

// Flags shared by several commands. Each is also an environment variable
// JAMBRIDGE_<NAME> and a key of the --config file.
func configFlag() cli.Flag {
	return &cli.StringFlag{Name: "config", EnvVars: []string{"JAMBRIDGE_CONFIG"}, Usage: "YAML config file (keys are the flag names)"}
}

func relayFlag(usage string) cli.Flag {
	return &cli.StringFlag{Name: "relay", EnvVars: []string{"JAMBRIDGE_RELAY"}, Usage: usage}
}

func roomFlag(usage string) cli.Flag {
	return &cli.StringFlag{Name: "room", EnvVars: []string{"JAMBRIDGE_ROOM"}, Usage: usage}
}

func nameFlag() cli.Flag {
	host, _ := os.Hostname()
	return &cli.StringFlag{Name: "name", Value: host, EnvVars: []string{"JAMBRIDGE_NAME"}, Usage: "your name in the session"}
}

// accessFlags are the flags of a private session and of a relay that
// wants access tokens.
func accessFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "secret", EnvVars: []string{"JAMBRIDGE_SECRET"}, Usage: "the session's secret: a session created with it is private, and joining a private one needs it"},
		&cli.StringFlag{Name: "token", EnvVars: []string{"JAMBRIDGE_TOKEN"}, Usage: "access token for a relay that wants one (from `jamrelay token`)"},
	}
}

// access returns the secret and token settings.
func (s settings) access() (secret, token string) {
	return s.str("secret", s.file.Secret), s.str("token", s.file.Token)
}

func logFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "log-level", Value: "info", EnvVars: []string{"JAMBRIDGE_LOG_LEVEL"}, Usage: "debug, info, warn or error"},
		&cli.StringFlag{Name: "log-format", Value: "text", EnvVars: []string{"JAMBRIDGE_LOG_FORMAT"}, Usage: "text or json"},
	}
}

// settings are a command's flags, merged: a flag or environment variable
// wins over the config file, which wins over the flag's default.
type settings struct {
	file fileConfig
	c    *cli.Context
}

func loadSettings(c *cli.Context) (settings, error) {
	s := settings{c: c}
	if path := c.String("config"); path != "" {
		fc, err := loadFile(path)
		if err != nil {
			return s, err
		}
		s.file = fc
	}
	return s, nil
}

// str returns a string setting.
func (s settings) str(name, fromFile string) string {
	if s.c.IsSet(name) || fromFile == "" {
		return s.c.String(name)
	}
	return fromFile
}

func (s settings) boolean(name string, fromFile bool) bool {
	if s.c.IsSet(name) {
		return s.c.Bool(name)
	}
	return fromFile || s.c.Bool(name)
}

func (s settings) list(name string, fromFile []string) []string {
	if s.c.IsSet(name) || len(fromFile) == 0 {
		return s.c.StringSlice(name)
	}
	return fromFile
}

// where names a setting's source for an error message: the flag, or the
// config file and key.
func (s settings) where(name, fromFile string) string {
	if s.c.IsSet(name) || fromFile == "" {
		return "--" + name
	}
	return fmt.Sprintf("config %s: %s", s.c.String("config"), name)
}

func (s settings) logger() (*slog.Logger, error) {
	log, err := logging.New(s.c.App.ErrWriter, s.str("log-level", s.file.LogLevel), s.str("log-format", s.file.LogFormat))
	var se *logging.SettingError
	if errors.As(err, &se) {
		fromFile := map[string]string{"log-level": s.file.LogLevel, "log-format": s.file.LogFormat}[se.Setting]
		return nil, fmt.Errorf("%s: %s", s.where(se.Setting, fromFile), se.Msg)
	}
	return log, err
}
