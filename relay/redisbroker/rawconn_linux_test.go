package redisbroker

import (
	"bytes"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/jambridge/jambridge/internal/tcppair"
)

// tcpPair returns both ends of a loopback TCP connection, the client's
// with raw reads and writes.
func tcpPair(t *testing.T) (raw, peer net.Conn) {
	t.Helper()
	c, s := tcppair.New(t)
	raw = rawIO(c)
	if _, ok := raw.(*rawConn); !ok {
		t.Fatalf("rawIO of a TCP connection is a %T, want *rawConn", raw)
	}
	return raw, s
}

// A write larger than the socket's buffers waits on the poller for room
// and goes out whole, in order.
func TestRawConnWriteWaitsForRoom(t *testing.T) {
	raw, peer := tcpPair(t)
	want := bytes.Repeat([]byte("0123456789abcdef"), 1<<19) // 8 MiB
	got := make(chan []byte, 1)
	go func() {
		b, _ := io.ReadAll(peer)
		got <- b
	}()
	n, err := raw.Write(want)
	if err != nil || n != len(want) {
		t.Fatalf("write: %d, %v; want %d, nil", n, err, len(want))
	}
	raw.Close()
	if b := <-got; !bytes.Equal(b, want) {
		t.Errorf("the peer read %d bytes, not the %d written", len(b), len(want))
	}
}

// A read waits for data, then returns it; a closed peer gives io.EOF; a
// deadline gives a timeout.
func TestRawConnRead(t *testing.T) {
	raw, peer := tcpPair(t)
	raw.SetReadDeadline(time.Now().Add(-time.Second))
	var ne net.Error
	if _, err := raw.Read(make([]byte, 8)); !errors.As(err, &ne) || !ne.Timeout() {
		t.Errorf("read past its deadline: %v, want a timeout", err)
	}
	raw.SetReadDeadline(time.Time{})
	go func() {
		peer.Write([]byte("+OK\r\n"))
		peer.Close()
	}()
	b, err := io.ReadAll(raw)
	if err != nil || string(b) != "+OK\r\n" {
		t.Errorf("read %q, %v; want %q to EOF", b, err, "+OK\r\n")
	}
}
