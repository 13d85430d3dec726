//go:build !linux

package main

import (
	"fmt"
	"io"
	"os/exec"
)

// cpuPlan: nothing is pinned off Linux.
type cpuPlan struct{}

// setupCPUs accepts "" and "auto" (which pins nothing here); a list of
// CPUs is refused in one sentence.
func setupCPUs(spec string, _ io.Writer) (cpuPlan, error) {
	if spec == "" || spec == "auto" {
		return cpuPlan{}, nil
	}
	return cpuPlan{}, fmt.Errorf("--gen-cpus %s: pinning the generator needs Linux", spec)
}

func (cpuPlan) start(cmd *exec.Cmd) error { return cmd.Start() }
