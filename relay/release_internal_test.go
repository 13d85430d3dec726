package relay

import (
	"encoding/json"
	"testing"
)

func TestEndsASound(t *testing.T) {
	for _, tt := range []struct {
		event, payload string
		want           bool
	}{
		{"piano_note", `{"note":"C4","velocity":0,"timestamp":1,"duration":120}`, true},
		{"piano_note", `{"velocity":0.0}`, true},
		{"piano_note", `{"velocity":-0}`, true},
		{"piano_note", `{"note":"C4","velocity":90}`, false},
		{"piano_note", `{"velocity":"0"}`, false},
		{"piano_note", `{"velocity":null}`, false},
		{"piano_note", `{"note":"C4"}`, false},
		{"piano_note", `{"velocity":0,"velocity":5}`, false}, // the last wins, as in JavaScript
		{"piano_note", `{"velocity":5,"velocity":0}`, true},
		{"piano_note", `{"inner":{"velocity":0}}`, false}, // top level only
		{"piano_note", `[0]`, false},
		{"piano_note", `0`, false},
		{"piano_note", ``, false},
		{"control_change", `{"controller":64,"value":0,"channel":1}`, true},
		{"control_change", `{"controller":64,"value":63}`, true},
		{"control_change", `{"controller":64,"value":64}`, false},
		{"control_change", `{"controller":66,"value":0}`, true},
		{"control_change", `{"controller":67,"value":10}`, true},
		{"control_change", `{"controller":1,"value":0}`, false}, // the mod wheel at 0 ends nothing
		{"control_change", `{"value":0}`, false},
		{"drum_hit", `{"note":"kick","velocity":0}`, false},
		{"pattern_change", `{"velocity":0}`, false},
	} {
		if got := endsASound(tt.event, []byte(tt.payload)); got != tt.want {
			t.Errorf("endsASound(%s, %s) = %v, want %v", tt.event, tt.payload, got, tt.want)
		}
	}
}

// FuzzEndsASound holds the one-pass reader to encoding/json's reading
// of the same payload.
func FuzzEndsASound(f *testing.F) {
	for _, s := range []string{`{"velocity":0}`, `{"velocity":1e-400}`, `{"controller":64,"value":12}`,
		`{"velocity":0,"x":[1,{"velocity":2}]}`, `{"velocity":-0.0}`, `{"velocit\u0079":0}`, `{}`, `nul`} {
		f.Add("piano_note", s)
		f.Add("control_change", s)
	}
	f.Fuzz(func(t *testing.T, event, payload string) {
		got := endsASound(event, []byte(payload))
		var m map[string]any
		if json.Unmarshal([]byte(payload), &m) != nil {
			m = nil // encoding/json refuses it: the relay would not have relayed it either
		}
		num := func(name string) (float64, bool) { f, ok := m[name].(float64); return f, ok }
		want := false
		switch event {
		case "piano_note":
			v, ok := num("velocity")
			want = ok && v == 0
		case "control_change":
			c, ok := num("controller")
			v, ok2 := num("value")
			want = ok && ok2 && (c == 64 || c == 66 || c == 67) && v >= 0 && v < 64
		}
		if m == nil {
			return
		}
		if got != want {
			t.Errorf("endsASound(%q, %s) = %v, encoding/json says %v", event, payload, got, want)
		}
	})
}

// BenchmarkEndsASound is what the relay adds to each piano_note it
// relays, once for all receivers.
func BenchmarkEndsASound(b *testing.B) {
	payload := []byte(`{"note":"C4","velocity":0,"timestamp":1764230400123.25,"duration":120,"midi":60,"channel":1}`)
	b.ReportAllocs()
	for b.Loop() {
		if !endsASound("piano_note", payload) {
			b.Fatal("not a release")
		}
	}
}
