package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// pinHelperEnv makes the test binary act as a pinned generator
// (pinHelper) instead of running the tests: pinning is for a whole
// process, so it is checked in one of its own.
const pinHelperEnv = "JAMLOAD_PIN_HELPER"

func TestMain(m *testing.M) {
	switch os.Getenv(pinHelperEnv) {
	case "":
	case "sleep": // the helper's child: it waits to be killed
		time.Sleep(time.Hour)
	default:
		if err := pinHelper(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func cpus(list string) unix.CPUSet {
	s, err := parseCPUList(list)
	if err != nil {
		panic(err)
	}
	return s
}

func TestPlanCPUs(t *testing.T) {
	for _, tc := range []struct {
		spec, allowed string
		gen           string // "" when nothing is pinned
		err           string
	}{
		{spec: "", allowed: "0-1"},
		{spec: "auto", allowed: "0-1", gen: "1"},
		{spec: "auto", allowed: "0,2,5", gen: "5"},
		{spec: "auto", allowed: "3"},
		{spec: "0", allowed: "0-1", gen: "0"},
		{spec: "1-2", allowed: "0-3", gen: "1-2"},
		{spec: "0-1", allowed: "0-1", err: "leaves no CPU to the relays alone"},
		{spec: "2", allowed: "0-1", err: "CPU 2 is not one this process may use (0-1)"},
		{spec: "x", allowed: "0-1", err: `"x" is not a CPU number`},
		{spec: "1-0", allowed: "0-1", err: `"1-0" is not a CPU number`},
		{spec: "0,", allowed: "0-1", err: `"" is not a CPU number`},
		{spec: "0, 2", allowed: "0-3", gen: "0,2"},
		{spec: "5000", allowed: "0-1", err: `"5000" is not a CPU number`},
	} {
		allowed := cpus(tc.allowed)
		p, err := planCPUs(tc.spec, allowed)
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("planCPUs(%q, %s): error %v, want one saying %q", tc.spec, tc.allowed, err, tc.err)
			}
		case err != nil:
			t.Errorf("planCPUs(%q, %s): %v", tc.spec, tc.allowed, err)
		case tc.gen == "":
			if p.gen != nil || p.relays != nil {
				t.Errorf("planCPUs(%q, %s) pins something: %+v", tc.spec, tc.allowed, p)
			}
		case p.gen == nil || *p.gen != cpus(tc.gen) || p.relays == nil || *p.relays != allowed:
			t.Errorf("planCPUs(%q, %s) = %+v, want the generator on %s and the relays on %s", tc.spec, tc.allowed, p, tc.gen, tc.allowed)
		}
	}
}

func TestFormatCPUsReadsBackAsParsed(t *testing.T) {
	for _, list := range []string{"0", "0-1", "0-2,5,7-8", "3,1023"} {
		if got := formatCPUs(cpus(list)); got != list {
			t.Errorf("formatCPUs(parseCPUList(%q)) = %q", list, got)
		}
	}
}

// TestPinnedGeneratorStartsRelaysOnEveryCPU runs pinHelper in a process
// of its own: every thread of the generator, those made after the pin
// included, stays on the generator's CPU, and a relay it starts may use
// every CPU the generator could before. On a host of one CPU it checks
// that auto pins nothing and the child keeps that CPU.
func TestPinnedGeneratorStartsRelaysOnEveryCPU(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(self, "-test.run=^$")
	cmd.Env = append(os.Environ(), pinHelperEnv+"=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("the pinned helper: %v\n%s", err, out)
	}
}

// pinHelper pins this process as jamload does (--gen-cpus auto) and
// checks where its threads and a child may run.
func pinHelper() error {
	allowed, err := allowedCPUs()
	if err != nil {
		return err
	}
	plan, err := setupCPUs("auto", io.Discard)
	if err != nil {
		return err
	}
	gen := allowed // one CPU: auto pins nothing
	if plan.gen != nil {
		gen = *plan.gen
	}
	if allowed.Count() >= 2 && gen.Count() != 1 {
		return fmt.Errorf("auto on CPUs %s pinned the generator to %s, want one CPU", formatCPUs(allowed), formatCPUs(gen))
	}
	if err := threadsOn(gen); err != nil {
		return fmt.Errorf("pinned: %w", err)
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	child := exec.Command(self)
	child.Env = append(os.Environ(), pinHelperEnv+"=sleep")
	if err := plan.start(child); err != nil {
		return err
	}
	defer func() { _ = child.Process.Kill(); _ = child.Wait() }()
	var childSet unix.CPUSet
	if err := unix.SchedGetaffinity(child.Process.Pid, &childSet); err != nil {
		return fmt.Errorf("read the child's CPUs: %w", err)
	}
	if childSet != allowed {
		return fmt.Errorf("the child may use CPUs %s, want every CPU the process could: %s", formatCPUs(childSet), formatCPUs(allowed))
	}
	if err := threadsOn(gen); err != nil {
		return fmt.Errorf("after starting a child: %w", err)
	}
	return nil
}

// threadsOn checks every thread there is, and new ones the runtime makes
// for goroutines locked to threads of their own, against want.
func threadsOn(want unix.CPUSet) error {
	tids, err := threadIDs(os.Getpid())
	if err != nil {
		return err
	}
	for _, tid := range tids {
		var s unix.CPUSet
		if unix.SchedGetaffinity(tid, &s) == nil && s != want {
			return fmt.Errorf("thread %d may use CPUs %s, want %s", tid, formatCPUs(s), formatCPUs(want))
		}
	}
	const locked = 4
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		all     sync.WaitGroup
		release = make(chan struct{})
		bad     []string
	)
	all.Add(locked)
	for range locked {
		wg.Go(func() {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			var s unix.CPUSet
			err := unix.SchedGetaffinity(0, &s)
			mu.Lock()
			if err != nil || s != want {
				bad = append(bad, fmt.Sprintf("%s (%v)", formatCPUs(s), err))
			}
			mu.Unlock()
			all.Done()
			<-release // each holds its thread until all have one
		})
	}
	all.Wait()
	close(release)
	wg.Wait()
	if len(bad) > 0 {
		return fmt.Errorf("new threads may use CPUs %v, want %s", bad, formatCPUs(want))
	}
	return nil
}
