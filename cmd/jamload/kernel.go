package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// What a delivery costs the relay in the kernel's terms: context
// switches and system calls, per 1,000 deliveries.
//
// Context switches are summed over the relay's threads from
// /proc/PID/task/*/status (voluntary_ctxt_switches: a thread blocked,
// e.g. in epoll_wait or a futex; nonvoluntary_ctxt_switches: it was
// preempted). A thread that exits during the window takes its counts
// with it; both relays keep their threads.
//
// System calls are counted with `perf stat -e raw_syscalls:sys_enter -p
// PID -- sleep D` when perf can (root, or perf_event_paranoid low
// enough): every system call, as a rate over D.
// That count is made over the middle half of the warm-up, under the same
// load, never inside the window: the tracepoint takes every system call
// of the traced process off the kernel's fast path, 3-4 % of the relay's
// CPU (measured side by side, with and without it), which the window's
// CPU figures must not carry. Per 1,000 deliveries is that rate over the
// window's delivery rate. Where perf cannot count, the fallback is the
// read-like and write-like calls of /proc/PID/task/*/io over the window
// (syscr + syscw: read, write, writev and the like, not epoll_wait or
// futex; no tracer), and the result says which.

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
		tids, err := threadIDs(pid)
		if err == nil && len(tids) == 0 {
			err = fmt.Errorf("list the threads of pid %d: none", pid)
		}
		if err != nil {
			return s, err
		}
		for _, tid := range tids {
			t := fmt.Sprintf("/proc/%d/task/%d", pid, tid)
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

// threadIDs lists the threads of process pid (/proc/PID/task).
func threadIDs(pid int) ([]int, error) {
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return nil, fmt.Errorf("list the threads of pid %d: %w", pid, err)
	}
	tids := make([]int, 0, len(ents))
	for _, e := range ents {
		if tid, err := strconv.Atoi(e.Name()); err == nil {
			tids = append(tids, tid)
		}
	}
	return tids, nil
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

// countSyscallRate runs `perf stat` on pids for d (perf's workload is
// `sleep d`, so its count lasts as long as the sleep) and returns the
// system calls per second; false when perf cannot run or counted nothing
// usable (missing, not permitted, no such event).
func countSyscallRate(ctx context.Context, d time.Duration, pids ...int) (float64, bool) {
	path, err := exec.LookPath("perf")
	if err != nil {
		return 0, false
	}
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, path, "stat", "-x", ",", "-e", "raw_syscalls:sys_enter", "-p", joinPids(pids),
		"--", "sleep", strconv.FormatFloat(d.Seconds(), 'f', 3, 64))
	cmd.Stderr = &out
	if err := cmd.Run(); err != nil {
		return 0, false
	}
	n, ok := parsePerfCount(out.Bytes(), "raw_syscalls:sys_enter")
	return float64(n) / d.Seconds(), ok
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

// kernelCostOf turns the counters of a window (a at its start, b at its
// end, deliveries over win) and perf's rate of system calls into figures
// per 1,000 deliveries. syscallRate < 0 means perf did not count.
func kernelCostOf(a, b kernelSample, syscallRate float64, deliveries int64, win time.Duration) kernelCost {
	if deliveries <= 0 || win <= 0 {
		return kernelCost{}
	}
	per1k := func(n int64) float64 { return 1000 * float64(n) / float64(deliveries) }
	k := kernelCost{
		CtxSwPer1k:    per1k(b.voluntary - a.voluntary + b.involuntary - a.involuntary),
		VolCtxSwPer1k: per1k(b.voluntary - a.voluntary),
		SyscallSource: sourcePerf,
	}
	if syscallRate >= 0 {
		k.SyscallsPer1k = 1000 * syscallRate / (float64(deliveries) / win.Seconds())
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
