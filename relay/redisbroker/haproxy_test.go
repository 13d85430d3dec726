package redisbroker_test

import (
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jambridge/jambridge/internal/redistest"
	"github.com/jambridge/jambridge/relay"
)

// nodeDir holds the npm packages of the interop scripts (make deps).
const nodeDir = "../testdata/node"

// Stock socket.io-client, with its default transports (long-polling,
// then the upgrade) and websocket only, joins one session through
// Debian's HAProxy running configs/haproxy.cfg in front of three nodes.
func TestSocketIOClientsThroughHAProxy(t *testing.T) {
	haproxy := redistest.Binary(t, "haproxy")
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node is not installed: this test needs Node.js (then run `make test`)")
	}
	if _, err := os.Stat(filepath.Join(nodeDir, "node_modules", "socket.io-client")); err != nil {
		t.Fatalf("npm packages missing in relay/testdata/node: run `make deps`")
	}
	nodes := cluster(t, redistest.Start(t), 3, relay.Config{})
	lb := startHAProxy(t, haproxy, nodes)
	for _, transport := range []string{"default", "websocket"} {
		cmd := exec.Command(node, "cluster.js", lb, transport)
		cmd.Dir = nodeDir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("socket.io-client through HAProxy (%s): %v\n%s", transport, err, out)
		}
		t.Logf("%s:\n%s", transport, out)
	}
	served := 0
	for _, n := range nodes {
		if n.srv.Stats().Connects > 0 {
			served++
		}
	}
	if served < 2 {
		t.Errorf("%d of 3 nodes served the clients: the session did not span nodes", served)
	}
}

// startHAProxy runs configs/haproxy.cfg with its frontend on a free port
// and its servers at the nodes, and returns the frontend's URL.
func startHAProxy(t *testing.T, bin string, nodes []*node) string {
	t.Helper()
	cfg, err := os.ReadFile("../../configs/haproxy.cfg")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(redistest.FreePort(t))
	text := strings.Replace(string(cfg), "bind :3000", "bind 127.0.0.1:"+port, 1)
	text = strings.Replace(text, "    log /dev/log local0 warning\n", "", 1)
	text = strings.Replace(text, "maxconn 8000", "maxconn 1000", 1) // within a test runner's file limit
	for i, n := range nodes {
		u, _ := url.Parse(n.URL)
		text = strings.Replace(text, "127.0.0.1:300"+strconv.Itoa(i+1), u.Host, 1)
	}
	path := filepath.Join(t.TempDir(), "haproxy.cfg")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-db", "-f", path)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	waitUntil(t, "haproxy listening on "+port, func() bool {
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+port, time.Second)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	return "http://127.0.0.1:" + port
}
