package main

import (
	"io"
	"net"
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
