//go:build linux

package relay

import (
	"net"
	"testing"
	"testing/synctest"
	"time"

	"github.com/jambridge/jambridge/internal/tcppair"
)

// batchWriters returns k connWriters of one server, each attached to a
// loopback TCP connection, and the connections' client ends; failures
// are reported on the returned channel.
func batchWriters(t *testing.T, k int) (*Server, []*connWriter, []net.Conn, chan string) {
	t.Helper()
	srv, err := NewServer(Config{WriteTimeout: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	failed := make(chan string, k)
	ws, clients := make([]*connWriter, k), make([]net.Conn, k)
	for i := range ws {
		server, client := tcpPair(t)
		ws[i] = newConnWriter(srv, func(reason string) { failed <- reason })
		runWriter(t, ws[i], server)
		clients[i] = client
	}
	return srv, ws, clients, failed
}

// textFrame is packet p as one websocket text frame.
func textFrame(p string) string { return string(appendFrameHeader(nil, opText, len(p))) + p }

func packet(p string) *relayedPacket { return &relayedPacket{b: []byte(p)} }

// relayAll relays p to every writer of ws in one batch, as member.relay
// does.
func relayAll(ws []*connWriter, p string) {
	b := batchPool.Get().(*directBatch)
	pk := packet(p)
	for _, w := range ws {
		b.relay(w, pk, true)
	}
	b.flush(pk, true)
	batchPool.Put(b)
}

// newBatch returns an empty batch for packet p, flushed when the test
// ends, before its writers are closed and waited for: a test that fails
// with frames claimed ends instead of waiting for the claims.
func newBatch(t *testing.T, p *relayedPacket) *directBatch {
	b := batchPool.Get().(*directBatch)
	t.Cleanup(func() {
		b.flush(p, true)
		batchPool.Put(b)
	})
	return b
}

func running(w *connWriter) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.running
}

// Every member of a session larger than a batch gets every event, in
// order, each written at once: a flush per maxBatch members, all but a
// last single frame in one io_uring submission where there is one.
func TestBatchWritesEveryMembersEventsInOrder(t *testing.T) {
	forEachWriteMode(t, func(t *testing.T, byRing bool) {
		k := 2*maxBatch + 1
		srv, ws, clients, _ := batchWriters(t, k)
		events := []string{"4one", "4two", "4three"}
		for _, e := range events {
			relayAll(ws, e)
		}
		want := textFrame("4one") + textFrame("4two") + textFrame("4three")
		for i, c := range clients {
			if got := readN(t, c, len(want)); got != want {
				t.Fatalf("member %d received %q, want %q", i, got, want)
			}
		}
		st := srv.Stats()
		if st.DirectWrites != uint64(k*len(events)) {
			t.Errorf("direct writes %d, want %d: every one idle", st.DirectWrites, k*len(events))
		}
		wantRing := uint64(0)
		if byRing {
			wantRing = uint64(2 * maxBatch * len(events)) // the 33rd member's flush holds one frame: send(2)
		}
		if st.RingWrites != wantRing {
			t.Errorf("ring writes %d, want %d", st.RingWrites, wantRing)
		}
	})
}

// While a batch holds a connection's claim, nothing else writes to it:
// a packet sent meanwhile queues and a pong waits, and no writer starts,
// until the flush has written the claimed frame; then the writer sends
// them, after it.
func TestClaimedConnectionWaitsForTheFlush(t *testing.T) {
	forEachWriteMode(t, func(t *testing.T, byRing bool) {
		_, ws, clients, _ := batchWriters(t, 2)
		w := ws[0]
		p := packet("4claimed")
		b := newBatch(t, p)
		b.relay(w, p, true)
		b.relay(ws[1], p, true)
		w.send([]byte("4later"), true)
		w.controlFrame(opPong, []byte("P"))
		if got := queuedStrings(w); len(got) != 1 || got[0] != "4later" {
			t.Fatalf("queued %q while claimed, want 4later", got)
		}
		if running(w) {
			t.Fatal("a writer started while the connection was claimed")
		}
		b.flush(p, true)
		want := textFrame("4claimed") + "\x8a\x01P" + textFrame("4later")
		if got := readN(t, clients[0], len(want)); got != want {
			t.Errorf("on the wire %q, want %q", got, want)
		}
	})
}

// A member whose socket is full delays no other: the flush does not
// wait for it, the others have their frame at once, and its frame, which
// the kernel took none of, is its writer's tail, ahead of what was queued
// for it while the batch held it and of what is sent later.
func TestBatchLeavesAFullMembersFrameToItsWriter(t *testing.T) {
	forEachWriteMode(t, func(t *testing.T, byRing bool) {
		srv, ws, clients, _ := batchWriters(t, 3)
		filled := tcppair.Fill(t, ws[0].conn)
		p := packet("4e1")
		b := newBatch(t, p)
		for _, w := range ws {
			b.relay(w, p, true)
		}
		ws[0].send([]byte("4e2"), true) // while claimed: queued
		b.flush(p, true)
		for _, c := range clients[1:] {
			if got := readN(t, c, len(textFrame("4e1"))); got != textFrame("4e1") {
				t.Fatalf("an idle member received %q, want %q", got, textFrame("4e1"))
			}
		}
		ws[0].send([]byte("4e3"), true)
		readN(t, clients[0], filled)
		want := textFrame("4e1") + textFrame("4e2") + textFrame("4e3")
		if got := readN(t, clients[0], len(want)); got != want {
			t.Errorf("the slow member received %q after the filler, want %q", got, want)
		}
		if st := srv.Stats(); st.DirectWrites != 2 {
			t.Errorf("direct writes %d, want the two idle members'", st.DirectWrites)
		}
	})
}

// A frame the kernel took only part of is finished by the writer before
// anything sent after it: nothing lands inside a frame.
func TestBatchPartialWriteIsFinishedFirst(t *testing.T) {
	forEachWriteMode(t, func(t *testing.T, byRing bool) {
		srv, ws, clients, _ := batchWriters(t, 2)
		for i, w := range ws { // buffers set, so the kernel does not grow them past the frame
			if w.conn.(*net.TCPConn).SetWriteBuffer(64<<10) != nil || clients[i].(*net.TCPConn).SetReadBuffer(64<<10) != nil {
				t.Fatal("setting the socket buffers")
			}
		}
		big := "4" + string(make([]byte, 1<<20)) // more than the socket buffers hold
		relayAll(ws, big)
		if PartialWrites(srv) != 2 {
			t.Fatalf("partial writes %d, want both", PartialWrites(srv))
		}
		ws[0].send([]byte("4after"), true)
		want := textFrame(big) + textFrame("4after")
		if got := readN(t, clients[0], len(want)); got != want {
			t.Errorf("received %d bytes not the big frame then the next one", len(got))
		}
		if got := readN(t, clients[1], len(textFrame(big))); got != textFrame(big) {
			t.Errorf("the other member received %d bytes, not the big frame", len(got))
		}
	})
}

// A member whose connection was closed before the flush gets nothing
// written to a descriptor that may be another's by now: the flush holds
// each descriptor, a closed one is refused, the others are written, and
// its writer then reports the closed connection.
func TestBatchSkipsAClosedConnection(t *testing.T) {
	forEachWriteMode(t, func(t *testing.T, byRing bool) {
		_, ws, clients, failed := batchWriters(t, 3)
		p := packet("4e")
		b := newBatch(t, p)
		for _, w := range ws {
			b.relay(w, p, true)
		}
		ws[1].conn.Close()
		b.flush(p, true)
		for _, i := range []int{0, 2} {
			if got := readN(t, clients[i], len(textFrame("4e"))); got != textFrame("4e") {
				t.Errorf("member %d received %q, want %q", i, got, textFrame("4e"))
			}
		}
		select {
		case reason := <-failed:
			t.Logf("the closed member's writer: %s", reason)
		case <-time.After(5 * time.Second):
			t.Error("the closed member's writer never reported its connection")
		}
	})
}

// A connection closed while claimed says goodbye after the claimed
// frame: close starts no writer then, and the connection's owner,
// waiting for its writers after close, waits for the claim too (it must
// not close the connection under a batch's write); the goodbye's writer
// starts from the flush. In a synctest bubble the owner's wait is seen
// still blocked once everything else is, and returns after the flush.
func TestCloseWhileClaimedSaysGoodbyeAfterTheFrame(t *testing.T) {
	forEachWriteMode(t, func(t *testing.T, byRing bool) {
		synctest.Test(t, func(t *testing.T) {
			_, ws, clients, _ := batchWriters(t, 2)
			p := packet("4last")
			b := newBatch(t, p)
			b.relay(ws[0], p, true)
			b.relay(ws[1], p, true)
			ws[0].close()
			if running(ws[0]) {
				t.Fatal("close started a writer while the connection was claimed")
			}
			waited := make(chan struct{})
			go func() {
				ws[0].wait()
				close(waited)
			}()
			synctest.Wait()
			select {
			case <-waited:
				t.Fatal("the owner's wait returned while the connection was claimed")
			default:
			}
			b.flush(p, true)
			<-waited
			want := textFrame("4last") + string(appendFrameHeader(nil, opClose, 2)) + "\x03\xe9"
			if got := readN(t, clients[0], len(want)); got != want {
				t.Errorf("on the wire %q, want the frame then the goodbye %q", got, want)
			}
		})
	})
}

// A session larger than a batch, with members that cannot take a direct
// write among idle ones: a long-polling member and one whose writer runs
// get the event queued, a member whose connection closed before the
// flush gets nothing written, and every idle member gets its own frame
// (the closed one's place in the flush shifts the others').
func TestBatchAmongMembersThatCannotTakeIt(t *testing.T) {
	forEachWriteMode(t, func(t *testing.T, byRing bool) {
		k := 2*maxBatch + 2
		srv, ws, clients, failed := batchWriters(t, k)
		polling := newConnWriter(srv, func(string) {}) // no websocket attached
		ws[0] = polling
		ws[16].mu.Lock()
		ws[16].running = true // a writer runs
		ws[16].mu.Unlock()
		closed := 15
		p := packet("4e")
		b := newBatch(t, p)
		for i, w := range ws {
			if i == closed+1 { // ws[closed] is claimed: close it under the batch
				ws[closed].conn.Close()
			}
			b.relay(w, p, true)
		}
		b.flush(p, true)
		for i, c := range clients {
			if i == 0 || i == closed || i == 16 {
				continue
			}
			if got := readN(t, c, len(textFrame("4e"))); got != textFrame("4e") {
				t.Fatalf("member %d received %q, want %q", i, got, textFrame("4e"))
			}
		}
		for _, i := range []int{0, 16} {
			if got := queuedStrings(ws[i]); len(got) != 1 || got[0] != "4e" {
				t.Errorf("member %d queued %q, want 4e", i, got)
			}
		}
		ws[16].mu.Lock()
		ws[16].running = false // and has exited, without draining
		ws[16].mu.Unlock()
		ws[16].send([]byte("4f"), true)
		if got, want := readN(t, clients[16], 2*len(textFrame("4e"))), textFrame("4e")+textFrame("4f"); got != want {
			t.Errorf("the busy member received %q, want %q", got, want)
		}
		if reason := <-failed; reason == "" {
			t.Error("the closed member's writer reported nothing")
		}
		if st := srv.Stats(); st.DirectWrites != uint64(k-3) { // 4f queued behind 4e
			t.Errorf("direct writes %d, want the %d idle members'", st.DirectWrites, k-3)
		}
	})
}
