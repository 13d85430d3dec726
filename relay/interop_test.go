package relay_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jambridge/jambridge/relay"
)

// nodeDir holds the npm packages of the interop tests: the real
// socket.io-client (and socket.io for the reference relay).
const nodeDir = "testdata/node"

// requireNode fails, with what to do, when node or the npm packages are
// missing. `make test` installs them.
func requireNode(t *testing.T) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node is not installed: interop tests need Node.js 18 or later (then run `make test`)")
	}
	if _, err := os.Stat(filepath.Join(nodeDir, "node_modules", "socket.io-client")); err != nil {
		t.Fatalf("npm packages missing in relay/%s: run `make test`, which runs `npm ci` there", nodeDir)
	}
	return node
}

// The real socket.io-client v4 drives the Go relay: default transports
// (long-polling, then the upgrade to websocket) and websocket only.
func TestInteropWithSocketIOClient(t *testing.T) {
	node := requireNode(t)
	for _, transport := range []string{"default", "websocket"} {
		t.Run(transport, func(t *testing.T) {
			r := newRelay(t, relay.Config{})
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, node, "interop.js", r.URL, transport)
			cmd.Dir = nodeDir
			out, err := cmd.CombinedOutput()
			if err != nil || !strings.Contains(string(out), " 0 failed") {
				t.Fatalf("socket.io-client interop (%s) failed: %v\n%s", transport, err, out)
			}
			t.Logf("%s", lastLine(out))
		})
	}
}

func lastLine(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return lines[len(lines)-1]
}
