package main

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
)

// ratioLabel heads the last row of every table.
const ratioLabel = "ratio jamrelay/node"

func newTable(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
}

// printThroughput prints one NxMxR scenario: a row per relay and the
// ratio row.
func printThroughput(w io.Writer, sc scenario, rs []throughputResult) {
	fmt.Fprintf(w, "\n== %s: %d sessions x %d members x %d events/s = %.0f deliveries/s offered ==\n",
		sc.name, sc.sessions, sc.members, sc.rate, sc.offered())
	tw := newTable(w)
	fmt.Fprintln(tw, "relay\tdeliv/s\tlost\treord\tstalls\tp50 ms\tp99 ms\tmax ms\tp99 at reader\tCPU ms/100k\tuser part\tsyscalls/1k\tctx sw/1k (vol)\trelay CPU%\tRSS MB\tgen CPU%\tother CPU% avg/peak")
	for _, r := range rs {
		fmt.Fprintf(tw, "%s\t%.0f\t%d\t%d\t%d\t%.2f\t%.2f\t%.2f\t%.2f\t%.0f\t%.0f\t%.0f\t%.0f (%.0f)\t%.0f\t%.1f\t%.0f\t%.0f/%.0f\n",
			r.Relay, r.Delivered, r.Lost, r.Reordered, r.Stalls, r.Latency.P50, r.Latency.P99, r.Latency.Max, r.AtReader.P99,
			r.CPUPer100k, r.UserPer100k, r.Kernel.SyscallsPer1k, r.Kernel.CtxSwPer1k, r.Kernel.VolCtxSwPer1k,
			r.RelayCPU, r.RSSMB, r.GenCPU, r.OtherCPU, r.OtherPeak)
	}
	if g, n, ok := pairOf(rs); ok {
		fmt.Fprintf(tw, "%s\t\t\t\t\t\t%.3f\t\t\t%.3f\t%.3f\t%.3f\t%.3f\t\t\t\t\n", ratioLabel,
			ratio(g.Latency.P99, n.Latency.P99), ratio(g.CPUPer100k, n.CPUPer100k), ratio(g.UserPer100k, n.UserPer100k),
			ratio(g.Kernel.SyscallsPer1k, n.Kernel.SyscallsPer1k), ratio(g.Kernel.CtxSwPer1k, n.Kernel.CtxSwPer1k))
	}
	tw.Flush()
	if len(rs) > 0 {
		printLatencyNote(w, rs)
		fmt.Fprintf(w, "system calls counted by %s (perf: over the warm-up, never inside the window); context switches from /proc/PID/task/*/status\n", rs[0].Kernel.SyscallSource)
	}
	for _, r := range rs {
		if r.Rounds > 1 {
			fmt.Fprintf(w, "%s: the run of median CPU of %d rounds (lost, reordered and stalls: all rounds); CPU ms/100k %.0f-%.0f, p99 %.2f-%.2f ms across them\n",
				r.Relay, r.Rounds, r.CPURange[0], r.CPURange[1], r.P99Range[0], r.P99Range[1])
		}
	}
	for _, r := range rs {
		if r.WriteErrors > 0 || r.Foreign > 0 {
			fmt.Fprintf(w, "note: %s: %d connections failed to send, %d events with an unknown sender\n",
				r.Relay, r.WriteErrors, r.Foreign)
		}
	}
}

// printIdle prints the idle scenario.
func printIdle(w io.Writer, rs []idleResult) {
	if len(rs) == 0 {
		return
	}
	fmt.Fprintf(w, "\n== idle: %d connections in sessions of %d ==\n", rs[0].Conns, idleGroup)
	tw := newTable(w)
	fmt.Fprintln(tw, "relay\tconns\tsetup s\tRSS before MB\tRSS after MB\tKB/conn\tidle CPU%\tother CPU%")
	var g, n *idleResult
	for i, r := range rs {
		fmt.Fprintf(tw, "%s\t%d\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t%.0f\n",
			r.Relay, r.Conns, r.SetupSec, r.RSSBeforeMB, r.RSSAfterMB, r.KBPerConn, r.IdleCPU, r.OtherCPU)
		switch r.Relay {
		case "jamrelay":
			g = &rs[i]
		case "node":
			n = &rs[i]
		}
	}
	if g != nil && n != nil {
		fmt.Fprintf(tw, "%s\t\t\t\t\t%.3f\t\t\n", ratioLabel, ratio(g.KBPerConn, n.KBPerConn))
	}
	tw.Flush()
}

// pairOf finds the jamrelay and node results among rs.
func pairOf(rs []throughputResult) (g, n throughputResult, ok bool) {
	var hasG, hasN bool
	for _, r := range rs {
		switch r.Relay {
		case "jamrelay":
			g, hasG = r, true
		case "node":
			n, hasN = r, true
		}
	}
	return g, n, hasG && hasN
}

// printJSON prints each value on a line of its own, tagged with kind.
func printJSON(w io.Writer, kind string, vs ...any) {
	for _, v := range vs {
		b, err := json.Marshal(struct {
			Kind string `json:"kind"`
			V    any    `json:"result"`
		}{kind, v})
		if err != nil {
			panic(err) // our own structs always marshal
		}
		fmt.Fprintf(w, "%s\n", b)
	}
}

// printLatencyNote says what the latencies measure, and how many of
// them had no kernel stamp and were charged up to the generator's read.
func printLatencyNote(w io.Writer, rs []throughputResult) {
	fmt.Fprintln(w, "latency: the sender's write to the kernel queueing the delivery on the receiver's socket (SO_TIMESTAMPNS); p99 at reader: to the generator's read")
	for _, r := range rs {
		if r.Unstamped > 0 {
			fmt.Fprintf(w, "%s: %d of %d latencies without a kernel stamp, charged up to the read\n", r.Relay, r.Unstamped, r.Latency.Samples)
		}
	}
}
