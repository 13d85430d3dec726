package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// clockTicks returns the kernel's clock ticks per second, the unit of
// the CPU times in /proc (getconf CLK_TCK). It is 100 on every Linux
// build we know of, and 100 is assumed when getconf is missing.
func clockTicks() (hz int64, assumed bool) {
	out, err := exec.Command("getconf", "CLK_TCK").Output()
	if err == nil {
		if v, err := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64); err == nil && v > 0 {
			return v, false
		}
	}
	return 100, true
}

// procCPU returns the user and system CPU time of process pid, all its
// threads, in clock ticks (fields 14 and 15 of /proc/PID/stat).
func procCPU(pid int) (user, sys int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, err
	}
	return parseStatCPU(b)
}

// parseStatCPU reads utime and stime from a /proc/PID/stat line. The
// command name in parentheses may hold spaces, so fields are counted
// after the last ')': the state is field 3, utime 14 and stime 15.
func parseStatCPU(b []byte) (user, sys int64, err error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, fmt.Errorf("bad /proc stat line")
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, 0, fmt.Errorf("short /proc stat line")
	}
	user, err1 := strconv.ParseInt(f[11], 10, 64)
	sys, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, 0, fmt.Errorf("bad cpu times in /proc stat line")
	}
	return user, sys, nil
}

// procRSS returns the resident set size of pid in bytes (VmRSS).
func procRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("bad VmRSS line %q", line)
			}
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("no VmRSS for pid %d", pid)
}

// hostCPU returns the busy clock ticks of all CPUs together from the
// first line of /proc/stat: everything but idle and iowait. Guest time is
// already inside user time and is not added again.
func hostCPU() (busy int64, err error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, err
	}
	line, _, _ := bytes.Cut(b, []byte("\n"))
	f := strings.Fields(string(line))
	if len(f) < 9 || f[0] != "cpu" {
		return 0, fmt.Errorf("bad /proc/stat")
	}
	for k, s := range f[1:9] { // user nice system idle iowait irq softirq steal
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("bad /proc/stat: %w", err)
		}
		if k != 3 && k != 4 {
			busy += v
		}
	}
	return busy, nil
}

// cpuSample is the CPU clock of the relay, of the generator and of the
// whole host at one instant.
type cpuSample struct {
	at          time.Time
	relay, self int64 // user+system clock ticks
	relayUser   int64 // user clock ticks of the relay
	hostBusy    int64 // clock ticks, summed over all CPUs
}

// takeCPUSample samples the relay's processes (summed), the generator
// and the host.
func takeCPUSample(relayPIDs ...int) (cpuSample, error) {
	s := cpuSample{at: time.Now()}
	for _, pid := range relayPIDs {
		user, sys, err := procCPU(pid)
		if err != nil {
			return s, fmt.Errorf("relay cpu: %w", err)
		}
		s.relay, s.relayUser = s.relay+user+sys, s.relayUser+user
	}
	user, sys, err := procCPU(os.Getpid())
	if err != nil {
		return s, fmt.Errorf("own cpu: %w", err)
	}
	s.self = user + sys
	s.hostBusy, err = hostCPU()
	return s, err
}

// cpuUse is CPU use between two samples, each in percent of one core.
type cpuUse struct {
	wall              time.Duration
	relayCPU          time.Duration // user+system
	relayUser         time.Duration // user only: the relay's own code
	relay, gen, other float64       // other: everything else on the host
}

func cpuBetween(a, b cpuSample, hz int64) cpuUse {
	u := cpuUse{wall: b.at.Sub(a.at)}
	if u.wall <= 0 {
		return u
	}
	tick := time.Second / time.Duration(hz)
	u.relayCPU = time.Duration(b.relay-a.relay) * tick
	u.relayUser = time.Duration(b.relayUser-a.relayUser) * tick
	pct := func(ticks int64) float64 {
		return 100 * (time.Duration(ticks) * tick).Seconds() / u.wall.Seconds()
	}
	u.relay, u.gen = pct(b.relay-a.relay), pct(b.self-a.self)
	u.other = max(0, pct(b.hostBusy-a.hostBusy)-u.relay-u.gen)
	return u
}
