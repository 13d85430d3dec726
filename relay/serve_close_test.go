package relay_test

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/jambridge/jambridge/relay"
)

// A handler that ends its own connection while it is served inside
// RawConn.Read must not close the descriptor from there (FD.Close would
// wait for the callback that called it): each case sends a good event
// and what ends the connection in one write, so both are handled inside
// one callback, then checks the relay hung up and goes on.
func TestServingAHandlerThatEndsItsOwnConnection(t *testing.T) {
	cases := []struct {
		name  string
		end   func(code string) [][]byte
		after func(t *testing.T, r *testRelay)
	}{
		{"malformed packet", func(string) [][]byte { return [][]byte{textFrame("9")} }, func(t *testing.T, r *testRelay) {
			if st := r.Stats(); st.Malformed != 1 {
				t.Errorf("malformed %d, want 1", st.Malformed)
			}
		}},
		{"client close", func(string) [][]byte { return [][]byte{textFrame("1")} }, nil},
		{"control flood", func(string) [][]byte {
			var fs [][]byte
			for range 200 {
				fs = append(fs, textFrame("6"))
			}
			return fs
		}, func(t *testing.T, r *testRelay) {
			if got := r.Refused()["control_flood"]; got != 1 {
				t.Errorf("refused %d for a control flood, want 1", got)
			}
		}},
		{"ping flood", func(string) [][]byte {
			var fs [][]byte
			for range 200 {
				fs = append(fs, maskedFrame(true, websocket.PingMessage, nil), textFrame("6"))
			}
			return fs
		}, nil},
		{"websocket close frame", func(string) [][]byte {
			return [][]byte{maskedFrame(true, websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""))}
		}, nil},
		{"unmasked frame", func(string) [][]byte { return [][]byte{{0x81, 1, '6'}} }, nil},
		{"not UTF-8", func(string) [][]byte { return [][]byte{textFrame("4\xff")} }, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newRelay(t, relay.Config{})
			code, alice, fc := servedSession(t, r)
			fc.send(append([][]byte{broadcastFrame(code, 1)}, c.end(code)...)...)
			wantPayloads(t, alice, "1")
			alice.next("session:user-left")
			readClosed(t, fc.ws)
			if c.after != nil {
				c.after(t, r)
			}
			alice.emit("session:leave", nil) // the relay still serves the others
			alice.sync()
		})
	}
}

// A refused binary message is answered with an error, inside the
// callback, and the connection goes on.
func TestServingARefusedBinaryMessage(t *testing.T) {
	r := newRelay(t, relay.Config{})
	code, alice, fc := servedSession(t, r)
	fc.send(maskedFrame(true, websocket.BinaryMessage, []byte{1, 2, 3}), broadcastFrame(code, 1))
	if msg := readPrefix(t, fc.ws, `42["error",`); !strings.Contains(msg, `"code":"bad_request"`) {
		t.Errorf("error %s, want bad_request", msg)
	}
	wantPayloads(t, alice, "1")
}

// A member whose own replies overflow its send queue (it sends and never
// reads) is closed from a handler running inside its reader's callback.
func TestServingAnOwnQueueOverflow(t *testing.T) {
	clock := newFakeClock()
	r := newRelay(t, relay.Config{SendQueue: 8, WriteTimeout: time.Minute, Now: clock.Now, EventRate: 1e9, EventBurst: 1e9})
	_, alice, fc := servedSession(t, r)
	// Each CONNECT to an unknown namespace is answered with an error
	// about as long: the replies fill the socket buffers, then the queue.
	nsp := "/" + strings.Repeat("n", 400)
	connect := textFrame("40" + nsp + ",")
	burst := make([][]byte, 50)
	for i := range burst {
		burst[i] = connect
	}
	done := make(chan struct{})
	go func() { // until the relay hangs up
		defer close(done)
		for {
			fc.c.SetWriteDeadline(time.Now().Add(wait))
			if _, err := fc.c.Write(joinFrames(burst)); err != nil {
				return
			}
			if _, dropped := relay.QueuedBytes(r.Server); dropped > 0 {
				clock.Advance(time.Hour) // the next overflow finds it stuck
			}
		}
	}()
	alice.next("session:user-left")
	fc.c.Close()
	<-done
	if st := r.Stats(); st.Stuck != 1 {
		t.Errorf("stuck %d, want 1", st.Stuck)
	}
	alice.emit("session:leave", nil)
	alice.sync()
}

func joinFrames(fs [][]byte) []byte {
	var b []byte
	for _, f := range fs {
		b = append(b, f...)
	}
	return b
}

// Server.Close returns while a member floods: its reader lets go of the
// descriptor after a bounded number of messages, so the writer's close
// of the connection is not held.
func TestServingServerCloseDuringAFlood(t *testing.T) {
	r := newRelay(t, relay.Config{EventRate: 1e9, EventBurst: 1e9})
	code, alice, fc := servedSession(t, r)
	burst := make([][]byte, 64)
	for i := range burst {
		burst[i] = broadcastFrame(code, i)
	}
	flood := joinFrames(burst)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			fc.c.SetWriteDeadline(time.Now().Add(wait))
			if _, err := fc.c.Write(flood); err != nil {
				return
			}
		}
	}()
	alice.next("event:broadcast") // the flood is being served
	closed := make(chan struct{})
	go func() {
		r.Server.Close()
		close(closed)
	}()
	select {
	case <-closed:
	case <-time.After(wait):
		t.Fatalf("Server.Close did not return within %v during a flood", wait)
	}
	readClosed(t, fc.ws)
	<-done
}

// The relay's close of a served connection from another goroutine (a
// ping timeout here, on the relay's own timer) ends a parked reader.
func TestServingPingTimeoutEndsAParkedReader(t *testing.T) {
	r := newRelay(t, relay.Config{PingInterval: 20 * time.Millisecond, PingTimeout: 20 * time.Millisecond})
	fc := dialFrames(t, r)
	readClosed(t, fc.ws) // never answers the ping
	waitUntil(t, "the connection to be forgotten", func() bool { return r.Stats().Connections == 0 })
}

// A client that ends its stream right behind its last event, with no
// close frame (a process killed just after sending: a FIN or a
// half-close), is noticed at once, not at the next ping: the FIN can
// arrive with the data and be consumed by the read that returns the
// data, and the poller reports no new edge after it, so the reader
// must not park before the socket has said it holds nothing more
// (TCP_INQ, or EAGAIN). The ping interval is an hour: only the reader
// can notice.
//
// A reset is not in TCP_INQ's answer: one that comes with the last
// data is noticed by the next write to the client, here the next event
// of another member (serve_unix.go).
func TestServingNoticesTheEndBehindTheData(t *testing.T) {
	r := newRelay(t, relay.Config{PingInterval: time.Hour, PingTimeout: time.Hour})
	ends := map[string]func(c *net.TCPConn){
		"fin":        func(c *net.TCPConn) { c.Close() },
		"reset":      func(c *net.TCPConn) { c.SetLinger(0); c.Close() },
		"half-close": func(c *net.TCPConn) { c.CloseWrite() },
	}
	for name, end := range ends {
		t.Run(name, func(t *testing.T) {
			for range 10 {
				code, alice, fc := servedSession(t, r)
				tc, ok := fc.c.(*net.TCPConn)
				if !ok {
					t.Fatalf("the frame connection is a %T, not a TCP connection", fc.c)
				}
				fc.send(broadcastFrame(code, 1))
				end(tc)
				if name == "reset" {
					alice.emit("event:broadcast", map[string]any{"roomCode": code, "eventName": "drum_hit", "payload": map[string]any{"velocity": 1}})
				}
				alice.next("session:user-left") // fails after the helpers' wait
			}
		})
	}
}
