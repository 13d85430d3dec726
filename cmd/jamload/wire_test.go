package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestAppendBroadcastIsValidAndParses(t *testing.T) {
	now := time.Unix(1_771_234_567, 890_123_456)
	for src := range 2 {
		pkt := appendBroadcast(nil, "K7QM-3XRD", src, 41, now)
		var arr []json.RawMessage
		if err := json.Unmarshal(pkt[2:], &arr); err != nil {
			t.Fatalf("src %d: %s is not JSON: %v", src, pkt, err)
		}
		var arg struct {
			RoomCode  string         `json:"roomCode"`
			EventName string         `json:"eventName"`
			Payload   map[string]any `json:"payload"`
			Seq       int64          `json:"seq"`
		}
		if err := json.Unmarshal(arr[1], &arg); err != nil {
			t.Fatal(err)
		}
		want := []string{"drum_hit", "piano_note"}[src]
		if arg.RoomCode != "K7QM-3XRD" || arg.EventName != want || arg.Seq != 41 {
			t.Errorf("src %d: got %+v, want room K7QM-3XRD, %s, seq 41", src, arg, want)
		}
		if n := len(pkt); n < 180 || n > 260 {
			t.Errorf("src %d: packet is %d bytes, want about 220", src, n)
		}
	}
}

// relayed rewrites a sent packet the way a relay forwards it.
func relayed(sent []byte) []byte {
	var arr []json.RawMessage
	_ = json.Unmarshal(sent[2:], &arr)
	var arg struct {
		EventName string          `json:"eventName"`
		Payload   json.RawMessage `json:"payload"`
		Seq       json.RawMessage `json:"seq"`
	}
	_ = json.Unmarshal(arr[1], &arg)
	return []byte(`42["event:broadcast",{"eventName":"` + arg.EventName + `","payload":` + string(arg.Payload) +
		`,"senderId":"n3v3r-t","seq":` + string(arg.Seq) + `,"serverTime":1771234567890.123}]`)
}

func TestParseLoadEvent(t *testing.T) {
	now := time.Unix(1_771_234_567, 890_123_456)
	got, ok := parseLoadEvent(relayed(appendBroadcast(nil, "ROOM-1", 3, 12345, now)))
	want := loadFields{src: 3, n: 12345, t: now.UnixNano()}
	if !ok || got != want {
		t.Errorf("got %+v, %v; want %+v, true", got, ok, want)
	}
	tests := []struct {
		name string
		msg  string
		ok   bool
	}{
		{"node doubles", `42["event:broadcast",{"eventName":"x","payload":{"t":1771234567890123500,"n":7,"src":0},"seq":7}]`, true},
		{"other event", `42["session:user-joined",{"user":{"id":"a"}}]`, false},
		{"ping", `2`, false},
		{"no t", `42["event:broadcast",{"payload":{"src":0,"n":7}}]`, false},
		{"exponent", `42["event:broadcast",{"payload":{"src":0,"n":7,"t":1.7e+21}}]`, false},
		{"negative", `42["event:broadcast",{"payload":{"src":-1,"n":7,"t":5}}]`, false},
		{"overflow", `42["event:broadcast",{"payload":{"src":0,"n":7,"t":99999999999999999999}}]`, false},
	}
	for _, tt := range tests {
		if _, ok := parseLoadEvent([]byte(tt.msg)); ok != tt.ok {
			t.Errorf("%s: ok = %v, want %v", tt.name, ok, tt.ok)
		}
	}
}

func TestIntAfterMatchesWholeKeys(t *testing.T) {
	// "n" must not match the end of "eventName" or "channel".
	b := []byte(`{"eventName":"drum_hit","channel":10,"n":3}`)
	if got, ok := intAfter(b, keyN); !ok || got != 3 {
		t.Errorf("got %d, %v; want 3, true", got, ok)
	}
}

func FuzzParseLoadEvent(f *testing.F) {
	f.Add(appendBroadcast(nil, "ROOM-1", 1, 9, time.Unix(1, 2)))
	f.Add([]byte(`42["event:broadcast",{"payload":{"src":0,"n":7,"t":`))
	f.Fuzz(func(t *testing.T, msg []byte) {
		got, ok := parseLoadEvent(msg)
		if ok && (got.src < 0 || got.n < 0 || got.t < 0) {
			t.Errorf("negative field from %q: %+v", msg, got)
		}
		if ok && !strings.HasPrefix(string(msg), string(broadcastPrefix)) {
			t.Errorf("accepted %q", msg)
		}
	})
}

func BenchmarkParseLoadEvent(b *testing.B) {
	msg := relayed(appendBroadcast(nil, "ROOM-1", 3, 12345, time.Now()))
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := parseLoadEvent(msg); !ok {
			b.Fatal("not parsed")
		}
	}
}
