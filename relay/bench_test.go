package relay

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

var benchBroadcast = []byte(`42["event:broadcast",{"roomCode":"MUSIC-42","eventName":"drum_hit","payload":{"note":"snare","velocity":100,"timestamp":1764097200123.25,"midi":38,"channel":10},"seq":1234}]`)

// BenchmarkDecodePacket: the inbound parse of one event:broadcast, as
// the relay makes it (handleEvent: the arguments in an array on the
// stack, the name a slice of the packet).
func BenchmarkDecodePacket(b *testing.B) {
	b.ReportAllocs()
	for range b.N {
		p, err := DecodePacket(benchBroadcast[1:])
		if err != nil {
			b.Fatal(err)
		}
		var args [inlineArgs]json.RawMessage
		if _, _, err := decodeEvent(p, args[:0]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRelayToSession: one event:broadcast handled end to end inside
// the relay (decode, validate, encode once, queue to 4 other members),
// without the sockets.
func BenchmarkRelayToSession(b *testing.B) {
	srv, err := NewServer(Config{EventRate: 1e12, EventBurst: 1 << 30})
	if err != nil {
		b.Fatal(err)
	}
	members := make([]*socket, 5)
	for i := range members {
		members[i] = newSocket(srv)
		members[i].handleEIO([]byte("40"))
	}
	m, _ := srv.hub.create(members[0], "MUSIC-42", Participant{ID: members[0].sid}, access{})
	for _, s := range members[1:] {
		srv.hub.join(s, m.room.code, Participant{ID: s.sid}, access{})
	}
	var sink [][]byte
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if err := members[0].handleEIO(benchBroadcast); err != nil {
			b.Fatal(err)
		}
		if i%64 == 0 { // receivers drain, as their writers would
			for _, s := range members[1:] {
				sink, _, _ = s.w.pollBatch(sink[:0])
			}
		}
	}
	b.ReportMetric(float64(b.N*4)/b.Elapsed().Seconds(), "deliveries/s")
}

// BenchmarkRelayToWebsockets: one event:broadcast handled end to end and
// written to 4 members on real loopback websockets that keep up (their
// clients read all the time), so most deliveries are direct writes.
func BenchmarkRelayToWebsockets(b *testing.B) {
	srv, err := NewServer(Config{EventRate: 1e12, EventBurst: 1 << 30})
	if err != nil {
		b.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	defer srv.Close()
	sender := newSocket(srv)
	srv.register(sender)
	sender.handleEIO([]byte("40"))
	srv.hub.create(sender, "MUSIC-42", Participant{ID: sender.sid}, access{})
	var got atomic.Int64
	for range 4 {
		ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(hs.URL, "http")+"/?EIO=4&transport=websocket", nil)
		if err != nil {
			b.Fatal(err)
		}
		defer ws.Close()
		ws.ReadMessage() // open
		ws.WriteMessage(websocket.TextMessage, []byte("40"))
		ws.ReadMessage() // connected
		ws.WriteMessage(websocket.TextMessage, []byte(`42["session:join",{"roomCode":"MUSIC-42"}]`))
		ws.ReadMessage() // joined: the relay has added it
		go func() {
			for {
				if _, _, err := ws.ReadMessage(); err != nil {
					return
				}
				got.Add(1)
			}
		}()
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if err := sender.handleEIO(benchBroadcast); err != nil {
			b.Fatal(err)
		}
	}
	want := int64(b.N * 4)
	for got.Load() < want*9/10 { // most delivered; a slow tail may be dropped
		time.Sleep(time.Millisecond)
	}
	b.ReportMetric(float64(b.N*4)/b.Elapsed().Seconds(), "deliveries/s")
	b.ReportMetric(float64(srv.Stats().DirectWrites)/float64(b.N*4), "direct/delivery")
}
