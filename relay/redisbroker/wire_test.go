package redisbroker

import (
	"bytes"
	"strings"
	"testing"
)

func TestEventMessageRoundTrip(t *testing.T) {
	packet := []byte(`42["event:broadcast",{"eventName":"drum_hit","senderId":"a|b"}]`)
	for _, release := range []bool{false, true} {
		b := appendEvent(nil, "n1", 1764097200123456, release, packet)
		m, err := decodeMessage(b)
		if err != nil {
			t.Fatal(err)
		}
		if m.kind != kindEvent || m.node != "n1" || m.sent != 1764097200123456 || m.release != release || !bytes.Equal(m.body, packet) {
			t.Errorf("got %+v, want the event of n1 back", m)
		}
	}
}

func TestPresenceMessageRoundTrip(t *testing.T) {
	for _, kind := range []byte{kindJoin, kindLeave} {
		m, err := decodeMessage([]byte(presence(kind, "node-2", `{"id":"x|y"}`)))
		if err != nil {
			t.Fatal(err)
		}
		if m.kind != kind || m.node != "node-2" || string(m.body) != `{"id":"x|y"}` {
			t.Errorf("got %+v", m)
		}
	}
}

func TestMalformedMessagesAreRefused(t *testing.T) {
	for _, in := range []string{"", "e", "en1", "e|1|0|x", "en1|x|0|p", "en1|1|2|p", "en1|1|0|", "en1|1|0", "jn1|", "xn1|a", "l|a"} {
		if _, err := decodeMessage([]byte(in)); err == nil {
			t.Errorf("decodeMessage(%q) = nil error", in)
		}
	}
}

func FuzzDecodeMessage(f *testing.F) {
	f.Add([]byte(appendEvent(nil, "n1", 42, true, []byte(`42["e",{}]`))))
	f.Add([]byte(presence(kindJoin, "n2", `{"id":"a","name":"b","joinedAt":1}`)))
	f.Add([]byte(presence(kindLeave, "n2", "sid")))
	f.Add([]byte("en1|-9223372036854775808|0|p"))
	f.Add([]byte("e||||"))
	f.Fuzz(func(t *testing.T, p []byte) {
		m, err := decodeMessage(p)
		if err != nil {
			return
		}
		if m.node == "" || len(m.body) == 0 {
			t.Fatalf("accepted %q as %+v", p, m)
		}
		if m.kind == kindEvent {
			again, err := decodeMessage(appendEvent(nil, m.node, m.sent, m.release, m.body))
			if err != nil || again.sent != m.sent || !bytes.Equal(again.body, m.body) {
				t.Fatalf("re-encoding %+v: %+v, %v", m, again, err)
			}
		}
	})
}

// own, the receiver's skip of a node's own messages before decoding,
// agrees with decodeMessage on every message that decodes.
func FuzzOwn(f *testing.F) {
	f.Add("n1", []byte(appendEvent(nil, "n1", 42, true, []byte(`42["e",{}]`))))
	f.Add("n1", []byte(appendEvent(nil, "n10", 42, false, []byte(`42["e",{}]`))))
	f.Add("n2", []byte(presence(kindLeave, "n2", "sid")))
	f.Add("n", []byte("en"))
	f.Fuzz(func(t *testing.T, node string, p []byte) {
		if node == "" || strings.Contains(node, "|") {
			return // no node is named so (New)
		}
		b := &Broker{node: node}
		own := b.own(string(p))
		if m, err := decodeMessage(p); err == nil && own != (m.node == node) {
			t.Fatalf("own(%q) as %q = %v, but it decodes as from %q", p, node, own, m.node)
		}
	})
}
