package main

import (
	"io"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/jambridge/jambridge/internal/tcppair"
)

// tcpPair returns a client wsConn and the server's end of a loopback
// TCP connection; small: both with small buffers, so that a few events
// fill them.
func tcpPair(t *testing.T, small bool) (*wsConn, net.Conn) {
	t.Helper()
	nc, srv := tcppair.New(t)
	if small {
		_ = nc.(*net.TCPConn).SetWriteBuffer(4096)
		_ = srv.(*net.TCPConn).SetReadBuffer(4096)
	}
	c, err := newWSConn(nc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.close(); srv.Close() })
	return c, srv
}

// A socket that does not take an event whole keeps the rest pending;
// the ticks meanwhile are skipped as stalls, never queued; once the rest
// is written the server has every event whole, counters without a gap,
// and the pong that was asked for before the first one.
func TestTickNeverBlocksNorBursts(t *testing.T) {
	ws, srv := tcpPair(t, true)
	p := plan{start: time.Now(), winStart: time.Now(), winEnd: time.Now().Add(time.Hour), period: time.Hour}
	m := newMember(&eioConn{ws: ws, room: "ROOM-TEST"}, 0, 2, p, 0)
	m.eioPong.Store(true)
	for i := 0; len(m.pending) == 0; i++ {
		if i == 1_000_000 {
			t.Fatal("the socket took a million events without filling")
		}
		m.tick(p)
	}
	if m.writeErr != nil || len(m.pending) > len(m.frame) {
		t.Fatalf("write error %v, %d bytes pending of a %d-byte frame; want at most one frame", m.writeErr, len(m.pending), len(m.frame))
	}
	sent, pending := m.sent, len(m.pending)
	for range 3 {
		m.tick(p)
	}
	if m.sent != sent || m.stalls != 3 || len(m.pending) > pending {
		t.Errorf("after 3 ticks on a full socket: sent %d (was %d), stalls %d, %d bytes pending (was %d); want no send, 3 stalls, no more pending",
			m.sent, sent, m.stalls, len(m.pending), pending)
	}
	got := make(chan []byte)
	go func() { b, _ := io.ReadAll(srv); got <- b }()
	m.finish(time.Now().Add(10 * time.Second))
	m.tick(p)
	if m.writeErr != nil || len(m.pending) != 0 || m.sent != sent+1 {
		t.Fatalf("after the server read: write error %v, %d pending, sent %d; want one more sent, nothing pending", m.writeErr, len(m.pending), m.sent)
	}
	ws.close()
	checkFrames(t, <-got, m.sent)
}

// checkFrames checks the client frames b: a pong, then events 0..sent-1.
func checkFrames(t *testing.T, b []byte, sent int64) {
	t.Helper()
	op, msg, n := unmask(t, b)
	if op != opText || string(msg) != "3" {
		t.Fatalf("first frame %#x %q, want the Engine.IO pong", op, msg)
	}
	for want := int64(0); want < sent; want++ {
		b = b[n:]
		if len(b) == 0 {
			t.Fatalf("%d events received, want %d", want, sent)
		}
		op, msg, n = unmask(t, b)
		relayedMsg := relayed(msg)
		f, ok := parseLoadEvent(relayedMsg)
		if op != opText || !ok || f.n != want || f.src != 0 {
			t.Fatalf("frame %d: %#x %q, want event %d", want, op, clip(msg), want)
		}
	}
	if len(b) != n {
		t.Fatalf("%d bytes after the last event", len(b)-n)
	}
}

// A sender that comes late sends the tick due now and counts the ones
// it missed as stalls, not a burst of them.
func TestTickCountsMissedTicks(t *testing.T) {
	ws, srv := tcpPair(t, false)
	go func() { _, _ = io.Copy(io.Discard, srv) }()
	period := time.Hour
	p := plan{start: time.Now().Add(-10*period - time.Minute), winEnd: time.Now().Add(period), period: period}
	m := newMember(&eioConn{ws: ws, room: "R"}, 1, 2, p, 0)
	m.tick(p)
	if m.sent != 1 || m.stalls != 10 || m.next != 11 {
		t.Errorf("sent %d, stalls %d, next tick %d; want 1, 10, 11", m.sent, m.stalls, m.next)
	}
}

// An event inside the window is charged to the relay up to the kernel's
// queueing stamp, and to the reader up to its read; without a stamp, or
// with one before the send or after the read, both take the read and
// the event counts as unstamped. An event sent before the window is
// counted but not sampled.
func TestRecordChargesTheRelayUpToTheKernelsStamp(t *testing.T) {
	p := plan{start: time.Unix(100, 0), winStart: time.Unix(101, 0), winEnd: time.Unix(102, 0), period: 10 * time.Millisecond}
	c, _ := tcpPair(t, false)
	m := newMember(&eioConn{ws: c}, 0, 2, p, 0)
	ws, we := p.winStart.UnixNano(), p.winEnd.UnixNano()
	sent := ws + int64(100*time.Millisecond)
	m.record(loadFields{src: 1, n: 0, t: sent}, rxTime{read: sent + 3000_000, queued: sent + 1000_000}, ws, we)
	m.record(loadFields{src: 1, n: 1, t: sent}, rxTime{read: sent + 2000_000}, ws, we)
	m.record(loadFields{src: 1, n: 2, t: sent}, rxTime{read: sent + 4000_000, queued: sent - 1000_000}, ws, we)
	m.record(loadFields{src: 1, n: 3, t: sent}, rxTime{read: sent + 5000_000, queued: sent + 6000_000}, ws, we)
	m.record(loadFields{src: 1, n: 4, t: ws - 1}, rxTime{read: sent, queued: sent}, ws, we)
	if want := []uint32{1000, 2000, 4000, 5000}; !slices.Equal(m.rx.samples, want) {
		t.Errorf("relay's latencies %v µs, want %v", m.rx.samples, want)
	}
	if want := []uint32{3000, 2000, 4000, 5000}; !slices.Equal(m.rx.atReader, want) {
		t.Errorf("latencies at the reader %v µs, want %v", m.rx.atReader, want)
	}
	if m.rx.unstamped != 3 {
		t.Errorf("%d unstamped, want 3", m.rx.unstamped)
	}
	if m.rx.count[1] != 5 || m.rx.inWindow != 5 {
		t.Errorf("counted %d, %d in the window; want 5, 5", m.rx.count[1], m.rx.inWindow)
	}
}
