// Command jambridge connects the MIDI gear you own to a jam session: it
// sends what you play on USB keyboards and drum pads to the session and
// plays the other musicians on your synth. It can host the session too.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := newApp().RunContext(ctx, os.Args); err != nil {
		fmt.Fprintln(os.Stderr, "jambridge:", err)
		os.Exit(1)
	}
}
