//go:build hwtest

package hwtest

import (
	"bufio"
	"context"
	"io"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// patience is how long a test waits for anything that should come: a
// line, a card, a message, a program's end. It guards against a hang and
// says nothing about speed: under TCG on a loaded CI runner, what takes
// 0.1 s on an idle machine can take several seconds, so it is generous,
// and a passing run never waits for it.
const patience = 60 * time.Second

// proc is a program running in the background whose output lines (stdout
// and stderr together) the test waits on.
type proc struct {
	name  string
	cmd   *exec.Cmd
	mu    sync.Mutex
	lines []string
	more  chan struct{} // closed and replaced whenever a line arrives
	done  chan struct{} // closed when the program has exited and its output is read
}

// start runs a program until the test ends; its output is logged when
// the test fails.
func start(t *testing.T, name string, args ...string) *proc {
	t.Helper()
	return startInput(t, nil, name, args...)
}

// startInput is start with the program's standard input read from stdin.
func startInput(t *testing.T, stdin io.Reader, name string, args ...string) *proc {
	t.Helper()
	p := &proc{name: name + " " + strings.Join(args, " "), cmd: exec.Command(name, args...),
		more: make(chan struct{}), done: make(chan struct{})}
	p.cmd.Stdin = stdin
	r, w := io.Pipe()
	p.cmd.Stdout, p.cmd.Stderr = w, w
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", p.name, err)
	}
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			p.mu.Lock()
			p.lines = append(p.lines, sc.Text())
			close(p.more)
			p.more = make(chan struct{})
			p.mu.Unlock()
		}
		close(p.done) // the program has exited and every line is in
	}()
	go func() { p.cmd.Wait(); w.Close() }()
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			t.Logf("output of %s:\n%s", p.name, p.output())
		}
	})
	return p
}

// stop sends SIGTERM and waits, then kills.
func (p *proc) stop() {
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(patience):
		p.cmd.Process.Kill()
		<-p.done
	}
}

func (p *proc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.lines, "\n")
}

// mark is the number of lines so far: waitFrom(mark, ...) looks only at
// what came after.
func (p *proc) mark() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.lines)
}

// waitFrom returns the first line from line number from on that match
// accepts, waiting up to patience for it; ok is false when none came.
func (p *proc) waitFrom(from int, match func(string) bool) (line string, at int, ok bool) {
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	for i := from; ; {
		p.mu.Lock()
		lines, more := p.lines, p.more
		p.mu.Unlock()
		for ; i < len(lines); i++ {
			if match(lines[i]) {
				return lines[i], i + 1, true
			}
		}
		select {
		case <-more:
		case <-p.done:
			p.mu.Lock()
			n := len(p.lines)
			p.mu.Unlock()
			if i == n {
				return "", i, false
			}
		case <-ctx.Done():
			return "", i, false
		}
	}
}

// expect waits for a line containing every one of parts, among the lines
// from line number from on; it returns the number of the line after it.
func (p *proc) expect(t *testing.T, from int, parts ...string) int {
	t.Helper()
	_, at, ok := p.waitFrom(from, func(l string) bool {
		for _, s := range parts {
			if !strings.Contains(l, s) {
				return false
			}
		}
		return true
	})
	if !ok {
		t.Fatalf("%s: no line with %q within %v", p.name, parts, patience)
	}
	return at
}

// run runs a program to its end and returns its output; a failure ends
// the test.
func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}
