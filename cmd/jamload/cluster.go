package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
)

// clusterNodes is how many relay nodes a cluster run uses: each
// session's members are split across them (member i on node i % 2).
const clusterNodes = 2

// Relay names of the cluster runs, beside "jamrelay" and "node".
const (
	jamrelayCluster = "jamrelay-2nodes"
	nodeCluster     = "node-2nodes"
)

// clusterSpec runs a relay as nodes processes sharing one redis-server.
type clusterSpec struct {
	redis string // path of redis-server
	nodes int
	node  func(port int, redisURL string) *exec.Cmd
}

// jamrelayClusterSpec runs jamrelay nodes with --redis.
func jamrelayClusterSpec(bin, redis string) relaySpec {
	return relaySpec{name: jamrelayCluster, cluster: &clusterSpec{redis: redis, nodes: clusterNodes,
		node: func(port int, url string) *exec.Cmd {
			cmd := jamrelaySpec(bin).command(port)
			cmd.Args = append(cmd.Args, "--redis", url)
			return cmd
		}}}
}

// nodeClusterSpec runs the Node relay with @socket.io/redis-adapter.
func nodeClusterSpec(serverJS, redis string) relaySpec {
	return relaySpec{name: nodeCluster, cluster: &clusterSpec{redis: redis, nodes: clusterNodes,
		node: func(port int, url string) *exec.Cmd {
			cmd := nodeSpec(serverJS).command(port)
			cmd.Env = append(cmd.Env, "REDIS_URL="+url)
			return cmd
		}}}
}

// startCluster starts a redis-server (no persistence) then the nodes,
// and returns the first node with the others and Redis attached: its
// bases are every node's, its pids every process's.
func startCluster(ctx context.Context, name string, cpus cpuPlan, cs clusterSpec) (*relayProc, error) {
	redis, err := startProc(ctx, "redis-server", cpus, func(port int) *exec.Cmd {
		cmd := exec.Command(cs.redis, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--loglevel", "warning")
		cmd.Dir = os.TempDir() // without persistence it writes nothing there
		return cmd
	})
	if err != nil {
		return nil, err
	}
	url := fmt.Sprintf("redis://%s/0", redis.base[len("http://"):])
	var nodes []*relayProc
	for range cs.nodes {
		n, err := startProc(ctx, name, cpus, func(port int) *exec.Cmd { return cs.node(port, url) })
		if err != nil {
			for _, o := range nodes {
				o.stop()
			}
			redis.stop()
			return nil, err
		}
		nodes = append(nodes, n)
	}
	first := nodes[0]
	first.others = append(nodes[1:], redis)
	first.bases, first.pids = nil, nil
	for _, n := range append(nodes, redis) {
		first.pids = append(first.pids, n.pid)
		if n != redis {
			first.bases = append(first.bases, n.base)
		}
	}
	return first, nil
}

// clusterP99SlackMs is how much higher the cross-node p99 may be than
// one node's.
const clusterP99SlackMs = 1.0

// evaluateCluster checks the cluster's targets: nothing lost across
// nodes, p99 at most clusterP99SlackMs above one node's, and at most a
// fifth of Node's with its Redis adapter.
func evaluateCluster(tp []throughputResult) []target {
	var out []target
	for _, sc := range scenarioNames(tp) {
		byName := map[string]throughputResult{}
		for _, r := range resultsOf(tp, sc) {
			byName[r.Relay] = r
		}
		c, ok := byName[jamrelayCluster]
		if !ok {
			continue
		}
		out = append(out, target{verdict(c.Lost <= 0 && c.WriteErrors == 0), "nothing lost across nodes at " + sc,
			fmt.Sprintf("%d lost of %d", c.Lost, c.Expected)})
		if one, ok := byName["jamrelay"]; ok {
			limit := one.Latency.P99 + clusterP99SlackMs
			out = append(out, target{verdict(c.Latency.P99 <= limit), "cross-node p99 <= one node's + 1 ms at " + sc,
				fmt.Sprintf("2 nodes %.2f ms, one node %.2f ms, limit %.2f ms", c.Latency.P99, one.Latency.P99, limit)})
		}
		if n, ok := byName[nodeCluster]; ok && n.Latency.Samples > 0 {
			limit := n.Latency.P99 / p99Factor
			out = append(out, target{verdict(c.Latency.P99 <= limit), "cross-node p99 <= node+redis-adapter p99 / 5 at " + sc,
				fmt.Sprintf("jamrelay %.2f ms, node %.2f ms, limit %.2f ms", c.Latency.P99, n.Latency.P99, limit)})
		}
	}
	return out
}
