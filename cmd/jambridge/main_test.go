package main

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jambridge/jambridge/rtmidiport"
)

func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "jambridge")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// The daemon hosts a session on its defaults, tells the musician how
// others join, and on SIGTERM leaves cleanly with status 0.
func TestBinaryHostsAndStopsOnSIGTERM(t *testing.T) {
	cmd := exec.Command(buildBinary(t), "run", "--listen", "127.0.0.1:0", "--name", "ci")
	stdout, _ := cmd.StdoutPipe()
	stderr := &syncBuf{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	open := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := regexp.MustCompile(`^Jam session (\S+) is open`).FindStringSubmatch(sc.Text()); m != nil {
				open <- m[1]
			}
		}
	}()
	select {
	case <-open:
	case <-time.After(wait):
		t.Fatalf("no session announced; stderr:\n%s", stderr)
	}
	if _, err := os.Stat(rtmidiport.SeqDevice); err != nil {
		eventually(t, "the no-MIDI-system line", func() bool { return strings.Contains(stderr.String(), "no MIDI system") })
	}
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("exit after SIGTERM: %v, want status 0\n%s", err, stderr)
		}
	case <-time.After(wait):
		t.Fatal("jambridge did not exit after SIGTERM")
	}
	if !strings.Contains(stderr.String(), `msg=stopped`) {
		t.Errorf("no clean stop in the log:\n%s", stderr)
	}
}

// Without an ALSA sequencer `ports` says so in one sentence and fails;
// with one, it lists the ports.
func TestPortsCommand(t *testing.T) {
	out, err := exec.Command(buildBinary(t), "ports").CombinedOutput()
	text := strings.TrimSpace(string(out))
	if _, serr := os.Stat(rtmidiport.SeqDevice); serr != nil {
		if err == nil || text != "jambridge: "+rtmidiport.ErrNoMIDISystem.Error() {
			t.Errorf("ports without ALSA: err %v, output %q; want exactly the one sentence", err, text)
		}
		if strings.Contains(text, "ALSA lib") {
			t.Errorf("ALSA noise leaked: %q", text)
		}
		return
	}
	if err != nil || !strings.Contains(text, "MIDI inputs") {
		t.Errorf("ports: %v\n%s", err, text)
	}
}

func TestBadFlagsAndArgumentsGiveOneSentence(t *testing.T) {
	for _, args := range [][]string{
		{"run", "--log-level", "loud"},
		{"run", "--in", "/([/"},
		{"run", "--config", "/nonexistent/jambridge.yaml"},
		{"monitor"},
		{"play"},
		{"play", "/nonexistent.mid", "--relay", "http://127.0.0.1:1", "--room", "X-1"},
		{"record"},
		{"run", "--relay", "ftp://example"},
	} {
		app := newApp()
		var out syncBuf
		app.Writer, app.ErrWriter = &out, &out
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		err := app.RunContext(ctx, append([]string{"jambridge"}, args...))
		cancel()
		if err == nil || strings.Contains(err.Error(), "\n") || len(err.Error()) < 10 {
			t.Errorf("%v: err = %v, want one sentence", args, err)
		}
	}
}

// SIGUSR1 makes the daemon log how the session is doing, at once.
func TestSIGUSR1LogsASummary(t *testing.T) {
	cmd := exec.Command(buildBinary(t), "run", "--listen", "127.0.0.1:0", "--room", "USR-1")
	stderr := &syncBuf{}
	cmd.Stderr, cmd.Stdout = stderr, stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	eventually(t, "joined", func() bool { return strings.Contains(stderr.String(), "USR-1 is open") })
	cmd.Process.Signal(syscall.SIGUSR1)
	eventually(t, "summary", func() bool {
		return strings.Contains(stderr.String(), "msg=session room=USR-1 members=1")
	})
}
