package relay

import (
	"bytes"
	"net"
	"testing"
	"time"
)

// tcpPair returns the two ends of a loopback TCP connection.
func tcpPair(t *testing.T) (server, client net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server = <-accepted
	if server == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { server.Close(); client.Close() })
	return server, client
}

// A packet is written directly only when nothing is queued before it:
// once one packet had to queue (its writer busy), the next ones queue
// behind it, even with the connection free again.
func TestDirectWriteNeverOvertakesTheQueue(t *testing.T) {
	srv, err := NewServer(Config{})
	if err != nil {
		t.Fatal(err)
	}
	s := newSocket(srv)
	server, client := tcpPair(t)
	s.direct.Store(newDirectConn(server))

	s.send([]byte("4first"), true) // idle: written at once
	s.wmu.Lock()                   // the writer is busy writing
	s.send([]byte("4second"), true)
	s.wmu.Unlock() // and done, but has not drained "second" yet
	s.send([]byte("4third"), true)

	got := s.q.drain(nil, time.Now())
	if len(got) != 2 || string(got[0]) != "4second" || string(got[1]) != "4third" {
		t.Errorf("queued %q, want 4second then 4third", got)
	}
	want := appendFrameHeader(nil, opText, len("4first"))
	want = append(want, "4first"...)
	buf := make([]byte, 64)
	client.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, err := client.Read(buf)
	if err != nil || !bytes.Equal(buf[:n], want) {
		t.Errorf("on the wire %q (%v), want only the first frame %q", buf[:n], err, want)
	}
	if st := srv.Stats(); st.DirectWrites != 1 {
		t.Errorf("direct writes %d, want 1", st.DirectWrites)
	}
}
