package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/jambridge/jambridge/relay"
)

// authFlags are the relay's flags of private sessions and access tokens.
func authFlags(d relay.Config) []cli.Flag {
	return []cli.Flag{
		authSecretFlag(),
		&cli.IntFlag{Name: "failed-joins", Value: d.FailedJoins, EnvVars: []string{"JAMRELAY_FAILED_JOINS"},
			Usage: "failed joins (unknown code, wrong secret) per client address per minute, then rate_limited"},
	}
}

func authSecretFlag() *cli.StringFlag {
	return &cli.StringFlag{Name: "auth-secret-file", EnvVars: []string{"JAMRELAY_AUTH_SECRET_FILE"},
		Usage: "file holding the secret (32 bytes or more) that signs access tokens: every client must then present one"}
}

// authSecret reads --auth-secret-file; nil when it is not set.
func authSecret(c *cli.Context) ([]byte, error) {
	path := c.String("auth-secret-file")
	if path == "" {
		return nil, nil
	}
	return relay.ReadAuthSecret(path)
}

// tokenCommand is `jamrelay token`: it prints one access token.
func tokenCommand() *cli.Command {
	return &cli.Command{
		Name:      "token",
		Usage:     "print an access token for a relay started with --auth-secret-file",
		ArgsUsage: " ",
		Flags: []cli.Flag{
			authSecretFlag(),
			&cli.StringFlag{Name: "room", Usage: "the only session the token may create or join (default: any)"},
			&cli.StringFlag{Name: "name", Usage: "the holder's participant name, which the client cannot change (default: the client's)"},
			&cli.DurationFlag{Name: "ttl", Value: 24 * time.Hour, Usage: "how long the token is valid"},
		},
		Action: printToken,
	}
}

func printToken(c *cli.Context) error {
	if c.NArg() > 0 {
		return fmt.Errorf("token takes no arguments, got %q", c.Args().First())
	}
	if c.String("auth-secret-file") == "" {
		return errors.New("token needs --auth-secret-file (or JAMRELAY_AUTH_SECRET_FILE): the relay's secret")
	}
	if c.Duration("ttl") <= 0 {
		return fmt.Errorf("--ttl must be positive, got %v", c.Duration("ttl"))
	}
	secret, err := authSecret(c)
	if err != nil {
		return err
	}
	tok, err := relay.SignToken(secret, relay.TokenClaims{
		Room: c.String("room"), Name: c.String("name"), Expires: time.Now().Add(c.Duration("ttl")),
	})
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(c.App.Writer, tok)
	return err
}
