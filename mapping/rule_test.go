package mapping_test

import (
	"errors"
	"testing"

	"github.com/jambridge/jambridge/mapping"
)

func TestInputRuleValidate(t *testing.T) {
	for _, tt := range []struct {
		name string
		edit func(*mapping.InputRule)
		want string // in the error; "" for none
	}{
		{"default", func(*mapping.InputRule) {}, ""},
		{"all set", func(r *mapping.InputRule) {
			r.Role, r.Channels, r.Transpose, r.MinVelocity = mapping.Drums, []int{1, 16}, -127, 127
			r.PadMinVelocity, r.Controllers = map[int]int{0: 0, 127: 127}, []int{0, 127}
		}, ""},
		{"role", func(r *mapping.InputRule) { r.Role = 3 }, "role: 3 is not auto, drums or keys"},
		{"channel 0", func(r *mapping.InputRule) { r.Channels = []int{0} }, "channels: 0 is not in 1-16"},
		{"channel 17", func(r *mapping.InputRule) { r.Channels = []int{1, 17} }, "channels: 17 is not in 1-16"},
		{"drum channel", func(r *mapping.InputRule) { r.DrumChannels = []int{17} }, "drum-channels: 17 is not in 1-16"},
		{"transpose", func(r *mapping.InputRule) { r.Transpose = 128 }, "transpose: 128 is not between -127 and 127"},
		{"min velocity", func(r *mapping.InputRule) { r.MinVelocity = -1 }, "min-velocity: -1 is not in 0-127"},
		{"pad key", func(r *mapping.InputRule) { r.PadMinVelocity = map[int]int{128: 1} }, "pad-min-velocity: key 128 is not in 0-127"},
		{"pad velocity", func(r *mapping.InputRule) { r.PadMinVelocity = map[int]int{38: 200} }, "pad-min-velocity: snare (38): 200 is not in 0-127"},
		{"pad velocity, no drum", func(r *mapping.InputRule) { r.PadMinVelocity = map[int]int{20: -1} }, "pad-min-velocity: key 20: -1 is not in 0-127"},
		{"controller", func(r *mapping.InputRule) { r.Controllers = []int{128} }, "controllers: 128 is not in 0-127"},
		{"curve", func(r *mapping.InputRule) { r.Curve = mapping.Curve{Kind: mapping.Fixed} }, "curve: fixed velocity 0 is not in 1-127"},
	} {
		r := mapping.DefaultInputRule()
		tt.edit(&r)
		_, err := mapping.NewInput(r)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: NewInput: %v", tt.name, err)
		case tt.want != "" && (err == nil || err.Error() != tt.want):
			t.Errorf("%s: NewInput error %v, want %q", tt.name, err, tt.want)
		case err != nil && !errors.As(err, new(*mapping.FieldError)):
			t.Errorf("%s: NewInput error is a %T, want a *mapping.FieldError", tt.name, err)
		}
	}
}

func TestParseRole(t *testing.T) {
	for in, want := range map[string]mapping.Role{"auto": mapping.Auto, "Drums": mapping.Drums, "KEYS": mapping.Keys} {
		got, err := mapping.ParseRole(in)
		if err != nil || got != want {
			t.Errorf("ParseRole(%q) = %v, %v; want %v", in, got, err, want)
		}
		if back, _ := mapping.ParseRole(got.String()); back != got {
			t.Errorf("ParseRole(%q) = %v", got.String(), back)
		}
	}
	for _, in := range []string{"", "drum", "piano", "auto "} {
		if got, err := mapping.ParseRole(in); err == nil {
			t.Errorf("ParseRole(%q) = %v, nil; want an error", in, got)
		}
	}
	var r mapping.Role
	if err := r.UnmarshalText([]byte("keys")); err != nil || r != mapping.Keys {
		t.Errorf("UnmarshalText(keys) = %v, %v", r, err)
	}
	if b, err := mapping.Drums.MarshalText(); err != nil || string(b) != "drums" {
		t.Errorf("MarshalText(Drums) = %s, %v", b, err)
	}
	if _, err := mapping.Role(7).MarshalText(); err == nil {
		t.Error("MarshalText(Role(7)): no error")
	}
}

func FuzzParseRole(f *testing.F) {
	for _, s := range []string{"auto", "drums", "keys", "KEYS", "", "piano"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := mapping.ParseRole(s)
		if err != nil {
			return
		}
		if back, err := mapping.ParseRole(r.String()); err != nil || back != r {
			t.Fatalf("ParseRole(%q) = %v; ParseRole(%q) = %v, %v", s, r, r.String(), back, err)
		}
	})
}
