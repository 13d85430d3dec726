//go:build unix

package relay

import (
	"bufio"
	"net"
	"testing"
)

// servingConn is the server's end of a test's TCP pair as the relay
// serves it: raw reads, a read buffer of its own, limit (gorilla's read
// limit) for the serving reader's own messages.
func servingConn(server net.Conn, limit int64) *wsConn {
	wc := &wsConn{Conn: server, rr: newRawReader(server), limit: limit}
	wc.br = bufio.NewReaderSize(wc, readBufferSize)
	return wc
}

// A reader parked inside RawConn.Read holds no read buffer, unless part
// of a message waits in it; it takes one back for the next message, and
// for the blocking path.
func TestParkedReaderHoldsNoBuffer(t *testing.T) {
	server, client := tcpPair(t)
	wc := servingConn(server, 0)
	parked := make(chan int, 16)
	wc.parked = func() { parked <- wc.br.Size() }
	got := make(chan string, 16)
	handle := func() bool { // what readOne would read: one whole message
		res := scanMessage(wc.buffered())
		b, _ := wc.br.Peek(res.n)
		got <- string(b[len(b)-1:]) // the payload's last byte, masked with 4
		_, _ = wc.br.Discard(res.n)
		return true
	}
	done := make(chan bool, 1)
	go func() { done <- wc.serve(handle, nil) }()

	if n := <-parked; n != 0 {
		t.Fatalf("parked with a buffer of %d bytes before any input", n)
	}
	msg := frame(true, opText, []byte("1234"))
	for i, cut := range []int{len(msg), 3} {
		if _, err := client.Write(msg[:cut]); err != nil {
			t.Fatal(err)
		}
		if cut < len(msg) {
			if n := <-parked; n != readBufferSize {
				t.Fatalf("parked with a buffer of %d bytes holding part of a message, want %d", n, readBufferSize)
			}
			if _, err := client.Write(msg[cut:]); err != nil {
				t.Fatal(err)
			}
		}
		if b := <-got; b != string(rune('4'^4)) {
			t.Fatalf("message %d: last byte %q", i, b)
		}
		if n := <-parked; n != 0 {
			t.Fatalf("message %d: parked with a buffer of %d bytes", i, n)
		}
	}
	client.Close()
	if !<-done {
		t.Fatal("serve reported the connection ended by its handler at the end of the stream")
	}
	if wc.br.Size() != readBufferSize {
		t.Errorf("after serve the read buffer holds %d bytes, want %d for the blocking path", wc.br.Size(), readBufferSize)
	}
	if _, err := wc.Read(make([]byte, 1)); err == nil {
		t.Error("the end of the stream found while serving is not kept for the blocking path")
	}
}

// A message of one text frame within the read limit goes to the text
// handler unmasked, straight from the read buffer; every other message
// goes to gorilla's path (handle), in order.
func TestServingHandsOneFrameTextOver(t *testing.T) {
	server, client := tcpPair(t)
	wc := servingConn(server, 8)
	got := make(chan string, 16)
	handle := func() bool {
		res := scanMessage(wc.buffered())
		_, _ = wc.br.Discard(res.n)
		got <- "gorilla"
		return true
	}
	text := func(b []byte) bool { got <- "text " + string(b); return true }
	done := make(chan bool, 1)
	go func() { done <- wc.serve(handle, text) }()

	steps := []struct {
		frames []byte
		want   string
	}{
		{frame(true, opText, []byte("42[1]")), "text 42[1]"},
		{frame(true, opBinary, []byte("42[2]")), "gorilla"},
		{cat(frame(true, opPing, nil), frame(true, opText, []byte("42[3]"))), "gorilla"},
		{cat(frame(false, opText, []byte("42")), frame(true, opContinuation, []byte("[4]"))), "gorilla"},
		{frame(true, opText, []byte("42[555555]")), "gorilla"}, // over the limit of 8: gorilla fails it
		{frame(true, opText, []byte("")), "text "},
		{frame(true, opText, []byte("12345678")), "text 12345678"}, // the limit itself
	}
	var all []byte
	for _, s := range steps {
		all = append(all, s.frames...)
	}
	if _, err := client.Write(all); err != nil { // all in one read: the handlers see one buffer
		t.Fatal(err)
	}
	for i, s := range steps {
		if g := <-got; g != s.want {
			t.Fatalf("message %d: %q, want %q", i, g, s.want)
		}
	}
	client.Close()
	<-done
}
