package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"testing"
	"time"
)

// Jitter proxy limits.
const (
	// maxProxyFrame bounds one WebSocket frame the proxy buffers: the
	// relay's frames are a few hundred bytes.
	maxProxyFrame = 1 << 20
	// proxyQueue is how many frames a connection may hold back. When
	// full the reader stops reading, as a congested link would: the
	// relay's own send queue then decides what to drop.
	proxyQueue = 4096
)

// jitterProxy is a TCP proxy in front of a relay that delays every
// WebSocket frame from the relay by a random 0 to max, keeping their
// order: a frame leaves at max(previous frame's release, arrival +
// delay). The HTTP upgrade response goes through at once; what the
// client sends goes through untouched. Delays come from a PCG seeded
// with seed and the connection's number, so a run repeats.
//
// Concurrency: the accept loop and every pump are owned by the proxy;
// Close stops them and waits.
type jitterProxy struct {
	ln     net.Listener
	target string
	max    time.Duration
	seed   uint64
	wg     sync.WaitGroup // the accept loop and each connection's serve

	mu     sync.Mutex // guards the fields below
	conns  map[net.Conn]struct{}
	n      uint64 // connections accepted
	closed bool
}

// startJitterProxy listens on a loopback port and forwards to target;
// the proxy closes when the test ends.
func startJitterProxy(tb testing.TB, target string, max time.Duration, seed uint64) *jitterProxy {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	p := &jitterProxy{ln: ln, target: target, max: max, seed: seed, conns: make(map[net.Conn]struct{})}
	p.wg.Add(1)
	go p.accept()
	tb.Cleanup(p.Close)
	return p
}

// relay is the proxy as a relay to point startJam at.
func (p *jitterProxy) relay() *testRelay { return &testRelay{addr: p.ln.Addr().String()} }

// Close stops accepting, closes every connection and waits for every
// goroutine.
func (p *jitterProxy) Close() {
	p.mu.Lock()
	p.closed = true
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.ln.Close()
	p.wg.Wait()
}

func (p *jitterProxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		n := p.n
		p.n++
		p.mu.Unlock()
		p.wg.Add(1)
		go p.serve(c, n)
	}
}

// track registers conns so Close can end them; false once closed.
func (p *jitterProxy) track(conns ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	for _, c := range conns {
		p.conns[c] = struct{}{}
	}
	return true
}

func (p *jitterProxy) untrack(conns ...net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range conns {
		c.Close()
		delete(p.conns, c)
	}
}

// delayedFrame is bytes from the relay and when they may leave.
type delayedFrame struct {
	at time.Time
	b  []byte
}

// serve pumps one connection: client to relay as is (its own
// goroutine), relay to client frame by frame through a queue (read here,
// released by a second goroutine). Whichever side ends closes both.
func (p *jitterProxy) serve(client net.Conn, n uint64) {
	defer p.wg.Done()
	server, err := net.DialTimeout("tcp", p.target, wait)
	if err != nil {
		client.Close()
		return
	}
	if !p.track(client, server) {
		client.Close()
		server.Close()
		return
	}
	defer p.untrack(client, server)
	closeBoth := func() { client.Close(); server.Close() }
	queue := make(chan delayedFrame, proxyQueue)
	var pumps sync.WaitGroup
	pumps.Add(2)
	go func() { defer pumps.Done(); io.Copy(server, client); closeBoth() }()
	go func() { defer pumps.Done(); release(client, queue, closeBoth) }()
	rng := rand.New(rand.NewPCG(p.seed, n))
	p.delay(bufio.NewReader(server), queue, rng)
	close(queue)
	closeBoth()
	pumps.Wait()
}

// delay reads the relay's upgrade response and then its frames, and
// queues each with its release time, until the relay side ends.
func (p *jitterProxy) delay(r *bufio.Reader, queue chan<- delayedFrame, rng *rand.Rand) {
	head, err := readHTTPHead(r)
	if err != nil {
		return
	}
	queue <- delayedFrame{at: time.Now(), b: head}
	if !bytes.Contains(head[:bytes.IndexByte(head, '\n')+1], []byte(" 101 ")) {
		// Not an upgrade: no frames follow, pass the rest through.
		for {
			buf := make([]byte, 32<<10)
			n, err := r.Read(buf)
			if n > 0 {
				queue <- delayedFrame{at: time.Now(), b: buf[:n]}
			}
			if err != nil {
				return
			}
		}
	}
	var last time.Time
	for {
		frame, err := readFrame(r)
		if err != nil {
			return
		}
		at := time.Now().Add(time.Duration(rng.Int64N(int64(p.max) + 1)))
		if at.Before(last) {
			at = last // keep the order
		}
		last = at
		queue <- delayedFrame{at: at, b: frame}
	}
}

// release writes each queued frame to the client at its time. After a
// write fails it keeps draining, so the reader never blocks on it.
func release(client net.Conn, queue <-chan delayedFrame, closeBoth func()) {
	var err error
	for f := range queue {
		if err != nil {
			continue
		}
		time.Sleep(time.Until(f.at))
		if _, err = client.Write(f.b); err != nil {
			closeBoth()
		}
	}
}

// readHTTPHead reads an HTTP response's status line and headers, up to
// and including the blank line.
func readHTTPHead(r *bufio.Reader) ([]byte, error) {
	var head []byte
	for {
		line, err := r.ReadSlice('\n')
		if err != nil {
			return nil, err
		}
		head = append(head, line...)
		if len(head) > maxProxyFrame {
			return nil, errors.New("http head too long")
		}
		if string(line) == "\r\n" || string(line) == "\n" {
			return head, nil
		}
	}
}

// readFrame reads one whole WebSocket frame (RFC 6455 section 5.2),
// header included: 2 bytes, an extended length of 2 or 8, a masking key
// of 4 when the mask bit is set (never, from a server), then the payload.
func readFrame(r *bufio.Reader) ([]byte, error) {
	hdr := make([]byte, 2, 14)
	if _, err := io.ReadFull(r, hdr); err != nil {
		return nil, err
	}
	ext := 0
	switch hdr[1] & 0x7f {
	case 126:
		ext = 2
	case 127:
		ext = 8
	}
	if hdr[1]&0x80 != 0 {
		ext += 4
	}
	hdr = hdr[:2+ext]
	if _, err := io.ReadFull(r, hdr[2:]); err != nil {
		return nil, err
	}
	var n uint64
	switch hdr[1] & 0x7f {
	case 126:
		n = uint64(binary.BigEndian.Uint16(hdr[2:4]))
	case 127:
		n = binary.BigEndian.Uint64(hdr[2:10])
	default:
		n = uint64(hdr[1] & 0x7f)
	}
	if n > maxProxyFrame {
		return nil, fmt.Errorf("websocket frame of %d bytes", n)
	}
	frame := make([]byte, len(hdr)+int(n))
	copy(frame, hdr)
	if _, err := io.ReadFull(r, frame[len(hdr):]); err != nil {
		return nil, err
	}
	return frame, nil
}

// The proxy splits a stream into whole frames whatever their length
// encoding, several frames to a read.
func TestJitterProxyReadsWholeFrames(t *testing.T) {
	frame := func(n int, masked bool) []byte {
		b := []byte{0x81, 0}
		switch {
		case n < 126:
			b[1] = byte(n)
		case n <= 0xffff:
			b[1] = 126
			b = binary.BigEndian.AppendUint16(b, uint16(n))
		default:
			b[1] = 127
			b = binary.BigEndian.AppendUint64(b, uint64(n))
		}
		if masked {
			b[1] |= 0x80
			b = append(b, 1, 2, 3, 4)
		}
		return append(b, bytes.Repeat([]byte{'x'}, n)...)
	}
	want := [][]byte{frame(0, false), frame(5, false), frame(125, false), frame(126, false),
		frame(70_000, false), frame(5, true)}
	r := bufio.NewReader(bytes.NewReader(bytes.Join(want, nil)))
	for i, w := range want {
		got, err := readFrame(r)
		if err != nil || !bytes.Equal(got, w) {
			t.Fatalf("frame %d: got %d bytes, %v; want %d bytes", i, len(got), err, len(w))
		}
	}
	if _, err := readFrame(r); err != io.EOF {
		t.Errorf("after the last frame: %v, want EOF", err)
	}
	huge := bufio.NewReader(bytes.NewReader(frame(maxProxyFrame+1, false)))
	if _, err := readFrame(huge); err == nil {
		t.Error("a frame over maxProxyFrame was accepted")
	}
}
