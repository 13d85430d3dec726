package relayhost

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jambridge/jambridge/relay"
)

// hang bounds waits so a broken host fails instead of hanging; it is not
// a speed assertion.
const hang = 10 * time.Second

func newHost(t *testing.T) *Host {
	t.Helper()
	srv, err := relay.NewServer(relay.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return New(srv, slog.New(slog.DiscardHandler))
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(body)
}

// The relay's routes, one /healthz body, a mounted page, and /metrics on
// its own listener only.
func TestHostRoutes(t *testing.T) {
	h := newHost(t)
	h.Mount("GET /{$}", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "jam page") }))
	relayURL := "http://" + h.Serve(listen(t)).Addr().String()
	metricsURL := "http://" + h.ServeMetrics(listen(t)).Addr().String()
	defer h.Close()
	for _, tc := range []struct {
		url, body string
		code      int
	}{
		{relayURL + "/healthz", `{"status":"ok","connections":0,"sessions":0}` + "\n", 200},
		{relayURL + "/", "jam page", 200},
		{relayURL + "/metrics", "404 page not found\n", 404},
		{metricsURL + "/healthz", "404 page not found\n", 404},
	} {
		if code, body := get(t, tc.url); code != tc.code || body != tc.body {
			t.Errorf("GET %s: %d %q, want %d %q", tc.url, code, body, tc.code, tc.body)
		}
	}
	if _, body := get(t, metricsURL+"/metrics"); !strings.Contains(body, "\njamrelay_connections 0\n") || !strings.Contains(body, "\ngo_goroutines ") {
		t.Errorf("/metrics lacks the relay's or the runtime's metrics:\n%.400s", body)
	}
}

// Close stops accepting, disconnects the relay's websockets, and returns
// nil every time: the listener is closed once, whoever else closes it.
// (It used to be closed twice, and Close failed with "use of closed
// network connection" in about 3 runs of 100.)
func TestCloseIsCleanEveryTime(t *testing.T) {
	for i := range 100 {
		h := newHost(t)
		addr := h.Serve(listen(t)).Addr().String()
		h.ServeMetrics(listen(t))
		var c *relay.Client
		if i%10 == 0 { // a websocket open at shutdown, now and then
			ctx, cancel := context.WithTimeout(context.Background(), hang)
			var err error
			c, err = relay.Dial(ctx, relay.ClientConfig{URL: "http://" + addr})
			cancel()
			if err != nil {
				t.Fatal(err)
			}
		}
		if err := h.Close(); err != nil {
			t.Fatalf("run %d: Close: %v", i, err)
		}
		if c != nil {
			select {
			case <-c.Done():
			case <-time.After(hang):
				t.Fatal("a websocket client outlived Close")
			}
			c.Close()
		}
		if conn, err := net.Dial("tcp", addr); err == nil {
			conn.Close()
			t.Fatalf("run %d: still accepting after Close", i)
		}
		if err := h.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
	}
}

// Run returns nil when its context ends, after a clean shutdown.
func TestRunStopsCleanlyWhenTheContextEnds(t *testing.T) {
	h := newHost(t)
	h.Serve(listen(t))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := h.Run(ctx); err != nil {
		t.Errorf("Run: %v, want nil", err)
	}
}

// failingListener fails its first Accept, as a listener whose socket
// broke would.
type failingListener struct{ net.Listener }

var errBroken = errors.New("accept: socket broke")

func (l failingListener) Accept() (net.Conn, error) { return nil, errBroken }

// A server that stops on its own ends Run with its error.
func TestRunReturnsAServersFailure(t *testing.T) {
	h := newHost(t)
	h.Serve(listen(t))
	h.ServeMetrics(failingListener{listen(t)})
	ctx, cancel := context.WithTimeout(context.Background(), hang)
	defer cancel()
	if err := h.Run(ctx); !errors.Is(err, errBroken) {
		t.Errorf("Run: %v, want the metrics server's %v", err, errBroken)
	}
}
