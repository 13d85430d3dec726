package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

// gcPercent is jamrelay's GOGC unless the environment sets one. The
// relay's heap is small and mostly its members' state, and a delivery
// allocates next to nothing, so collecting at half the default headroom
// costs no measurable CPU per delivery while an idle member's share of
// the heap's headroom, most of its memory after its stack, falls by
// about 1.5 KB (README, Benchmarks).
const gcPercent = 50

func main() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := newApp().RunContext(ctx, os.Args); err != nil {
		fmt.Fprintln(os.Stderr, "jamrelay:", err)
		os.Exit(1)
	}
}
