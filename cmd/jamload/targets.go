package main

import (
	"fmt"
	"io"
	"strings"
)

// Targets the README quotes (issue 14).
const (
	p99Factor      = 5      // jamrelay p99 at most node's divided by this
	cpuShare       = 0.6    // jamrelay CPU per delivery at most this share of node's; system time at most node's
	fastP99Ms      = 10.0   // p99 below this...
	fastRate       = 80_000 // ...at this many deliveries per second
	fastRateSlack  = 0.99   // window edges cost a few deliveries
	idleShare      = 0.75   // memory per idle connection at most this share of node's...
	idleConnsFloor = 10_000 // ...with this many open
	capacityFactor = 3      // jamrelay capacity at least node's times this
)

// target is one evaluated goal.
type target struct {
	Status string `json:"status"` // PASS, MISS or n/a
	Name   string `json:"name"`
	Detail string `json:"detail"`
}

func verdict(pass bool) string {
	if pass {
		return "PASS"
	}
	return "MISS"
}

// evaluate checks every target against the results.
func evaluate(tp []throughputResult, idle []idleResult, cp []capacityResult) []target {
	var out []target
	out = append(out, targetNothingLost(tp))
	for _, sc := range scenarioNames(tp) {
		g, n, ok := pairOf(resultsOf(tp, sc))
		if !ok {
			continue
		}
		limit := n.Latency.P99 / p99Factor
		out = append(out, target{verdict(g.Latency.P99 <= limit), "p99 <= node p99 / 5 at " + sc,
			fmt.Sprintf("jamrelay %.2f ms, node %.2f ms, limit %.2f ms", g.Latency.P99, n.Latency.P99, limit)})
		limit = n.CPUPer100k * cpuShare
		out = append(out, target{verdict(g.CPUPer100k <= limit), "CPU/delivery <= node x 0.6 at " + sc,
			fmt.Sprintf("jamrelay %.0f, node %.0f, limit %.0f CPU ms per 100k deliveries", g.CPUPer100k, n.CPUPer100k, limit)})
		gs, ns := g.CPUPer100k-g.UserPer100k, n.CPUPer100k-n.UserPer100k
		out = append(out, target{verdict(gs <= ns), "system time/delivery <= node's at " + sc,
			fmt.Sprintf("jamrelay %.0f, node %.0f system CPU ms per 100k deliveries", gs, ns)})
	}
	out = append(out, targetFast(tp), targetIdle(idle), targetCapacity(cp))
	return out
}

func targetCapacity(cp []capacityResult) target {
	t := target{Status: "n/a", Name: "capacity (p99 <= 10 ms) >= node x 3", Detail: "capacity scenario not run on both relays"}
	var g, n float64
	var ranG, ranN bool // the cluster runs (jamrelay-2nodes, node-2nodes) are not this target's
	for _, c := range cp {
		switch c.Relay {
		case "jamrelay":
			g, ranG = c.Capacity, true
		case "node":
			n, ranN = c.Capacity, true
		}
	}
	switch {
	case !ranG || !ranN:
	case n == 0 && g > 0: // no ratio: node's capacity is below the first step
		t.Detail = fmt.Sprintf("jamrelay %.0f deliveries/s, node below the first step (%d/s): no ratio",
			g, capacitySessions*capacityMembers*(capacityMembers-1)*capacityRates[0])
	default:
		t.Status = verdict(n > 0 && g >= capacityFactor*n)
		t.Detail = fmt.Sprintf("jamrelay %.0f, node %.0f deliveries/s", g, n)
	}
	return t
}

func targetNothingLost(tp []throughputResult) target {
	t := target{Status: "n/a", Name: "nothing lost (jamrelay)"}
	var parts []string
	pass := true
	for _, r := range tp {
		if r.Relay == "jamrelay" {
			pass = pass && r.Lost <= 0 && r.WriteErrors == 0
			parts = append(parts, fmt.Sprintf("%s: %d lost of %d", r.Scenario, r.Lost, r.Expected))
		}
	}
	if len(parts) > 0 {
		t.Status, t.Detail = verdict(pass), strings.Join(parts, "; ")
	}
	return t
}

func targetFast(tp []throughputResult) target {
	t := target{Status: "n/a", Name: fmt.Sprintf("p99 < %.0f ms at >= %dk deliveries/s (jamrelay)", fastP99Ms, fastRate/1000),
		Detail: "no scenario offers that much"}
	var parts []string
	pass := true
	for _, r := range tp {
		if r.Relay != "jamrelay" || r.Offered < fastRate {
			continue
		}
		pass = pass && r.Latency.P99 < fastP99Ms && r.Delivered >= fastRate*fastRateSlack
		parts = append(parts, fmt.Sprintf("%s: %.0f deliveries/s, p99 %.2f ms", r.Scenario, r.Delivered, r.Latency.P99))
	}
	if len(parts) > 0 {
		t.Status, t.Detail = verdict(pass), strings.Join(parts, "; ")
	}
	return t
}

func targetIdle(idle []idleResult) target {
	t := target{Status: "n/a", Name: fmt.Sprintf("KB per idle connection <= node x 0.75 at %dk", idleConnsFloor/1000),
		Detail: "idle scenario not run on both relays with enough connections"}
	var g, n *idleResult
	for i, r := range idle {
		switch {
		case r.Conns < idleConnsFloor:
		case r.Relay == "jamrelay":
			g = &idle[i]
		case r.Relay == "node":
			n = &idle[i]
		}
	}
	if g != nil && n != nil {
		t.Status = verdict(g.KBPerConn <= idleShare*n.KBPerConn)
		t.Detail = fmt.Sprintf("jamrelay %.1f KB, node %.1f KB, limit %.1f KB per connection", g.KBPerConn, n.KBPerConn, idleShare*n.KBPerConn)
	}
	return t
}

func printTargets(w io.Writer, ts []target) {
	fmt.Fprintln(w, "\ntargets")
	for _, t := range ts {
		fmt.Fprintf(w, "  %-4s  %s: %s\n", t.Status, t.Name, t.Detail)
	}
}

// scenarioNames lists the scenarios of tp in order, once each.
func scenarioNames(tp []throughputResult) []string {
	var names []string
	for _, r := range tp {
		if len(names) == 0 || names[len(names)-1] != r.Scenario {
			names = append(names, r.Scenario)
		}
	}
	return names
}

func resultsOf(tp []throughputResult, sc string) []throughputResult {
	var out []throughputResult
	for _, r := range tp {
		if r.Scenario == sc {
			out = append(out, r)
		}
	}
	return out
}
