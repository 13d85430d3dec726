package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// cpuPlan is where the generator and the relays run: gen confines every
// thread of jamload, relays is what each relay process (and its Redis)
// is started with. A nil gen means nothing is pinned.
type cpuPlan struct {
	gen, relays *unix.CPUSet
}

// maxCPUs is how many CPUs a unix.CPUSet can name (0 to 1023).
const maxCPUs = 1024

// pinAttempts bounds the passes over this process's threads: a thread
// made during a pass by one not yet pinned is caught by the next.
const pinAttempts = 20

// planCPUs reads --gen-cpus against the CPUs this process may use
// (allowed): "" pins nothing; "auto" gives the generator the last of
// them when there are two or more; otherwise a list like "1" or "0,2-3",
// which must lie inside allowed and leave a CPU out. The relays keep
// every allowed CPU, the generator's included: it is what a relay would
// have on a machine of its own, less what the generator takes.
func planCPUs(spec string, allowed unix.CPUSet) (cpuPlan, error) {
	relays := allowed
	switch spec {
	case "":
		return cpuPlan{}, nil
	case "auto":
		if allowed.Count() < 2 {
			return cpuPlan{}, nil
		}
		var gen unix.CPUSet
		gen.Set(lastCPU(allowed))
		return cpuPlan{gen: &gen, relays: &relays}, nil
	}
	gen, err := parseCPUList(spec)
	if err != nil {
		return cpuPlan{}, err
	}
	for c := range maxCPUs {
		if gen.IsSet(c) && !allowed.IsSet(c) {
			return cpuPlan{}, fmt.Errorf("--gen-cpus %s: CPU %d is not one this process may use (%s)", spec, c, formatCPUs(allowed))
		}
	}
	if gen.Count() == allowed.Count() {
		return cpuPlan{}, fmt.Errorf("--gen-cpus %s: leaves no CPU to the relays alone (this process may use %s)", spec, formatCPUs(allowed))
	}
	return cpuPlan{gen: &gen, relays: &relays}, nil
}

// parseCPUList reads a list of CPUs and ranges: "1", "0,2-3".
func parseCPUList(spec string) (unix.CPUSet, error) {
	var set unix.CPUSet
	for part := range strings.SplitSeq(spec, ",") {
		part = strings.TrimSpace(part)
		lo, hi, isRange := strings.Cut(part, "-")
		if !isRange {
			hi = lo
		}
		a, errA := strconv.Atoi(lo)
		b, errB := strconv.Atoi(hi)
		if errA != nil || errB != nil || a < 0 || b < a || b >= maxCPUs {
			return set, fmt.Errorf("--gen-cpus %s: %q is not a CPU number or a range like 2-3", spec, part)
		}
		for c := a; c <= b; c++ {
			set.Set(c)
		}
	}
	return set, nil
}

func lastCPU(s unix.CPUSet) int {
	last := -1
	for c := range maxCPUs {
		if s.IsSet(c) {
			last = c
		}
	}
	return last
}

// formatCPUs writes s as a list of CPUs and ranges ("0-1,3").
func formatCPUs(s unix.CPUSet) string {
	var parts []string
	for c := 0; c < maxCPUs; c++ {
		if !s.IsSet(c) {
			continue
		}
		end := c
		for end+1 < maxCPUs && s.IsSet(end+1) {
			end++
		}
		if end == c {
			parts = append(parts, strconv.Itoa(c))
		} else {
			parts = append(parts, strconv.Itoa(c)+"-"+strconv.Itoa(end))
		}
		c = end
	}
	return strings.Join(parts, ",")
}

// cpuWords names s for a log line: "CPU 1", "CPUs 0-1".
func cpuWords(s unix.CPUSet) string {
	if s.Count() == 1 {
		return "CPU " + formatCPUs(s)
	}
	return "CPUs " + formatCPUs(s)
}

// allowedCPUs is the set this process may run on now.
func allowedCPUs() (unix.CPUSet, error) {
	var s unix.CPUSet
	err := unix.SchedGetaffinity(0, &s)
	return s, err
}

// pinProcess confines every thread of this process to set. Threads the
// runtime makes later inherit the mask of the thread that makes them,
// so once every thread is pinned, all are for good. It stops after two
// passes in a row find every thread pinned: a thread being made during
// a pass (its mask copied from a parent not yet pinned, not yet listed)
// is listed by the next.
func pinProcess(set *unix.CPUSet) error {
	clean := 0
	for range pinAttempts {
		tids, err := threadIDs(os.Getpid())
		if err != nil {
			return err
		}
		changed := false
		for _, tid := range tids {
			var cur unix.CPUSet
			if unix.SchedGetaffinity(tid, &cur) == nil && cur == *set {
				continue
			}
			if err := unix.SchedSetaffinity(tid, set); err != nil && !errors.Is(err, unix.ESRCH) {
				return fmt.Errorf("pin thread %d to %s: %w", tid, cpuWords(*set), err)
			}
			changed = true
		}
		if clean = clean + 1; changed {
			clean = 0
		}
		if clean == 2 {
			return nil
		}
	}
	return fmt.Errorf("pin the generator to %s: threads kept appearing unpinned after %d passes", cpuWords(*set), pinAttempts)
}

// setupCPUs pins the generator as --gen-cpus (spec) says and returns
// the plan the relays are started with; it logs where each runs.
func setupCPUs(spec string, log io.Writer) (cpuPlan, error) {
	if spec == "" {
		return cpuPlan{}, nil
	}
	allowed, err := allowedCPUs()
	switch {
	case err != nil && spec == "auto":
		fmt.Fprintf(log, "jamload: cannot read the CPUs this process may use (%v); the generator is not pinned\n", err)
		return cpuPlan{}, nil
	case err != nil:
		return cpuPlan{}, fmt.Errorf("--gen-cpus %s: read the CPUs this process may use: %w", spec, err)
	}
	plan, err := planCPUs(spec, allowed)
	if err != nil || plan.gen == nil {
		return cpuPlan{}, err
	}
	if err := pinProcess(plan.gen); err != nil {
		return cpuPlan{}, err
	}
	fmt.Fprintf(log, "jamload: the generator runs on %s, the relays on %s\n", cpuWords(*plan.gen), cpuWords(*plan.relays))
	return plan, nil
}

// start starts cmd allowed on the relays' CPUs (as this process is when
// nothing is pinned). The fork is made from a thread locked for it and
// set to those CPUs for the moment, so the child inherits them; the
// thread is pinned back before it is unlocked, and when that fails it is
// never unlocked and ends with its goroutine: no generator code runs
// off the generator's CPUs. cmd must not set SysProcAttr.Pdeathsig: it
// fires when the thread that forked ends, which that error path does.
func (p cpuPlan) start(cmd *exec.Cmd) error {
	if p.relays == nil {
		return cmd.Start()
	}
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if err := unix.SchedSetaffinity(0, p.relays); err != nil {
			errc <- fmt.Errorf("widen a thread to %s: %w", cpuWords(*p.relays), err)
			return
		}
		err := cmd.Start()
		if unix.SchedSetaffinity(0, p.gen) == nil {
			runtime.UnlockOSThread()
		}
		errc <- err
	}()
	return <-errc
}
