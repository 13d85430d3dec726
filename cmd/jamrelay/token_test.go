package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jambridge/jambridge/relay"
)

// secretFile writes an auth secret (with the newline an editor leaves)
// and returns its path.
func secretFile(t *testing.T, secret string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "auth.secret")
	if err := os.WriteFile(path, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// runApp runs jamrelay in process with args and returns what it printed.
func runApp(t *testing.T, args ...string) (string, error) {
	t.Helper()
	app := newApp()
	var out, errOut strings.Builder
	app.Writer, app.ErrWriter = &out, &errOut
	ctx, cancel := context.WithTimeout(context.Background(), hang)
	defer cancel()
	err := app.RunContext(ctx, append([]string{"jamrelay"}, args...))
	return out.String(), err
}

const testSecret = "k3Zr0xv2Vbq9L1Wm8Tn4Yc7Hd6Jf5Ps0"

// `jamrelay token` prints one token that the secret verifies, with the
// room, name and expiry asked for.
func TestTokenSubcommand(t *testing.T) {
	path := secretFile(t, testSecret)
	before := time.Now()
	out, err := runApp(t, "token", "--auth-secret-file", path, "--room", "gig-1", "--name", "Ada", "--ttl", "2h")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(out, "\n") != 1 {
		t.Fatalf("output %q, want one line", out)
	}
	c, err := relay.VerifyToken([]byte(testSecret), strings.TrimSpace(out), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if c.Room != "GIG-1" || c.Name != "Ada" || c.Expires.Before(before.Add(2*time.Hour-time.Second)) || c.Expires.After(time.Now().Add(2*time.Hour)) {
		t.Errorf("claims %+v, want GIG-1, Ada, expiring in 2h", c)
	}
	t.Setenv("JAMRELAY_AUTH_SECRET_FILE", path)
	out, err = runApp(t, "token")
	if err != nil {
		t.Fatal(err)
	}
	if c, err := relay.VerifyToken([]byte(testSecret), strings.TrimSpace(out), time.Now().Add(23*time.Hour)); err != nil || c.Room != "" || c.Name != "" {
		t.Errorf("default token: %+v, %v; want any room, any name, valid for 24h", c, err)
	}
}

func TestTokenSubcommandErrors(t *testing.T) {
	short := secretFile(t, "too short")
	good := secretFile(t, testSecret)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"token"}, "--auth-secret-file"},
		{[]string{"token", "--auth-secret-file", short}, "at least 32"},
		{[]string{"token", "--auth-secret-file", filepath.Join(t.TempDir(), "none")}, "no such file"},
		{[]string{"token", "--auth-secret-file", good, "--room", "a b"}, "not a room code"},
		{[]string{"token", "--auth-secret-file", good, "--ttl", "-1h"}, "--ttl"},
		{[]string{"--auth-secret-file", short, "--listen", "127.0.0.1:0"}, "at least 32"},
		{[]string{"--failed-joins", "0", "--listen", "127.0.0.1:0"}, "failed-joins"},
	} {
		_, err := runApp(t, tc.args...)
		if err == nil || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: err = %v, want one sentence saying %q", tc.args, err, tc.want)
		}
	}
}

// The binary with JAMRELAY_AUTH_SECRET_FILE admits a client with a token
// from `jamrelay token` and refuses one without.
func TestBinaryWantsTokens(t *testing.T) {
	path := secretFile(t, testSecret)
	_, url, _ := startBinary(t, []string{"JAMRELAY_AUTH_SECRET_FILE=" + path})
	tok, err := runApp(t, "token", "--auth-secret-file", path, "--name", "Ada")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), hang)
	defer cancel()
	_, err = relay.Dial(ctx, relay.ClientConfig{URL: url})
	var refused *relay.ConnectRefusedError
	if !errors.As(err, &refused) || !strings.Contains(refused.Message, "missing") {
		t.Fatalf("dial without a token = %v, want refused: missing", err)
	}
	c, err := relay.Dial(ctx, relay.ClientConfig{URL: url, Token: strings.TrimSpace(tok)})
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
}
