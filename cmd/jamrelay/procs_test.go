package main

import "testing"

func TestChooseProcs(t *testing.T) {
	cases := []struct {
		name         string
		flag         int
		set          bool
		env          string
		runtimeProcs int
		want         int
		wantErr      bool
	}{
		{name: "default on 1 CPU", runtimeProcs: 1, want: 1},
		{name: "default on 2 CPUs", runtimeProcs: 2, want: 1},
		{name: "default on 3 CPUs rounds up", runtimeProcs: 3, want: 2},
		{name: "default on 16 CPUs", runtimeProcs: 16, want: 8},
		{name: "GOMAXPROCS set: the runtime's choice", env: "4", runtimeProcs: 4, want: 0},
		{name: "--procs wins over GOMAXPROCS", flag: 3, set: true, env: "4", runtimeProcs: 4, want: 3},
		{name: "--procs 0: the runtime's choice", flag: 0, set: true, runtimeProcs: 8, want: 0},
		{name: "--procs negative", flag: -1, set: true, runtimeProcs: 2, wantErr: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := chooseProcs(c.flag, c.set, c.env, c.runtimeProcs)
			if (err != nil) != c.wantErr {
				t.Fatalf("chooseProcs: err %v, want error %v", err, c.wantErr)
			}
			if got != c.want {
				t.Fatalf("chooseProcs = %d, want %d", got, c.want)
			}
		})
	}
}
