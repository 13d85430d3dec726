package relay

import (
	"encoding/json"
	"testing"
	"time"
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
		m, _ := srv.hub.create(a, "", Participant{ID: a.sid})
		srv.hub.join(other, m.room.code, Participant{ID: other.sid})
		other.q.drain(nil, time.Now())
		before := srv.stats.deliveries.Load()
		_ = a.handleEIO(b)
		relayed := srv.stats.deliveries.Load() - before
		for _, pkt := range other.q.drain(nil, time.Now()) {
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
