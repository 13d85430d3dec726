package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/urfave/cli/v2"
)

// options is everything the flags say, read once in the action.
type options struct {
	jamrelay       string // path of the jamrelay binary
	nodeRelay      string // path of server.js; empty skips Node
	redis          string // path of redis-server; empty skips the cluster runs
	duration       time.Duration
	warmup         time.Duration
	idleConns      int
	capacityWindow time.Duration // each step of the capacity scenario
	scenarios      []scenario
	retries        int
	rounds         int           // throughput windows per relay and scenario, the relays alternating
	noiseWait      time.Duration // budget for waiting out other processes
	json           bool
	profile        string // generator CPU profile file; empty: none
	clockHz        int64  // clock ticks per second of /proc CPU times
	genProcs       int    // the generator's GOMAXPROCS; 0: the runtime's choice
	genCPUs        string // --gen-cpus: "auto", a CPU list, or "" (nothing pinned)
}

func newApp() *cli.App {
	return &cli.App{
		Name:  "jamload",
		Usage: "benchmark jamrelay against the reference Node relay, side by side",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "jamrelay", Required: true, Usage: "path of the jamrelay binary"},
			&cli.StringFlag{Name: "node-relay", Usage: "path of the Node reference relay's server.js (empty: skip Node)"},
			&cli.StringFlag{Name: "redis-server", Usage: "path of redis-server: also run each relay as two nodes on one Redis, each session's members split across them (empty: skip)"},
			&cli.DurationFlag{Name: "duration", Value: 10 * time.Second, Usage: "measurement window per scenario"},
			&cli.DurationFlag{Name: "warmup", Value: 2 * time.Second, Usage: "load before the window opens"},
			&cli.IntFlag{Name: "idle-conns", Value: 10_000, Usage: "connections of the idle scenario"},
			&cli.StringFlag{Name: "scenarios", Value: "40x5x50,40x5x100,idle,capacity", Usage: "comma list of NxMxR (sessions x members x events/s), idle and capacity"},
			&cli.DurationFlag{Name: "capacity-window", Value: 4 * time.Second, Usage: "measurement window of each step of the capacity scenario"},
			&cli.IntFlag{Name: "retries", Value: 2, Usage: "re-runs of a throughput window that other processes disturbed"},
			&cli.IntFlag{Name: "rounds", Value: 1, Usage: "throughput windows per relay and scenario, the relays taking turns; the table keeps each relay's run of median CPU per delivery and counts what was lost in every round"},
			&cli.DurationFlag{Name: "noise-wait", Value: time.Minute, Usage: "most extra time, over the whole run, spent waiting for a quiet host and re-running disturbed windows"},
			&cli.BoolFlag{Name: "json", Usage: "also print the results as JSON lines"},
			&cli.IntFlag{Name: "gen-procs", Value: 1, Usage: "threads running the generator's Go code at once (GOMAXPROCS): 1 leaves the relay the other cores and spares the generator the wake-ups between its own threads; 0: the Go runtime's choice (1 when --gen-cpus gives it one CPU)"},
			&cli.StringFlag{Name: "gen-cpus", Value: "auto", Usage: "CPUs the generator is confined to, e.g. 1 or 2-3; the relays may use every CPU. auto: the last CPU, on a host with two or more; empty: nothing pinned"},
			&cli.StringFlag{Name: "cpuprofile", Usage: "write the generator's CPU profile to this file (to check it is not the bottleneck)"},
		},
		Action: func(c *cli.Context) error {
			o, err := optionsFrom(c)
			if err != nil {
				return err
			}
			return run(c.Context, o, c.App.Writer, c.App.ErrWriter)
		},
	}
}

func optionsFrom(c *cli.Context) (options, error) {
	o := options{
		jamrelay:       c.String("jamrelay"),
		nodeRelay:      c.String("node-relay"),
		redis:          c.String("redis-server"),
		duration:       c.Duration("duration"),
		warmup:         c.Duration("warmup"),
		idleConns:      c.Int("idle-conns"),
		capacityWindow: c.Duration("capacity-window"),
		retries:        c.Int("retries"),
		rounds:         c.Int("rounds"),
		noiseWait:      c.Duration("noise-wait"),
		json:           c.Bool("json"),
		profile:        c.String("cpuprofile"),
		genProcs:       c.Int("gen-procs"),
		genCPUs:        c.String("gen-cpus"),
	}
	var err error
	if o.scenarios, err = parseScenarios(c.String("scenarios")); err != nil {
		return o, err
	}
	if o.duration <= 0 || o.capacityWindow <= 0 || o.warmup < 0 || o.idleConns <= 0 || o.retries < 0 || o.genProcs < 0 || o.rounds <= 0 {
		return o, errors.New("--duration, --capacity-window, --idle-conns and --rounds must be positive, --warmup, --retries and --gen-procs not negative")
	}
	if _, err := os.Stat(o.jamrelay); err != nil {
		return o, fmt.Errorf("--jamrelay: %w (build it: CGO_ENABLED=0 go build -o /tmp/jamrelay ./cmd/jamrelay)", err)
	}
	if o.nodeRelay != "" {
		if o.nodeRelay, err = filepath.Abs(o.nodeRelay); err != nil {
			return o, err
		}
		mods := filepath.Join(filepath.Dir(o.nodeRelay), "node_modules")
		if _, err := os.Stat(mods); err != nil {
			return o, fmt.Errorf("--node-relay: %s is missing: run npm ci in %s", mods, filepath.Dir(o.nodeRelay))
		}
	}
	return o, nil
}
