package relay_test

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/jambridge/jambridge/relay"
)

// authTokens are the tokens testdata/node/auth.js is given: a valid one,
// an expired one and one signed with another secret.
func authTokens(t *testing.T) []string {
	t.Helper()
	forged, err := relay.SignToken([]byte("not the relay's secret, but as long"), relay.TokenClaims{Expires: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	return []string{
		"TOKEN=" + sign(t, relay.TokenClaims{Expires: time.Now().Add(time.Hour)}),
		"EXPIRED=" + sign(t, relay.TokenClaims{Expires: time.Now().Add(-time.Hour)}),
		"FORGED=" + forged,
	}
}

// runAuthJS runs testdata/node/auth.js against url.
func runAuthJS(t *testing.T, node, url, transport string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "auth.js", url, transport)
	cmd.Dir = nodeDir
	cmd.Env = append(cmd.Environ(), authTokens(t)...)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), " 0 failed") {
		t.Fatalf("socket.io-client auth interop (%s) failed: %v\n%s", transport, err, out)
	}
	t.Logf("%s", lastLine(out))
}

// The real socket.io-client with auth {token} and session secrets
// against the Go relay, on both transports.
func TestInteropAuthWithSocketIOClient(t *testing.T) {
	node := requireNode(t)
	for _, transport := range []string{"default", "websocket"} {
		t.Run(transport, func(t *testing.T) {
			r := newRelay(t, relay.Config{AuthSecret: authSecret})
			runAuthJS(t, node, r.URL, transport)
		})
	}
}

// The same script against the Node reference relay with the same auth
// secret: the reference and the Go relay agree.
func TestInteropAuthAgainstNodeRelay(t *testing.T) {
	node := requireNode(t)
	n := startNodeRelay(t, node, "0", "AUTH_SECRET="+string(authSecret))
	runAuthJS(t, node, n.URL, "default")
}
