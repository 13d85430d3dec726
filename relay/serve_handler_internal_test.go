//go:build linux

package relay

import (
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/jambridge/jambridge/internal/tcppair"
)

// What arrives while a handler runs, after the read that said the socket
// held nothing more, is found without a new edge: data, a FIN, a reset.
// The poller keeps the edge it saw during the callback (pdReady), so the
// reader's wait after the handler returns at once.
func TestServingFindsWhatArrivesDuringTheHandler(t *testing.T) {
	cases := map[string]struct {
		event func(t *testing.T, client net.Conn)
		want  uint32 // on the server's socket once the event is in
		ends  bool   // serve returns: the end of the stream or an error
	}{
		"data": {func(t *testing.T, c net.Conn) {
			if _, err := c.Write(frame(true, opText, []byte("42[2]"))); err != nil {
				t.Fatal(err)
			}
		}, syscall.EPOLLIN, false},
		"fin":   {func(t *testing.T, c net.Conn) { c.Close() }, syscall.EPOLLIN | syscall.EPOLLRDHUP, true},
		"reset": {func(t *testing.T, c net.Conn) { c.(*net.TCPConn).SetLinger(0); c.Close() }, syscall.EPOLLHUP, true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			server, client := tcpPair(t)
			wc := servingConn(server, 1000)
			if !wc.rr.inq {
				t.Fatal("TCP_INQ is not set: the test would not test the serving reader's parking")
			}
			inHandler, release := make(chan struct{}), make(chan struct{})
			got := make(chan string, 4)
			first := true
			text := func(b []byte) bool {
				if first {
					first = false
					close(inHandler)
					<-release
				}
				got <- string(b)
				return true
			}
			handle := func() bool { t.Error("gorilla's path taken"); return false }
			done := make(chan bool, 1)
			go func() { done <- wc.serve(handle, text) }()

			if _, err := client.Write(frame(true, opText, []byte("42[1]"))); err != nil {
				t.Fatal(err)
			}
			<-inHandler // the read that returned 42[1] said nothing more was there
			tc.event(t, client)
			tcppair.AwaitEvents(t, server, tc.want)
			close(release)
			if g := <-got; g != "42[1]" {
				t.Fatalf("first message %q", g)
			}
			if !tc.ends {
				select {
				case g := <-got:
					if g != "42[2]" {
						t.Fatalf("second message %q", g)
					}
				case <-time.After(10 * time.Second):
					t.Fatal("the data that came during the handler was not read: the reader parked on a lost edge")
				}
				client.Close()
			}
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("serve did not return after the end of the stream")
			}
			if tc.ends && wc.readErr == nil {
				t.Error("serve returned without keeping the end of the stream")
			}
		})
	}
}

// The message handed to the text handler ends the read buffer's bytes it
// may touch: a handler appending to its message (as append(b[:k], ...)
// in a parser would) must not overwrite the next message in the buffer.
func TestServingTextMessageHasNoSpareCapacity(t *testing.T) {
	server, client := tcpPair(t)
	wc := servingConn(server, 1000)
	got := make(chan string, 4)
	text := func(b []byte) bool {
		got <- string(b)
		_ = append(b, "XXXXXXXXXXXXXXXX"...) // within cap: writes over what follows b, if anything does
		return true
	}
	handle := func() bool { t.Error("gorilla's path taken"); return false }
	done := make(chan bool, 1)
	go func() { done <- wc.serve(handle, text) }()
	if _, err := client.Write(cat(frame(true, opText, []byte("42[1]")), frame(true, opText, []byte("42[2]")))); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"42[1]", "42[2]"} {
		select {
		case g := <-got:
			if g != want {
				t.Fatalf("message %q, want %q", g, want)
			}
		case <-done:
			t.Fatalf("serve left the callback before %q: the buffer no longer holds it", want)
		}
	}
	client.Close()
	<-done
}
