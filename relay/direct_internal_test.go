package relay

import (
	"bytes"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
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

// The writer sends a cut-short direct write's tail before anything else,
// a pong included: nothing may land inside a frame.
func TestWriterSendsThePartialTailBeforeAPong(t *testing.T) {
	srv, err := NewServer(Config{})
	if err != nil {
		t.Fatal(err)
	}
	up := websocket.Upgrader{}
	serverWS := make(chan *websocket.Conn, 1)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err == nil {
			serverWS <- ws
		}
	}))
	defer hs.Close()
	client, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(hs.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	ws := <-serverWS

	s := newSocket(srv)
	s.partial = []byte("cd") // the tail of a frame the kernel took "ab" of
	s.sendControl(opPong, []byte("P"))
	s.writer.Add(1)
	go s.writeLoop(ws)
	defer func() { s.close("done"); s.writer.Wait() }()

	raw := client.NetConn()
	raw.SetReadDeadline(time.Now().Add(5 * time.Second))
	got := make([]byte, 0, 8)
	buf := make([]byte, 8)
	for len(got) < 5 {
		n, err := raw.Read(buf)
		if err != nil {
			t.Fatalf("read %q: %v", got, err)
		}
		got = append(got, buf[:n]...)
	}
	if want := "cd\x8a\x01P"; string(got[:5]) != want {
		t.Errorf("on the wire %q, want the tail then the pong %q", got[:5], want)
	}
}

// gorilla's own writes after the takeover (a close frame on a protocol
// error) go after a cut-short direct write's tail, under wmu.
func TestGorillaWritesGoAfterThePartialTail(t *testing.T) {
	srv, err := NewServer(Config{})
	if err != nil {
		t.Fatal(err)
	}
	server, client := tcpPair(t)
	c := &wsConn{Conn: server}
	if _, err := c.Write([]byte("hs")); err != nil { // the handshake: straight through
		t.Fatal(err)
	}
	s := newSocket(srv)
	c.sock.Store(s)
	s.partial = []byte("cd")
	if _, err := c.Write([]byte("\x88\x00")); err != nil { // a close frame
		t.Fatal(err)
	}
	if s.partial != nil {
		t.Error("the tail is still pending after gorilla's write")
	}
	if !s.wmu.TryLock() {
		t.Fatal("wmu still held after gorilla's write")
	}
	s.wmu.Unlock()
	want := "hscd\x88\x00"
	got := make([]byte, 0, len(want))
	buf := make([]byte, 16)
	client.SetReadDeadline(time.Now().Add(5 * time.Second))
	for len(got) < len(want) {
		n, err := client.Read(buf)
		if err != nil {
			t.Fatalf("read %q: %v", got, err)
		}
		got = append(got, buf[:n]...)
	}
	if string(got) != want {
		t.Errorf("on the wire %q, want %q", got, want)
	}
}
