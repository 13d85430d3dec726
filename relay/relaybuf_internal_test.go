package relay

import (
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jambridge/jambridge/internal/tcppair"
)

// Every test of the package runs with relayed packets zeroed once
// handled: a reference kept past the handling (a queue that did not
// copy, a publisher) delivers garbage, which the tests' checks of what
// members receive catch.
func init() { scribbleRelayBuffers = true }

// relayClock is the fixed clock of the relayed-packet tests: every
// packet's serverTime is known.
var relayClock = time.Unix(1_764_097_200, 123_000_000)

// newRelayTestServer returns a server whose senders are never rate
// limited, on relayClock.
func newRelayTestServer(t testing.TB) *Server {
	t.Helper()
	srv, err := NewServer(Config{EventRate: 1e9, EventBurst: 1 << 20, Now: func() time.Time { return relayClock }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

// connectedSocket registers s with srv and connects it to "/"; its
// connect reply is left where it went.
func connectedSocket(t testing.TB, srv *Server, s *socket) *socket {
	t.Helper()
	if why := srv.register(s); why != "" {
		t.Fatalf("register: %s", why)
	}
	t.Cleanup(func() { s.close("test over") })
	if err := s.handleEIO([]byte("40")); err != nil {
		t.Fatal(err)
	}
	return s
}

// relayTestEvent is the i-th event:broadcast of the tests, as sent and
// as relayed by sender; its payload's length varies with i, so a packet
// built over an earlier one's bytes shows.
func relayTestEvent(i int, sender string) (in, out string) {
	payload := fmt.Sprintf(`{"note":%d,"pad":"%s"}`, i, strings.Repeat("x", i%7*13))
	in = fmt.Sprintf(`42["event:broadcast",{"roomCode":"music-42","eventName":"drum_hit","payload":%s,"seq":%d}]`, payload, i)
	out = fmt.Sprintf(`42["event:broadcast",{"eventName":"drum_hit","payload":%s,"senderId":%q,"seq":%d,"serverTime":1764097200123}]`,
		payload, sender, i)
	return in, out
}

// Receivers that queue relayed events (long-polling members, whose
// packets always wait for the next GET) keep each event intact and in
// order while later events are built in the reused buffer, which the
// tests overwrite once released; all of them share one copy per event.
func TestQueuedRelayedEventsOutliveTheirBuffer(t *testing.T) {
	srv := newRelayTestServer(t)
	sender := connectedSocket(t, srv, newSocket(srv))
	if _, err := srv.hub.create(sender, "MUSIC-42", Participant{ID: sender.sid}, access{}); err != nil {
		t.Fatal(err)
	}
	var receivers []*socket
	for range 2 {
		r := connectedSocket(t, srv, newSocket(srv))
		if _, err := srv.hub.join(r, "MUSIC-42", Participant{ID: r.sid}, access{}); err != nil {
			t.Fatal(err)
		}
		receivers = append(receivers, r)
	}
	for _, r := range receivers {
		r.w.pollBatch(nil) // the connect reply, the second one's join
	}
	const events = 20
	var want []string
	for i := range events {
		in, out := relayTestEvent(i, sender.sid)
		if err := sender.handleEIO([]byte(in)); err != nil {
			t.Fatal(err)
		}
		want = append(want, out)
	}
	var got [][][]byte
	for _, r := range receivers {
		batch, _, _ := r.w.pollBatch(nil)
		if len(batch) != events {
			t.Fatalf("a receiver holds %d packets, want %d", len(batch), events)
		}
		for i, p := range batch {
			if string(p) != want[i] {
				t.Errorf("packet %d is %q, want %s", i, p, want[i])
			}
		}
		got = append(got, batch)
	}
	for i := range events {
		if &got[0][i][0] != &got[1][i][0] {
			t.Errorf("event %d: the receivers queued a copy each, want one copy for both", i)
		}
	}
}

// websocketMember returns a socket of srv born on a websocket whose
// server end is conn, connected to "/" and in session MUSIC-42.
func websocketMember(t testing.TB, srv *Server, conn net.Conn) *socket {
	t.Helper()
	s := newWebsocketSocket(srv)
	s.w.attach(conn)
	t.Cleanup(func() { s.w.wait() }) // after close: see connectedSocket
	connectedSocket(t, srv, s)
	if _, err := srv.hub.join(s, "MUSIC-42", Participant{ID: s.sid}, access{}); err != nil {
		t.Fatal(err)
	}
	return s
}

// readFrame reads one unmasked text frame of at most 64 KB from c.
func readFrame(t *testing.T, c net.Conn) string {
	t.Helper()
	hdr := readN(t, c, 2)
	n := int(hdr[1])
	if n == 126 {
		ext := readN(t, c, 2)
		n = int(ext[0])<<8 | int(ext[1])
	}
	if hdr[0] != 0x80|opText || n > 0xFFFF {
		t.Fatalf("frame header %q, want a text frame", hdr)
	}
	return readN(t, c, n)
}

// A websocket member's relayed events arrive intact and in order
// whichever way each went: queued while its writer runs (the packets
// copied, then written by the writer goroutine while the sender builds
// the next events in the reused buffer, which -race watches), or written
// directly once the writer is done.
func TestSlowWebsocketMemberGetsEveryEventIntact(t *testing.T) {
	srv := newRelayTestServer(t)
	sender := connectedSocket(t, srv, newSocket(srv))
	if _, err := srv.hub.create(sender, "MUSIC-42", Participant{ID: sender.sid}, access{}); err != nil {
		t.Fatal(err)
	}
	server, client := tcpPair(t)
	m := websocketMember(t, srv, server)
	if got := readFrame(t, client); !strings.HasPrefix(got, `40{"sid":`) {
		t.Fatalf("first frame %q, want the connect reply", got)
	}
	const queued, events = 10, 60
	m.w.mu.Lock()
	m.w.running = true // as if a writer were in a write: the first events queue
	m.w.mu.Unlock()
	var want []string
	for i := range events {
		if i == queued {
			m.w.mu.Lock()
			m.w.running = false
			m.w.kickLocked() // a writer for the backlog, running from now on
			m.w.mu.Unlock()
		}
		in, out := relayTestEvent(i, sender.sid)
		if err := sender.handleEIO([]byte(in)); err != nil {
			t.Fatal(err)
		}
		want = append(want, out)
	}
	for i := range events {
		if got := readFrame(t, client); got != want[i] {
			t.Fatalf("frame %d is %q, want %s", i, got, want[i])
		}
	}
	if n := srv.stats.queued.Load(); n < queued {
		t.Errorf("%d packets queued, want at least %d", n, queued)
	}
}

// BenchmarkRelayToRawMembers: one event:broadcast handled and written
// to 4 members whose clients read raw bytes into one buffer: unlike
// BenchmarkRelayToWebsockets, whose gorilla clients allocate for every
// message they read, its allocs/op are the relay's alone.
func BenchmarkRelayToRawMembers(b *testing.B) {
	srv, err := NewServer(Config{EventRate: 1e12, EventBurst: 1 << 30})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { srv.Close() })
	sender := connectedSocket(b, srv, newSocket(srv))
	srv.hub.create(sender, "MUSIC-42", Participant{ID: sender.sid}, access{})
	var readers sync.WaitGroup
	b.Cleanup(readers.Wait) // after the pairs' cleanups close the clients
	for range 4 {
		client, server := tcppair.New(b)
		websocketMember(b, srv, server)
		readers.Add(1)
		go func() {
			defer readers.Done()
			buf := make([]byte, 64<<10)
			for {
				if _, err := client.Read(buf); err != nil {
					return
				}
			}
		}()
	}
	in, _ := relayTestEvent(3, sender.sid)
	event := []byte(in)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if err := sender.handleEIO(event); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(srv.Stats().DirectWrites)/float64(b.N*4), "direct/delivery")
}
