package mapping_test

import (
	"encoding/json"
	"testing"

	"github.com/jambridge/jambridge/mapping"
)

var curves = []mapping.Curve{
	{},
	{Kind: mapping.Linear},
	{Kind: mapping.Soft},
	{Kind: mapping.Hard},
	{Kind: mapping.Fixed, Fixed: 1},
	{Kind: mapping.Fixed, Fixed: 100},
	{Kind: mapping.Fixed, Fixed: 127},
}

// checkCurve checks the promises of Curve.Apply for every velocity.
func checkCurve(t *testing.T, c mapping.Curve) {
	t.Helper()
	if got := c.Apply(0); got != 0 {
		t.Errorf("%v.Apply(0) = %d, want 0", c, got)
	}
	prev := 0
	for v := 1; v <= 127; v++ {
		got := c.Apply(v)
		if got < 1 || got > 127 {
			t.Errorf("%v.Apply(%d) = %d, outside 1-127", c, v, got)
		}
		if got < prev {
			t.Errorf("%v.Apply(%d) = %d < Apply(%d) = %d", c, v, got, v-1, prev)
		}
		prev = got
	}
}

func TestCurveBoundedMonotonic(t *testing.T) {
	for _, c := range curves {
		checkCurve(t, c)
	}
}

func TestCurveShapes(t *testing.T) {
	for _, tt := range []struct {
		c       mapping.Curve
		in, out int
	}{
		{mapping.Curve{}, 64, 64},
		{mapping.Curve{Kind: mapping.Soft}, 127, 127},
		{mapping.Curve{Kind: mapping.Hard}, 127, 127},
		{mapping.Curve{Kind: mapping.Hard}, 1, 1},
		{mapping.Curve{Kind: mapping.Fixed, Fixed: 100}, 3, 100},
		{mapping.Curve{Kind: mapping.Fixed, Fixed: 100}, 0, 0},
		{mapping.Curve{}, 200, 127},
		{mapping.Curve{}, -5, 0},
	} {
		if got := tt.c.Apply(tt.in); got != tt.out {
			t.Errorf("%v.Apply(%d) = %d, want %d", tt.c, tt.in, got, tt.out)
		}
	}
	soft, hard := mapping.Curve{Kind: mapping.Soft}, mapping.Curve{Kind: mapping.Hard}
	for v := 10; v < 120; v++ {
		if !(soft.Apply(v) > v && hard.Apply(v) < v) {
			t.Errorf("at %d: soft %d, hard %d; want soft above and hard below", v, soft.Apply(v), hard.Apply(v))
		}
	}
}

func TestParseCurve(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want mapping.Curve
	}{
		{"linear", mapping.Curve{Kind: mapping.Linear}},
		{"Soft", mapping.Curve{Kind: mapping.Soft}},
		{"HARD", mapping.Curve{Kind: mapping.Hard}},
		{"fixed:100", mapping.Curve{Kind: mapping.Fixed, Fixed: 100}},
		{"Fixed:1", mapping.Curve{Kind: mapping.Fixed, Fixed: 1}},
		{"fixed:127", mapping.Curve{Kind: mapping.Fixed, Fixed: 127}},
	} {
		got, err := mapping.ParseCurve(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseCurve(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	for _, in := range []string{"", "lin", "fixed", "fixed:", "fixed:0", "fixed:128", "fixed:x", "fixed:-1", "soft:3", "fixed:1:2"} {
		if got, err := mapping.ParseCurve(in); err == nil {
			t.Errorf("ParseCurve(%q) = %v, nil; want an error", in, got)
		}
	}
}

func TestCurveText(t *testing.T) {
	var cfg struct{ Curve mapping.Curve }
	if err := json.Unmarshal([]byte(`{"Curve":"fixed:90"}`), &cfg); err != nil {
		t.Fatal(err)
	}
	if want := (mapping.Curve{Kind: mapping.Fixed, Fixed: 90}); cfg.Curve != want {
		t.Errorf("got %v, want %v", cfg.Curve, want)
	}
	b, err := json.Marshal(cfg)
	if got, want := string(b), `{"Curve":"fixed:90"}`; err != nil || got != want {
		t.Errorf("Marshal = %s, %v; want %s", got, err, want)
	}
	if err := json.Unmarshal([]byte(`{"Curve":"loud"}`), &cfg); err == nil {
		t.Error("Unmarshal of curve \"loud\": no error")
	}
	if _, err := (mapping.Curve{Kind: mapping.Fixed}).MarshalText(); err == nil {
		t.Error("MarshalText of fixed:0: no error")
	}
}

func FuzzParseCurve(f *testing.F) {
	for _, s := range []string{"linear", "soft", "hard", "fixed:100", "FIXED:+7", "fixed:0128", "fixed:", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := mapping.ParseCurve(s)
		if err != nil {
			return
		}
		back, err := mapping.ParseCurve(c.String())
		if err != nil || back != c {
			t.Fatalf("ParseCurve(%q) = %v; ParseCurve(%q) = %v, %v", s, c, c.String(), back, err)
		}
		checkCurve(t, c)
	})
}
