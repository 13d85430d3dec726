package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// gorillaServer serves one websocket at a time with serve, from a
// gorilla/websocket server: the reference the client must agree with.
func gorillaServer(t *testing.T, serve func(ws *websocket.Conn)) string {
	t.Helper()
	up := websocket.Upgrader{WriteBufferSize: 4096}
	done := make(chan struct{})
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		serve(ws)
		done <- struct{}{}
	}))
	t.Cleanup(hs.Close)
	t.Cleanup(func() {
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("the server handler did not finish")
		}
	})
	return "ws" + strings.TrimPrefix(hs.URL, "http") + "/socket.io/?EIO=4&transport=websocket"
}

// message is what the test server sends: its size and a marker per index.
func message(i int) []byte {
	size := []int{1, 40, 260, 4095, 4097, 20_000, 70_000}[i%7]
	b := bytes.Repeat([]byte{byte('a' + i%26)}, size)
	copy(b, fmt.Sprintf("%d:", i))
	return b
}

// The load read path gets every message whole and in order, whatever
// the reads cut: lengths of all three encodings, messages longer than
// the buffer and fragmented ones (gorilla fragments at its write
// buffer), with a ping among them.
func TestReadLoopAgainstGorilla(t *testing.T) {
	const count = 300
	u := gorillaServer(t, func(ws *websocket.Conn) {
		for i := range count {
			if i == count/2 {
				_ = ws.WriteControl(websocket.PingMessage, []byte("p"), time.Now().Add(time.Second))
			}
			if err := ws.WriteMessage(websocket.TextMessage, message(i)); err != nil {
				t.Errorf("server write %d: %v", i, err)
				return
			}
		}
		_, _, _ = ws.ReadMessage() // until the client closes
	})
	c, err := dialWS(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	defer c.close()
	var got [][]byte
	pings := 0
	err = c.readLoop(func(op byte, msg []byte, at rxTime) bool {
		switch op {
		case opText:
			got = append(got, bytes.Clone(msg))
		case opPing:
			pings++
		}
		return len(got) < count
	})
	if err != nil {
		t.Fatalf("read loop: %v", err)
	}
	if pings != 1 {
		t.Errorf("%d pings, want 1", pings)
	}
	for i, m := range got {
		if !bytes.Equal(m, message(i)) {
			t.Fatalf("message %d: %d bytes starting %q, want %d bytes", i, len(m), m[:min(8, len(m))], len(message(i)))
		}
	}
}

// Setup's blocking path: the server gets a masked frame it can read, and
// a ping is answered while the client waits for a message.
func TestReadMessageAnswersPings(t *testing.T) {
	ponged := make(chan string, 1)
	u := gorillaServer(t, func(ws *websocket.Conn) {
		ws.SetPongHandler(func(s string) error { ponged <- s; return nil })
		_, msg, err := ws.ReadMessage()
		if err != nil || string(msg) != "40" {
			t.Errorf("server read %q, %v; want 40", msg, err)
		}
		_ = ws.WriteControl(websocket.PingMessage, []byte("hi"), time.Now().Add(time.Second))
		_ = ws.WriteMessage(websocket.TextMessage, []byte("40{}"))
		_, _, _ = ws.ReadMessage() // reads the pong, then waits for the close
	})
	c, err := dialWS(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	defer c.close()
	if err := c.writeFrame(opText, []byte("40")); err != nil {
		t.Fatal(err)
	}
	msg, err := c.readMessage()
	if err != nil || string(msg) != "40{}" {
		t.Fatalf("read %q, %v; want 40{}", msg, err)
	}
	if got := <-ponged; got != "hi" {
		t.Errorf("pong %q, want hi", got)
	}
}

// Closing the connection ends a read loop that is waiting for data.
func TestReadLoopEndsOnClose(t *testing.T) {
	u := gorillaServer(t, func(ws *websocket.Conn) {
		_ = ws.WriteMessage(websocket.TextMessage, []byte("first"))
		_, _, _ = ws.ReadMessage()
	})
	c, err := dialWS(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	first := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- c.readLoop(func(op byte, msg []byte, at rxTime) bool { close(first); return true })
	}()
	<-first
	c.close()
	if err := <-done; err == nil {
		t.Error("read loop ended without an error after close")
	}
}

func TestNextReassemblesFragments(t *testing.T) {
	var in []byte
	in = append(in, serverFrame(false, opText, []byte("42[\"a"))...)
	in = append(in, serverFrame(true, opPing, []byte("x"))...)
	in = append(in, serverFrame(false, opContinuation, []byte("b"))...)
	in = append(in, serverFrame(true, opContinuation, []byte("c\"]"))...)
	in = append(in, serverFrame(true, opText, []byte("3"))...)
	c := &wsConn{buf: in}
	var got []string
	for {
		op, msg, ok, err := c.next()
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		got = append(got, fmt.Sprintf("%x:%s", op, msg))
	}
	want := []string{"9:x", `1:42["abc"]`, "1:3"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %q, want %q", got, want)
	}
	bad := &wsConn{buf: serverFrame(true, opContinuation, []byte("orphan"))}
	if _, _, _, err := bad.next(); !errors.Is(err, errFrame) {
		t.Errorf("a continuation with no message: got %v, want errFrame", err)
	}
}

// messages parses every whole message in b fed to a wsConn in the
// given pieces, as the reads would bring them.
func messages(b []byte, cuts ...int) (out []string, err error) {
	c := &wsConn{}
	prev := 0
	for _, cut := range append(cuts, len(b)) {
		cut = min(max(cut, prev), len(b))
		c.buf = append(c.buf, b[prev:cut]...)
		prev = cut
		for {
			op, msg, ok, err := c.next()
			if err != nil {
				return out, err
			}
			if !ok {
				break
			}
			out = append(out, fmt.Sprintf("%x:%q", op, msg))
		}
	}
	return out, nil
}

// However the bytes are cut into reads, the same messages come out.
func FuzzNextMessages(f *testing.F) {
	var two []byte
	two = append(two, serverFrame(false, opText, []byte("ab"))...)
	two = append(two, serverFrame(true, opContinuation, []byte("cd"))...)
	two = append(two, serverFrame(true, opText, bytes.Repeat([]byte("e"), 300))...)
	f.Add(two, 3, 9)
	f.Add(serverFrame(true, opClose, []byte{3, 232}), 1, 2)
	f.Add([]byte{0x01, 0x01, 'a', 0x01, 0x01, 'b'}, 2, 4)
	f.Fuzz(func(t *testing.T, b []byte, cut1, cut2 int) {
		whole, errWhole := messages(b)
		cut, errCut := messages(b, cut1, cut2)
		if (errWhole == nil) != (errCut == nil) || fmt.Sprint(whole) != fmt.Sprint(cut) {
			t.Fatalf("whole: %q, %v; cut at %d, %d: %q, %v", whole, errWhole, cut1, cut2, cut, errCut)
		}
	})
}
