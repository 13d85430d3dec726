package main

import (
	"testing"
	"time"
)

func TestParsePerfCount(t *testing.T) {
	out := []byte("\n422548,,raw_syscalls:sys_enter,725917161,100.00,,\n276,,context-switches,725978148,100.00,,\n")
	if n, ok := parsePerfCount(out, "raw_syscalls:sys_enter"); !ok || n != 422548 {
		t.Errorf("syscalls %d %v, want 422548", n, ok)
	}
	for _, bad := range []string{"", "<not counted>,,raw_syscalls:sys_enter,0,100.00,,", "perf: permission denied"} {
		if n, ok := parsePerfCount([]byte(bad), "raw_syscalls:sys_enter"); ok {
			t.Errorf("%q: got %d, want no count", bad, n)
		}
	}
}

func FuzzParsePerfCount(f *testing.F) {
	f.Add([]byte("12,,raw_syscalls:sys_enter,1,100.00,,\n"))
	f.Add([]byte("<not supported>,,raw_syscalls:sys_enter,0,0,,"))
	f.Add([]byte(",,,"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if n, ok := parsePerfCount(b, "raw_syscalls:sys_enter"); !ok && n != 0 {
			t.Errorf("no count but %d", n)
		}
	})
}

func TestKernelCostPer1k(t *testing.T) {
	a := kernelSample{voluntary: 100, involuntary: 10, readWrite: 1000}
	b := kernelSample{voluntary: 600, involuntary: 60, readWrite: 3000}
	k := kernelCostOf(a, b, 8000, 2000, 4*time.Second) // 500 deliveries/s
	if k.SyscallsPer1k != 16000 || k.CtxSwPer1k != 275 || k.VolCtxSwPer1k != 250 || k.SyscallSource != sourcePerf {
		t.Errorf("with perf: %+v", k)
	}
	k = kernelCostOf(a, b, -1, 2000, 4*time.Second)
	if k.SyscallsPer1k != 1000 || k.SyscallSource != sourceProcIO {
		t.Errorf("without perf: %+v", k)
	}
	if k := kernelCostOf(a, b, 5, 0, time.Second); k != (kernelCost{}) {
		t.Errorf("no deliveries: %+v, want zero", k)
	}
}

func TestProcField(t *testing.T) {
	st := []byte("Name:\tjamrelay\nvoluntary_ctxt_switches:\t1234\nnonvoluntary_ctxt_switches:\t56\n")
	if v := procField(st, "voluntary_ctxt_switches:"); v != 1234 {
		t.Errorf("voluntary %d, want 1234", v)
	}
	if v := procField(st, "nonvoluntary_ctxt_switches:"); v != 56 {
		t.Errorf("nonvoluntary %d, want 56", v)
	}
	if v := procField(st, "syscr:"); v != 0 {
		t.Errorf("missing field %d, want 0", v)
	}
}

// A capacity step passes with p99 at the limit, nothing lost and the
// load delivered; any one of them missing fails it.
func TestCapacityStepLimits(t *testing.T) {
	ok := throughputResult{Offered: 40_000, Delivered: 39_900, Latency: latencySummary{P99: capacityP99Ms}}
	if !withinLimits(ok) {
		t.Errorf("%+v: want within the limits", ok)
	}
	slow, lossy, short := ok, ok, ok
	slow.Latency.P99 = capacityP99Ms + 0.01
	lossy.Lost = 1
	short.Delivered = 39_000
	for _, r := range []throughputResult{slow, lossy, short} {
		if withinLimits(r) {
			t.Errorf("%+v: want outside the limits", r)
		}
	}
}
