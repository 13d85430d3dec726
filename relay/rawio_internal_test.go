//go:build unix

package relay

import (
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"
)

// The raw reader reads what net.Conn.Read would: bytes as they come, a
// buffer's worth at a time, then io.EOF when the peer closes.
func TestRawReaderReadsThenEOF(t *testing.T) {
	server, client := tcpPair(t)
	r := newRawReader(server)
	if r == nil {
		t.Fatal("a TCP connection has no raw reader")
	}
	if _, err := client.Write([]byte("hello world")); err != nil {
		t.Fatal(err)
	}
	var got []byte
	buf := make([]byte, 4)
	for len(got) < len("hello world") {
		n, err := r.read(buf) // parks on the poller until the bytes are there
		if err != nil {
			t.Fatalf("read after %q: %v", got, err)
		}
		if n > len(buf) {
			t.Fatalf("read %d bytes into %d", n, len(buf))
		}
		got = append(got, buf[:n]...)
	}
	if string(got) != "hello world" {
		t.Fatalf("read %q, want %q", got, "hello world")
	}
	client.Close()
	if n, err := r.read(buf); n != 0 || err != io.EOF {
		t.Fatalf("read after the peer closed = %d, %v; want 0, io.EOF", n, err)
	}
}

// A read deadline ends a parked raw read with a timeout, as for Read.
func TestRawReaderDeadline(t *testing.T) {
	server, _ := tcpPair(t)
	r := newRawReader(server)
	server.SetReadDeadline(time.Now().Add(-time.Second)) // passed: no waiting
	_, err := r.read(make([]byte, 8))
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read past the deadline: %v, want os.ErrDeadlineExceeded", err)
	}
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("read past the deadline: %v is not a net.Error timeout", err)
	}
}

// Closing the connection ends a raw read parked on the poller.
func TestRawReaderClose(t *testing.T) {
	server, _ := tcpPair(t)
	r := newRawReader(server)
	done := make(chan error, 1)
	go func() {
		_, err := r.read(make([]byte, 8))
		done <- err
	}()
	server.Close() // whether the read has parked yet or not, it must end
	if err := <-done; !errors.Is(err, net.ErrClosed) {
		t.Fatalf("read on a closed connection: %v, want net.ErrClosed", err)
	}
}

// A websocket's wsConn reads through the raw reader when its connection
// has a descriptor, and through Conn.Read otherwise.
func TestWsConnUsesRawReader(t *testing.T) {
	server, client := tcpPair(t)
	wc := &wsConn{Conn: server, rr: newRawReader(server)}
	if wc.rr == nil {
		t.Fatal("no raw reader for a TCP connection")
	}
	client.Write([]byte("x"))
	b := make([]byte, 1)
	if n, err := wc.Read(b); n != 1 || err != nil || b[0] != 'x' {
		t.Fatalf("Read = %d, %v, %q", n, err, b)
	}
	p1, p2 := net.Pipe()
	defer p1.Close()
	defer p2.Close()
	if newRawReader(p1) != nil {
		t.Fatal("a pipe has a raw reader")
	}
}
