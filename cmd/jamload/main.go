// Command jamload is the relay benchmark the README quotes. It measures
// jamrelay (the Go relay) and the reference Node Socket.IO relay in the
// same invocation, side by side, on the same machine.
//
// For every scenario and every relay it starts a fresh relay process on
// a free loopback port, waits until it accepts connections, runs the
// scenario against it, and stops it (SIGTERM, then SIGKILL after 3 s).
//
// # Throughput scenarios (NxMxR)
//
// N sessions of M members; every member sends R events per second and
// receives the other members' events, so the relay owes N*M*(M-1)*R
// deliveries per second. Each event is a realistic drum_hit or
// piano_note (120 to 135 bytes of payload, sent with seq) whose payload
// also carries the sender's index, a per-sender counter and the send
// time in unix nanoseconds. Receivers run on the same machine and clock:
// latency is receive time minus send time. After a warmup, a measurement
// window of --duration opens; latency percentiles cover every event sent
// inside the window, deliveries/s counts events received inside it.
// When the window closes the senders stop and the generator waits for
// the last events (at most 3 s); lost is what every sender's counter says
// was owed minus what arrived, over the whole run. Reordered counts a
// sender's counter going backwards at a receiver. The relay's CPU time
// (utime+stime from /proc/PID/stat) over the window gives CPU per 100k
// deliveries; its VmRSS is read at the end of the window. The
// generator's own CPU and the rest of the host's are reported too, so a
// reader can tell whether the generator or a noisy neighbour was the
// bottleneck.
//
// The relay's context switches (summed over /proc/PID/task/*/status) and
// system calls (`perf stat -e raw_syscalls:sys_enter -p PID` when perf
// may attach, else the reads and writes of /proc/PID/task/*/io; the
// table says which) over the window give both per 1,000 deliveries.
//
// # Capacity scenario
//
// "capacity" runs 40 sessions of 5 at a rate raised step by step, 1.6k to
// 160k deliveries/s, each step a --capacity-window, until p99 passes
// 10 ms, an event is lost or less is delivered than offered; a relay's
// capacity is its last step within all three (capacity.go).
//
// # Idle scenario
//
// --idle-conns connections, each a member of a session of five, opened
// 64 at a time; after 3 s the relay's RSS growth divided by the
// connections gives KB per idle connection, and its CPU is measured for
// 3 s more. The connections answer pings meanwhile.
//
// # The generator
//
// A hand-written Engine.IO 4 / Socket.IO 5 client over raw
// gorilla/websocket connections (transport=websocket): no event is JSON
// decoded on the receive path, only the three measured numbers are read
// from the raw bytes. Each connection has a reader goroutine and a
// writer goroutine that owns a ticker at 1/R, started at a random offset
// within one period so the sends are spread evenly. A tick that finds the
// writer still blocked in the previous write is skipped and counted as a
// generator stall instead of being sent late in a burst.
//
// # A shared host
//
// Other processes can take the CPU in the middle of a window. jamload
// waits for a quiet host before each run, samples the host's CPU every
// half second during the window, and runs a window again (--retries)
// when other processes used more than a quarter of a core on average or
// more than 60% of one in any half second; the least disturbed run is
// kept, and one still disturbed is flagged in a note. Waiting and
// re-running together take at most --noise-wait over the whole run. The "other CPU"
// column shows that average and peak; --cpuprofile profiles the
// generator.
//
// # Output
//
// A table per scenario, a ratio row, and a list of targets marked PASS
// or MISS. The exit status is 0 whatever the numbers; it is 1 only when
// the benchmark could not run.
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
		fmt.Fprintln(os.Stderr, "jamload:", err)
		os.Exit(1)
	}
}
