package relay_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The stock socket.io-client given the private CA connects over https
// and wss, with the default transports (long-polling, then the upgrade)
// and websocket only; without the CA it does not connect.
func TestSocketIOClientOverTLS(t *testing.T) {
	node := requireNode(t)
	url, ca := tlsRelay(t)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, ca.PEM, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		ca, transport, want string
	}{
		{caFile, "default", "connected websocket"},
		{caFile, "websocket", "connected websocket"},
		{"none", "default", "connect_error"},
		{"none", "websocket", "connect_error"},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		cmd := exec.CommandContext(ctx, node, "tls.js", url, tc.ca, tc.transport)
		cmd.Dir = nodeDir
		out, _ := cmd.CombinedOutput()
		cancel()
		if got := lastLine(out); !strings.HasPrefix(got, tc.want) {
			t.Errorf("ca %s, %s transports: %q, want %q\n%s", filepath.Base(tc.ca), tc.transport, got, tc.want, out)
		}
	}
}
