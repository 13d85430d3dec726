// Command jamrelay is the jam session server: a Socket.IO v4 relay that
// browser pages and jambridge daemons join by room code.
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
		fmt.Fprintln(os.Stderr, "jamrelay:", err)
		os.Exit(1)
	}
}
