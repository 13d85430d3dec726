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
// The default is the runtime's choice: on the 2-core host of the README's
// benchmarks, 1 thread instead of 2 made fewer context switches and less
// user time per delivery, but the same CPU per delivery within the
// host's noise once the relay's socket calls stopped waking the
// scheduler (internal/rawsys), and a worse p99 (27.8 ms against 4.4 at
// 40k deliveries/s) and capacity: one thread also does the kernel's TCP
// work of every write it makes (README, Benchmarks). An operator
// sharing a small machine with other work can set it.
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
