package main

import (
	"fmt"
	"os"
	"runtime"
)

// procsEnv is the variable of --procs.
const procsEnv = "JAMRELAY_PROCS"

// defaultProcs is how many threads jamrelay runs Go code on when neither
// --procs nor GOMAXPROCS says: half of what the runtime would take (the
// CPUs it may use), rounded up. A relay's work is mostly system calls,
// one small write per delivery; with a thread per CPU its threads keep
// waking each other to take over goroutines, and each of those context
// switches costs more than the work handed over, while the kernel's share
// of a delivery (the TCP work, here and at the receivers) runs on the
// CPUs left (README, Benchmarks: CPU per delivery and capacity with 1
// and 2 of 2 CPUs).
func defaultProcs(runtimeProcs int) int {
	return (runtimeProcs + 1) / 2
}

// chooseProcs returns the GOMAXPROCS jamrelay sets, or 0 to leave the
// runtime's choice: flag is --procs (or JAMRELAY_PROCS), set tells
// whether it was given, gomaxprocsEnv is the GOMAXPROCS variable. An
// explicit --procs wins, 0 meaning the runtime's choice; else a
// GOMAXPROCS variable is the runtime's choice; else defaultProcs.
func chooseProcs(flag int, set bool, gomaxprocsEnv string, runtimeProcs int) (int, error) {
	switch {
	case set && flag < 0:
		return 0, fmt.Errorf("--procs must be 0 (the Go runtime's choice) or more, got %d", flag)
	case set:
		return flag, nil
	case gomaxprocsEnv != "":
		return 0, nil
	default:
		return defaultProcs(runtimeProcs), nil
	}
}

// setProcs applies --procs and returns the GOMAXPROCS in force.
func setProcs(flag int, set bool) (int, error) {
	n, err := chooseProcs(flag, set, os.Getenv("GOMAXPROCS"), runtime.GOMAXPROCS(0))
	if err != nil {
		return 0, err
	}
	if n > 0 {
		runtime.GOMAXPROCS(n)
	}
	return runtime.GOMAXPROCS(0), nil
}
