package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jambridge/jambridge/relay"
)

// hang bounds waits so a broken binary fails instead of hanging; it is
// not a speed assertion.
const hang = 10 * time.Second

// startBinary builds jamrelay without cgo (as a server has no ALSA), runs
// it with args on a free port, and returns its base URL, and the base URL
// of its metrics listener if it logged one before the relay's.
func startBinary(t *testing.T, env []string, args ...string) (cmd *exec.Cmd, url, metricsURL string) {
	t.Helper()
	return startBuilt(t, buildRelay(t), env, args...)
}

// buildRelay builds jamrelay without cgo and returns the binary's path.
func buildRelay(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "jamrelay")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("CGO_ENABLED=0 go build: %v\n%s", err, out)
	}
	return bin
}

// startBuilt runs bin as startBinary does.
func startBuilt(t *testing.T, bin string, env []string, args ...string) (cmd *exec.Cmd, url, metricsURL string) {
	t.Helper()
	cmd = exec.Command(bin, append([]string{"--listen", "127.0.0.1:0"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	type addrs struct{ relay, metrics string }
	found := make(chan addrs, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		// Text (addr=host:port) or JSON ("addr":"host:port") logs.
		re := regexp.MustCompile(`(jamrelay|metrics) listening.*addr"?[=:]"?([0-9.]+:[0-9]+)`)
		var metrics string
		for sc.Scan() {
			m := re.FindStringSubmatch(sc.Text())
			switch {
			case m == nil:
			case m[1] == "metrics":
				metrics = "http://" + m[2]
			default:
				found <- addrs{"http://" + m[2], metrics}
			}
		}
	}()
	select {
	case a := <-found:
		return cmd, a.relay, a.metrics
	case <-time.After(hang):
		t.Fatal("jamrelay did not log its listening address")
	}
	return nil, "", ""
}

func TestBinaryServesAndShutsDownCleanly(t *testing.T) {
	cmd, url, _ := startBinary(t, []string{"JAMRELAY_MAX_MEMBERS=7"}, "--log-format", "json")
	res, err := http.Get(url + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !strings.Contains(string(body), `"status":"ok"`) {
		t.Errorf("/healthz = %s", body)
	}
	ctx, cancel := context.WithTimeout(context.Background(), hang)
	defer cancel()
	c, err := relay.Dial(ctx, relay.ClientConfig{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	stopWithSIGTERM(t, cmd)
	select {
	case <-c.Done():
	case <-time.After(hang):
		t.Error("client not disconnected by the shutdown")
	}
}

// SIGTERM always exits 0: the listener used to be closed twice, and about
// 3 runs in 100 exited 1 with "use of closed network connection". Each
// run has a websocket client and the metrics listener open.
func TestSIGTERMAlwaysExitsZero(t *testing.T) {
	bin := buildRelay(t)
	for range 30 {
		cmd, url, _ := startBuilt(t, bin, nil, "--metrics-listen", "127.0.0.1:0")
		ctx, cancel := context.WithTimeout(context.Background(), hang)
		c, err := relay.Dial(ctx, relay.ClientConfig{URL: url})
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		stopWithSIGTERM(t, cmd)
		c.Close()
		if t.Failed() {
			return
		}
	}
}

func TestFlagsAndEnvironmentReachTheRelay(t *testing.T) {
	_, url, _ := startBinary(t, []string{"JAMRELAY_MAX_MEMBERS=1"}, "--max-event-payload", "10")
	a, b := dialMember(t, url), dialMember(t, url)
	a.call("session:create", "session:created", map[string]string{"roomCode": "ENV-1"})
	b.Send("session:join", map[string]string{"roomCode": "ENV-1"}) // JAMRELAY_MAX_MEMBERS=1
	if code := b.errorCode(); code != relay.CodeSessionFull {
		t.Errorf("join: error %s, want session_full", code)
	}
	a.Send("event:broadcast", map[string]any{"roomCode": "ENV-1", "eventName": "x", "payload": "0123456789"}) // --max-event-payload 10
	if code := a.errorCode(); code != relay.CodePayloadTooLarge {
		t.Errorf("broadcast: error %s, want payload_too_large", code)
	}
}

func TestBinaryServesMetricsApart(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  []string
		args []string
	}{
		{"flag", nil, []string{"--metrics-listen", "127.0.0.1:0"}},
		{"environment", []string{"JAMRELAY_METRICS_LISTEN=127.0.0.1:0"}, []string{"--log-format", "json"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd, url, metrics := startBinary(t, tc.env, tc.args...)
			if metrics == "" {
				t.Fatal("jamrelay did not log its metrics address")
			}
			ctx, cancel := context.WithTimeout(context.Background(), hang)
			defer cancel()
			c, err := relay.Dial(ctx, relay.ClientConfig{URL: url})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			body := get(t, metrics+"/metrics")
			for _, want := range []string{"\njamrelay_connections 1\n", "\ngo_goroutines ", "\nprocess_start_time_seconds ",
				`jamrelay_dropped_total{reason="rate_limited"} 0`} {
				if !strings.Contains(body, want) {
					t.Errorf("/metrics lacks %q:\n%s", want, body)
				}
			}
			// Kept apart from the relay: operators firewall it.
			res, err := http.Get(url + "/metrics")
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusNotFound {
				t.Errorf("relay listener: GET /metrics: %s, want 404", res.Status)
			}
			stopWithSIGTERM(t, cmd)
			if _, err := http.Get(metrics + "/metrics"); err == nil {
				t.Error("metrics listener still serving after shutdown")
			}
		})
	}
}

// get returns the body of a 200 answer to GET url.
func get(t *testing.T, url string) string {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s\n%s", url, res.Status, body)
	}
	return string(body)
}

func TestBadFlagsGiveOneSentence(t *testing.T) {
	for _, args := range [][]string{
		{"--log-level", "loud"},
		{"--log-format", "xml"},
		{"--max-members", "0"},
		{"--ping-interval", "0s"},
		{"--connect-timeout", "0s"},
		{"--send-queue-bytes", "100"},
		{"--procs", "-1"},
		{"--listen", "127.0.0.1:99999"},
		{"--metrics-listen", "127.0.0.1:99999", "--listen", "127.0.0.1:0"},
		{"--tls-cert", "cert.pem", "--listen", "127.0.0.1:0"},
		{"--tls-cert", "/nonexistent/cert.pem", "--tls-key", "/nonexistent/key.pem", "--listen", "127.0.0.1:0"},
		{"--trusted-proxy", "10.0.0.0/99"},
		{"--public-url", "jam.example.org"},
		{"--max-connections-per-ip", "0"},
		{"--handshake-window", "0s"},
	} {
		app := newApp()
		var out strings.Builder
		app.ErrWriter, app.Writer = &out, &out
		ctx, cancel := context.WithTimeout(context.Background(), hang)
		err := app.RunContext(ctx, append([]string{"jamrelay"}, args...))
		cancel()
		if err == nil || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), strings.TrimPrefix(args[0], "--")[:4]) {
			t.Errorf("%v: err = %v, want one sentence naming the setting", args, err)
		}
	}
}

// stopWithSIGTERM signals cmd and checks it exits with status 0.
func stopWithSIGTERM(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("exit after SIGTERM: %v, want status 0", err)
		}
	case <-time.After(hang):
		t.Fatal("jamrelay did not exit after SIGTERM")
	}
}
