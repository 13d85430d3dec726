package main

import "testing"

func TestChooseProcs(t *testing.T) {
	cases := []struct {
		flag    int
		want    int
		wantErr bool
	}{
		{flag: 0, want: 0}, // the runtime's choice
		{flag: 1, want: 1},
		{flag: 3, want: 3},
		{flag: -1, wantErr: true},
	}
	for _, c := range cases {
		got, err := chooseProcs(c.flag)
		if (err != nil) != c.wantErr || got != c.want {
			t.Errorf("chooseProcs(%d) = %d, %v; want %d, error %v", c.flag, got, err, c.want, c.wantErr)
		}
	}
}
