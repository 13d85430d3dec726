package relay

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

var seedPackets = []string{
	`0`, `0{"token":"x"}`, `0/admin,`, `1`, `2["session:create",{"name":"a"}]`,
	`2["event:broadcast",{"roomCode":"AB-12","eventName":"drum_hit","payload":{"note":"C4"}}]`,
	`212["clock:sync",{"t0":1}]`, `3[]`, `31["x"]`, `4{"message":"x"}`,
	`51-["e",{"_placeholder":true,"num":0}]`, `61-12[{"_placeholder":true,"num":0}]`,
	`2/admin,7["x"]`, `2["é♪",null]`, `2`, `2[`, `7`, ``, `2/`, `2/a`, `299999999999999999999[]`,
}

func FuzzDecodePacket(f *testing.F) {
	for _, s := range seedPackets {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := DecodePacket(b)
		if err != nil {
			return
		}
		if p.Type < sioConnect || p.Type > sioBinaryAck || p.Namespace == "" {
			t.Fatalf("accepted %q as %+v", b, p)
		}
		if p.Type == sioEvent || p.Type == sioAck {
			_, _ = DecodeEvent(p)
		}
	})
}

// FuzzHandleEIO feeds arbitrary inbound packets to a connected socket
// that is in a session with another: nothing may panic, and nothing that
// is not a valid event:broadcast may reach the other member.
func FuzzHandleEIO(f *testing.F) {
	for _, s := range seedPackets {
		f.Add([]byte("4" + s))
	}
	for _, s := range []string{"3", "1", "6", "bAQID", "2probe", "5", "40", "41"} {
		f.Add([]byte(s))
	}
	srv, err := NewServer(Config{EventRate: 1e9, EventBurst: 1e9})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		a, other := newSocket(srv), newSocket(srv)
		for _, s := range []*socket{a, other} {
			s.register()
			s.handleEIO([]byte("40"))
		}
		m, _ := srv.hub.create(a, "", Participant{ID: a.sid}, access{})
		srv.hub.join(other, m.room.code, Participant{ID: other.sid}, access{})
		other.w.pollBatch(nil)
		before := srv.stats.deliveries.Load()
		_ = a.handleEIO(b)
		relayed := srv.stats.deliveries.Load() - before
		pkts, _, _ := other.w.pollBatch(nil)
		for _, pkt := range pkts {
			if relayed == 0 && string(pkt) != "2" && !hasPrefix(pkt, `42["session:user-left"`) {
				t.Fatalf("%q leaked %q to the other member", b, pkt)
			}
		}
		a.close("done")
		other.close("done")
	})
}

func hasPrefix(b []byte, p string) bool { return len(b) >= len(p) && string(b[:len(p)]) == p }

// register adds s to its server, for tests.
func (s *socket) register() { s.srv.register(s) }

func jsonMarshal(s string) []byte {
	b, _ := json.Marshal(s)
	return b
}

// DecodeEvent agrees with encoding/json: the same inputs are accepted,
// with the same name and argument bytes.
func FuzzDecodeEventMatchesEncodingJSON(f *testing.F) {
	for _, s := range []string{
		`["event:broadcast",{"roomCode":"AB-12","eventName":"drum_hit","payload":{"note":"C4"}}]`,
		`["x"]`, `[]`, `[null]`, `[1]`, `["a",1,"b",[],{}]`, ` [ "a" , {"k":"\ud800"} ] `, `["a"] x`, `["a",]`,
		`["\u0061\"b",{"a":1,"a":2}]`, `["a",{"x":1e999}]`, `["a",{"x":01}]`, `[` + strings.Repeat("[", 100) + `]`,
		`["a","\xff"]`, `{"a":1}`, `"a"`, `["a"`, `["a",tru]`,
	} {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, data []byte, ack bool) {
		p := Packet{Type: sioEvent, Data: data}
		if ack {
			p.Type = sioAck
		}
		got, err := DecodeEvent(p)

		var arr []json.RawMessage
		wantErr := json.Unmarshal(data, &arr)
		var want Event
		if wantErr == nil && arr == nil {
			wantErr = errors.New("null is not an array") // encoding/json takes null for an empty slice
		}
		if wantErr == nil && !ack {
			if len(arr) == 0 {
				wantErr = errors.New("no name")
			} else if wantErr = json.Unmarshal(arr[0], &want.Name); wantErr == nil {
				arr = arr[1:]
			}
		}
		if (err == nil) != (wantErr == nil) {
			t.Fatalf("%q: DecodeEvent error %v, encoding/json error %v", data, err, wantErr)
		}
		if err != nil {
			return
		}
		if got.Name != want.Name || len(got.Args) != len(arr) {
			t.Fatalf("%q: got %q with %d args, encoding/json %q with %d", data, got.Name, len(got.Args), want.Name, len(arr))
		}
		for i := range arr {
			if !bytes.Equal(got.Args[i], arr[i]) {
				t.Fatalf("%q: arg %d is %q, encoding/json %q", data, i, got.Args[i], arr[i])
			}
		}
	})
}

// broadcastArg.parse agrees with encoding/json on which arguments are
// objects with string (or null) roomCode and eventName, and on the
// payload and seq bytes.
func FuzzBroadcastArgMatchesEncodingJSON(f *testing.F) {
	for _, s := range []string{
		`{"roomCode":"AB-12","eventName":"drum_hit","payload":{"note":"C4","velocity":100},"seq":7}`,
		`{}`, `{"roomCode":null}`, `{"roomCode":5}`, `{"payload":null,"seq":null}`, `{"eventName":"a","eventName":"b"}`,
		`{"r\u006fomCode":"X"}`, `{"extra":[1,2,{"a":"b"}],"roomCode":"X"}`, `[]`, `"x"`, `{"a":1} {}`, `{"a"}`,
		`{"payload":"\ud800"}`, `{"seq":-0.5e3}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if s := strings.TrimSpace(string(data)); s == "null" {
			return // encoding/json reads null as an empty struct; parse refuses it (both end in bad_request)
		}
		var got broadcastArg
		err := got.parse(data)

		var m map[string]json.RawMessage
		wantErr := json.Unmarshal(data, &m)
		var want broadcastArg
		var wantRoom, wantName string
		if wantErr == nil {
			for _, f := range []struct {
				key string
				dst *string
			}{{"roomCode", &wantRoom}, {"eventName", &wantName}} {
				if raw, ok := m[f.key]; ok && wantErr == nil {
					wantErr = json.Unmarshal(raw, f.dst)
				}
			}
			want.Payload, want.Seq = m["payload"], m["seq"]
		}
		if (err == nil) != (wantErr == nil) {
			t.Fatalf("%q: parse error %v, encoding/json error %v", data, err, wantErr)
		}
		if err != nil {
			return
		}
		if string(got.RoomCode) != wantRoom || string(got.EventName) != wantName ||
			!bytes.Equal(got.Payload, want.Payload) || !bytes.Equal(got.Seq, want.Seq) {
			t.Fatalf("%q: parse %q %q %s %s, encoding/json %q %q %s %s", data,
				got.RoomCode, got.EventName, got.Payload, got.Seq, wantRoom, wantName, want.Payload, want.Seq)
		}
	})
}

// splitPollPayload splits a long-polling body into its packets: joined
// again with the separator they are the body, none holds a separator,
// and there is one more packet than separators.
func FuzzSplitPollPayload(f *testing.F) {
	for _, s := range []string{"", "40", "40\x1e42[\"x\"]", "\x1e", "\x1e\x1e", "1\x1e", "\x1e6", "2probe", "bAQID\x1e3"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		pkts := splitPollPayload(body)
		if got := bytes.Join(pkts, []byte{pollSeparator}); !bytes.Equal(got, body) {
			t.Fatalf("%q split into %q, which joins back as %q", body, pkts, got)
		}
		if len(pkts) != bytes.Count(body, []byte{pollSeparator})+1 {
			t.Fatalf("%q split into %d packets", body, len(pkts))
		}
		for _, p := range pkts {
			if bytes.IndexByte(p, pollSeparator) >= 0 {
				t.Fatalf("%q: packet %q holds a separator", body, p)
			}
		}
	})
}
