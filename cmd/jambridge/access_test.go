package main

import (
	"context"
	"errors"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jambridge/jambridge/bridge"
	"github.com/jambridge/jambridge/bridge/miditest"
	"github.com/jambridge/jambridge/relay"
)

var testAuthSecret = []byte("jambridge-test-auth-secret-32byt")

// privateRelay is a relay that wants access tokens, with a private
// session PRIV-1 (secret "s3cret") held open by a member.
func privateRelay(t *testing.T) (url string) {
	t.Helper()
	srv, err := relay.NewServer(relay.Config{AuthSecret: testAuthSecret})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(func() { srv.Close(); hs.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	created := make(chan struct{}, 1)
	c, err := relay.Dial(ctx, relay.ClientConfig{URL: hs.URL, Token: token(t, ""), OnEvent: func(ev relay.Event) {
		if ev.Name == "session:created" {
			created <- struct{}{}
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Emit("session:create", map[string]string{"roomCode": "PRIV-1", "secret": "s3cret"}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-created:
	case <-time.After(wait):
		t.Fatal("PRIV-1 not created")
	}
	return hs.URL
}

func token(t *testing.T, room string) string {
	t.Helper()
	tok, err := relay.SignToken(testAuthSecret, relay.TokenClaims{Room: room, Expires: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// runOnce runs a jambridge command until it returns or wait passes.
func runOnce(t *testing.T, args ...string) (string, error) {
	t.Helper()
	out := &syncBuf{}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	err := run(ctx, append([]string{"jambridge"}, args...), out, out)
	if ctx.Err() != nil {
		t.Fatalf("%v: still running after %v, want an answer", args, wait)
	}
	return out.String(), err
}

// The secret and the token reach the relay from the flags, the
// environment and the config file; a wrong secret or a missing token is
// one sentence and an exit, not a retry loop.
func TestToolsTakeSecretAndToken(t *testing.T) {
	url := privateRelay(t)
	tok := token(t, "")
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"no token", []string{"--secret", "s3cret"}, nil, "relay refused the connection: access token missing: connect with auth {token}"},
		{"bad token", []string{"--secret", "s3cret", "--token", tok + "x"}, nil, "relay refused the connection: access token has a bad signature"},
		{"no secret", []string{"--token", tok}, nil, "session PRIV-1 is private: the secret is missing or wrong"},
		{"wrong secret", nil, map[string]string{"JAMBRIDGE_TOKEN": tok, "JAMBRIDGE_SECRET": "guess"}, "session PRIV-1 is private: the secret is missing or wrong"},
		{"token for another room", []string{"--secret", "s3cret", "--token", token(t, "OTHER")}, nil, "your access token does not allow session PRIV-1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			_, err := runOnce(t, append([]string{"monitor", "--relay", url, "--room", "PRIV-1"}, tc.args...)...)
			if err == nil || !strings.HasSuffix(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("monitor: %v, want one sentence ending %q", err, tc.want)
			}
		})
	}
	// The right ones, from the environment and from the config file.
	t.Setenv("JAMBRIDGE_TOKEN", tok)
	out, stop := runTool(t, "monitor", "--relay", url, "--room", "PRIV-1", "--secret", "s3cret")
	eventually(t, "monitor joined", func() bool { return strings.Contains(out.String(), "watching session PRIV-1") })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	os.Unsetenv("JAMBRIDGE_TOKEN")
	cfg := filepath.Join(t.TempDir(), "jam.yaml")
	if err := os.WriteFile(cfg, []byte("secret: s3cret\ntoken: "+tok+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, stop = runTool(t, "monitor", "--relay", url, "--room", "PRIV-1", "--config", cfg)
	eventually(t, "monitor joined", func() bool { return strings.Contains(out.String(), "watching session PRIV-1") })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

// Hosting with an auth secret: the host gets in with a token it signs
// itself, says the session is private without printing the secret, and
// a client without a token is refused.
func TestHostedPrivateSessionWithTokens(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	host, err := hostRelay("127.0.0.1:0", testAuthSecret, log)
	if err != nil {
		t.Fatal(err)
	}
	defer host.Close()
	own, err := ownToken(testAuthSecret, "BAND-7")
	if err != nil {
		t.Fatal(err)
	}
	out := &syncBuf{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- runJam(ctx, jamSetup{Session: relay.SessionConfig{URL: host.localURL, Room: "BAND-7", Name: "host", Secret: "k1ng", Token: own},
			Bridge: bridge.Config{}, MIDI: &miditest.System{}, Host: host, Out: out, Log: log})
	}()
	eventually(t, "announcement", func() bool { return strings.Contains(out.String(), "The relay wants access tokens") })
	if !strings.Contains(out.String(), "The session is private") || !strings.Contains(out.String(), "--room BAND-7`") {
		t.Errorf("announcement:\n%s", out)
	}
	dctx, dcancel := context.WithTimeout(context.Background(), wait)
	defer dcancel()
	_, err = relay.Dial(dctx, relay.ClientConfig{URL: host.localURL})
	var refused *relay.ConnectRefusedError
	if !errors.As(err, &refused) {
		t.Errorf("dial without a token: %v, want refused", err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "k1ng") {
		t.Errorf("the secret is printed:\n%s", out)
	}
}

func TestAuthSecretFileOnlyWhenHosting(t *testing.T) {
	path := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(path, testAuthSecret, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := runOnce(t, "run", "--relay", "http://127.0.0.1:1", "--auth-secret-file", path)
	if err == nil || !strings.Contains(err.Error(), "--auth-secret-file: only a hosted session") {
		t.Errorf("run --relay --auth-secret-file: %v", err)
	}
	if err := os.WriteFile(path, []byte("short\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = runOnce(t, "run", "--auth-secret-file", path, "--listen", "127.0.0.1:0")
	if err == nil || !strings.Contains(err.Error(), "at least 32") {
		t.Errorf("run --auth-secret-file with a short secret: %v", err)
	}
}
