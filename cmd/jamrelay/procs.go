package main

import (
	"fmt"
	"runtime"
)

// procsEnv is the variable of --procs.
const procsEnv = "JAMRELAY_PROCS"

// chooseProcs returns the GOMAXPROCS jamrelay sets from --procs (or
// JAMRELAY_PROCS), or 0 to leave the Go runtime's choice (the CPUs it may
// use, or the GOMAXPROCS variable).
//
// The default is the runtime's choice. One thread cannot hand a reader
// woken with others to an idle second thread (the scheduler's startm and
// stopm: a futex wake and sleep each), so on the 2-core host of the
// README's benchmarks it used about a fifth less CPU per delivery with as
// good a p99 while the host ran nothing but the measurement; but whatever
// preempts it stops all of the relay's Go code, and it does the kernel's
// loopback TCP work of every write, so with other work on the host its
// p99 was worse (README, Benchmarks, fifth round). A relay with a small
// machine to itself can set 1.
func chooseProcs(flag int) (int, error) {
	if flag < 0 {
		return 0, fmt.Errorf("--procs must be 0 (the Go runtime's choice) or more, got %d", flag)
	}
	return flag, nil
}

// setProcs applies --procs and returns the GOMAXPROCS in force.
func setProcs(flag int) (int, error) {
	n, err := chooseProcs(flag)
	if err != nil {
		return 0, err
	}
	if n > 0 {
		runtime.GOMAXPROCS(n)
	}
	return runtime.GOMAXPROCS(0), nil
}
