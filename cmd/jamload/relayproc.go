package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

const (
	// readyWait bounds how long a relay may take to accept connections.
	readyWait = 15 * time.Second
	// killWait is how long a relay has to exit after SIGTERM before SIGKILL.
	killWait = 3 * time.Second
)

// relaySpec says how to start one relay on a given loopback port.
type relaySpec struct {
	name    string
	command func(port int) *exec.Cmd
	// cluster, when set, runs the relay as several nodes on one Redis
	// (cluster.go); command is then unused.
	cluster *clusterSpec
	// cpus is where its processes may run (cpus_linux.go).
	cpus cpuPlan
}

// jamrelaySpec runs the Go relay with a per-connection rate limit far
// above the load, so the limit never interferes; every member comes from
// the loopback, so the per-address limit is lifted too.
func jamrelaySpec(bin string) relaySpec {
	return relaySpec{name: "jamrelay", command: func(port int) *exec.Cmd {
		return exec.Command(bin, "--listen", "127.0.0.1:"+strconv.Itoa(port),
			"--log-level", "warn", "--event-rate", "100000", "--event-burst", "100000",
			"--max-connections-per-ip", "1000000")
	}}
}

// nodeSpec runs the reference Socket.IO relay, quiet.
func nodeSpec(serverJS string) relaySpec {
	return relaySpec{name: "node", command: func(port int) *exec.Cmd {
		cmd := exec.Command("node", serverJS)
		cmd.Dir = filepath.Dir(serverJS)
		cmd.Env = append(os.Environ(), "PORT="+strconv.Itoa(port), "QUIET=1")
		return cmd
	}}
}

// relayProc is one running relay process.
type relayProc struct {
	name string
	cmd  *exec.Cmd
	pid  int           // whose CPU and RSS are measured
	base string        // http://127.0.0.1:PORT
	done chan struct{} // closed when the process has exited
	// bases are where members connect (base alone, or every node of a
	// cluster); pids are measured together (the nodes and their Redis).
	bases  []string
	pids   []int
	others []*relayProc // a cluster's other processes, stopped with it
}

// startRelay starts spec on a free loopback port and waits until it
// accepts connections.
func startRelay(ctx context.Context, spec relaySpec) (*relayProc, error) {
	if spec.cluster != nil {
		return startCluster(ctx, spec.name, spec.cpus, *spec.cluster)
	}
	return startProc(ctx, spec.name, spec.cpus, spec.command)
}

// startProc starts one process of a relay on a free loopback port and
// waits until it accepts connections.
func startProc(ctx context.Context, name string, cpus cpuPlan, command func(port int) *exec.Cmd) (*relayProc, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	cmd := command(port)
	cmd.Stdout = nil // node prints "listening PORT"; the dial below is what counts
	cmd.Stderr = os.Stderr
	if err := cpus.start(cmd); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &relayProc{name: name, cmd: cmd, pid: cmd.Process.Pid, base: "http://127.0.0.1:" + strconv.Itoa(port), done: make(chan struct{})}
	p.bases, p.pids = []string{p.base}, []int{p.pid}
	go func() { _ = cmd.Wait(); close(p.done) }()
	if err := p.waitReady(ctx, port); err != nil {
		p.stop()
		return nil, err
	}
	return p, nil
}

// waitReady dials the port until the relay accepts, it exits, or
// readyWait passes.
func (p *relayProc) waitReady(ctx context.Context, port int) error {
	deadline := time.Now().Add(readyWait)
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("%s exited before accepting connections: %v", p.name, p.cmd.ProcessState)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not accept connections on %s within %s", p.name, addr, readyWait)
		}
	}
}

// exited reports whether the relay process, or one of the others of its
// cluster, has ended.
func (p *relayProc) exited() bool {
	for _, o := range p.others {
		if o.exited() {
			return true
		}
	}
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM, then SIGKILL after killWait, and waits for the
// exit; then the others of its cluster, in order (its Redis last).
func (p *relayProc) stop() {
	p.stopOne()
	for _, o := range p.others {
		o.stop()
	}
}

func (p *relayProc) stopOne() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return
	case <-time.After(killWait):
	}
	if err := p.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		fmt.Fprintf(os.Stderr, "jamload: kill %s: %v\n", p.name, err)
	}
	<-p.done
}

// freePort asks the kernel for a free loopback port. Another process
// could take it before the relay binds it; the relay would then fail to
// start and the run stops with its error.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
