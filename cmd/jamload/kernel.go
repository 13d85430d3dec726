package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// What a delivery costs the relay in the kernel's terms: context
// switches and system calls, per 1,000 deliveries over the window.
//
// Context switches are summed over the relay's threads from
// /proc/PID/task/*/status (voluntary_ctxt_switches: a thread blocked,
// e.g. in epoll_wait or a futex; nonvoluntary_ctxt_switches: it was
// preempted). A thread that exits during the window takes its counts
// with it; both relays keep their threads.
//
// System calls are counted with `perf stat -e raw_syscalls:sys_enter -p
// PID` over the window when perf can (root, or perf_event_paranoid low
// enough): every system call. Where it cannot, the fallback is the
// read-like and write-like calls of /proc/PID/task/*/io (syscr + syscw:
// read, write, writev and the like, not epoll_wait or futex), and the
// result says which.

// syscallSource names how system calls were counted.
const (
	sourcePerf   = "perf raw_syscalls:sys_enter"
	sourceProcIO = "/proc io syscr+syscw (reads and writes only)"
)

// kernelSample is the relay's kernel counters at one instant.
type kernelSample struct {
	voluntary, involuntary int64 // context switches, all threads
	readWrite              int64 // syscr + syscw, all threads
}

// takeKernelSample sums the counters of every thread of the processes
// pids (a relay's nodes and its Redis count together).
func takeKernelSample(pids ...int) (kernelSample, error) {
	var s kernelSample
	for _, pid := range pids {
		tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*", pid))
		if err != nil || len(tasks) == 0 {
			return s, fmt.Errorf("list the threads of pid %d: %v", pid, err)
		}
		for _, t := range tasks {
			st, err1 := os.ReadFile(t + "/status")
			io, err2 := os.ReadFile(t + "/io")
			if err1 != nil || err2 != nil {
				continue // the thread exited meanwhile
			}
			s.voluntary += procField(st, "voluntary_ctxt_switches:")
			s.involuntary += procField(st, "nonvoluntary_ctxt_switches:")
			s.readWrite += procField(io, "syscr:") + procField(io, "syscw:")
		}
	}
	return s, nil
}

// procField returns the number after name at the start of a line of b,
// or 0.
func procField(b []byte, name string) int64 {
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, name); ok {
			v, _ := strconv.ParseInt(strings.TrimSpace(rest), 10, 64)
			return v
		}
	}
	return 0
}

// syscallCounter is a `perf stat` attached to the relay for the window.
// Owned by the goroutine measuring the window.
type syscallCounter struct {
	cmd *exec.Cmd
	out bytes.Buffer
}

// startSyscallCount attaches perf to pid; nil when perf cannot run
// (missing, or not allowed), and the fallback is used.
func startSyscallCount(ctx context.Context, pids ...int) *syscallCounter {
	path, err := exec.LookPath("perf")
	if err != nil {
		return nil
	}
	c := &syscallCounter{}
	c.cmd = exec.CommandContext(ctx, path, "stat", "-x", ",", "-e", "raw_syscalls:sys_enter", "-p", joinPids(pids))
	c.cmd.Stderr = &c.out
	if err := c.cmd.Start(); err != nil {
		return nil
	}
	return c
}

// stop ends the count and returns it; false when perf counted nothing
// usable (not permitted, or no such event).
func (c *syscallCounter) stop() (int64, bool) {
	_ = c.cmd.Process.Signal(syscall.SIGINT)
	_ = c.cmd.Wait()
	return parsePerfCount(c.out.Bytes(), "raw_syscalls:sys_enter")
}

// parsePerfCount reads the count of event from perf stat's CSV output
// (-x ,): "count,unit,event,...".
func parsePerfCount(out []byte, event string) (int64, bool) {
	for line := range strings.Lines(string(out)) {
		f := strings.Split(strings.TrimSpace(line), ",")
		if len(f) >= 3 && f[2] == event {
			v, err := strconv.ParseInt(f[0], 10, 64)
			return v, err == nil
		}
	}
	return 0, false
}

// kernelCost is the kernel figures of a window, per 1,000 deliveries.
type kernelCost struct {
	SyscallsPer1k float64 `json:"syscallsPer1k"`
	SyscallSource string  `json:"syscallSource"`
	CtxSwPer1k    float64 `json:"ctxSwitchesPer1k"`    // voluntary + involuntary
	VolCtxSwPer1k float64 `json:"volCtxSwitchesPer1k"` // the voluntary part
}

// kernelCostOf turns the counters of a window into figures per 1,000 of
// deliveries. perfCount < 0 means perf did not count.
func kernelCostOf(a, b kernelSample, perfCount, deliveries int64) kernelCost {
	if deliveries <= 0 {
		return kernelCost{}
	}
	per1k := func(n int64) float64 { return 1000 * float64(n) / float64(deliveries) }
	k := kernelCost{
		CtxSwPer1k:    per1k(b.voluntary - a.voluntary + b.involuntary - a.involuntary),
		VolCtxSwPer1k: per1k(b.voluntary - a.voluntary),
		SyscallSource: sourcePerf,
	}
	if perfCount >= 0 {
		k.SyscallsPer1k = per1k(perfCount)
	} else {
		k.SyscallsPer1k, k.SyscallSource = per1k(b.readWrite-a.readWrite), sourceProcIO
	}
	return k
}

// joinPids is perf's -p list: pids separated by commas.
func joinPids(pids []int) string {
	s := make([]string, len(pids))
	for i, pid := range pids {
		s[i] = strconv.Itoa(pid)
	}
	return strings.Join(s, ",")
}
