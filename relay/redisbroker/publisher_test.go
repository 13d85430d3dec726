package redisbroker

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// fakeSubscriber is a Redis that reads the publisher's commands and
// answers nothing (replies off): each command's arguments go to cmds.
type fakeSubscriber struct {
	ln      net.Listener
	start   chan struct{} // closed: read (until then the socket fills)
	cmds    chan []string
	readBuf int // the accepted socket's receive buffer; 0: the system's
}

func newFakeSubscriber(t *testing.T, readBuf int, started bool) *fakeSubscriber {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeSubscriber{ln: ln, start: make(chan struct{}), cmds: make(chan []string, 8192), readBuf: readBuf}
	if started {
		close(f.start)
	}
	done := make(chan struct{})
	go func() { defer close(done); f.serve() }()
	t.Cleanup(func() { ln.Close(); <-done })
	return f
}

func (f *fakeSubscriber) serve() {
	defer close(f.cmds)
	c, err := f.ln.Accept()
	if err != nil {
		return
	}
	defer c.Close()
	if f.readBuf > 0 {
		c.(*net.TCPConn).SetReadBuffer(f.readBuf)
	}
	<-f.start
	r := bufio.NewReader(c)
	for {
		args, err := readCommand(r)
		if err != nil {
			return
		}
		f.cmds <- args
	}
}

// readCommand reads one RESP array of bulk strings, as clients send.
func readCommand(r *bufio.Reader) ([]string, error) {
	n, err := readLen(r, '*')
	if err != nil {
		return nil, err
	}
	args := make([]string, n)
	for i := range args {
		l, err := readLen(r, '$')
		if err != nil {
			return nil, err
		}
		b := make([]byte, l+2)
		if _, err := io.ReadFull(r, b); err != nil {
			return nil, err
		}
		args[i] = string(b[:l])
	}
	return args, nil
}

func readLen(r *bufio.Reader, kind byte) (int, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return 0, err
	}
	if len(line) < 3 || line[0] != kind {
		return 0, fmt.Errorf("got %q, want a %c header", line, kind)
	}
	return strconv.Atoi(strings.TrimSuffix(line[1:], "\r\n"))
}

// publishingBroker is a Broker on f whose publisher runs, as up, without
// the receiver and heartbeat; stop stops it and closes its connection.
func publishingBroker(t *testing.T, f *fakeSubscriber) (b *Broker, stop func()) {
	t.Helper()
	b, err := New(Options{URL: "redis://" + f.ln.Addr().String() + "/0", Node: "n1"})
	if err != nil {
		t.Fatal(err)
	}
	b.epoch.Store(1)
	b.up.Store(true)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { b.pub.run(ctx) })
	var once sync.Once
	stop = func() {
		once.Do(func() {
			b.pub.drain()
			cancel()
			wg.Wait()
			b.ps.Close()
			b.rdb.Close()
		})
	}
	t.Cleanup(stop)
	return b, stop
}

// nextPublish returns the packet of the next PUBLISH f read.
func nextPublish(t *testing.T, f *fakeSubscriber) string {
	t.Helper()
	for args := range f.cmds {
		if args[0] != "PUBLISH" {
			continue // the handshake
		}
		m, err := decodeMessage([]byte(args[2]))
		if err != nil || m.node != "n1" || args[1] != "jam:ev:ROOM" {
			t.Fatalf("PUBLISH %q %q: %v", args[1], args[2], err)
		}
		return string(m.body)
	}
	t.Fatal("the fake Redis read no more PUBLISH")
	return ""
}

// A direct write long after the publisher's last blocking write (whose
// deadline has passed) goes out: the deadline bounded that write only.
func TestDirectWriteAfterAnIdleSecond(t *testing.T) {
	f := newFakeSubscriber(t, 0, true)
	b, _ := publishingBroker(t, f)
	b.Publish("ROOM", []byte("first"), false) // no connection yet: run dials and writes
	if got := nextPublish(t, f); got != "first" {
		t.Fatalf("got %q, want first", got)
	}
	time.Sleep(opTimeout + 100*time.Millisecond) // the first write's deadline passes
	b.Publish("ROOM", []byte("second"), false)   // alone, written by this goroutine
	if got := nextPublish(t, f); got != "second" {
		t.Fatalf("got %q, want second", got)
	}
	if got := testutil.ToFloat64(b.m.published); got != 2 {
		t.Errorf("published %v, want 2", got)
	}
}

// Events pushed faster than Redis reads: the direct write the socket
// takes in part leaves the rest to the publisher's goroutine, first in
// line, and the events after it queue; every event arrives once, in
// order.
func TestDirectWritesInPartKeepOrder(t *testing.T) {
	f := newFakeSubscriber(t, 0, false)
	b, stop := publishingBroker(t, f)
	b.Publish("ROOM", []byte("s0 0"), false)
	waitDialled(t, b)
	b.pub.connMu.Lock()
	b.pub.conn.(*rawConn).Conn.(*net.TCPConn).SetWriteBuffer(4096) // a few events fill it
	b.pub.connMu.Unlock()
	const senders, each = 1, 1000 // one: the publisher's goroutine is idle, each push is alone
	pad := strings.Repeat("x", 2048)
	for i := 1; i <= each; i++ {
		b.Publish("ROOM", []byte(fmt.Sprintf("s0 %d %s", i, pad)), false)
	}
	close(f.start) // within the blocking write's deadline (opTimeout)
	last := map[string]int{"s0": -1}
	for range senders*each + 1 {
		var who string
		var seq int
		fmt.Sscanf(nextPublish(t, f), "%s %d", &who, &seq)
		if seq != last[who]+1 {
			t.Fatalf("%s: event %d after %d", who, seq, last[who])
		}
		last[who] = seq
	}
	stop()
	if b.pub.partials == 0 {
		t.Error("no direct write was taken in part: the test did not fill the socket")
	}
	if got := testutil.ToFloat64(b.m.published); got != senders*each+1 {
		t.Errorf("published %v, want %d", got, senders*each+1)
	}
}

// waitDialled waits until the publisher has its connection, so the next
// events may be written directly.
func waitDialled(t *testing.T, b *Broker) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		b.pub.connMu.Lock()
		ok := b.pub.conn != nil
		b.pub.connMu.Unlock()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the publisher did not dial within 5 s")
		}
		time.Sleep(time.Millisecond)
	}
}
