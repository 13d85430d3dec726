package relay

import (
	"bufio"
	"io"
	"net"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/jambridge/jambridge/internal/tcppair"
)

// tcpPair returns the two ends of a loopback TCP connection.
func tcpPair(t *testing.T) (server, client net.Conn) {
	client, server = tcppair.New(t)
	return server, client
}

// newTestWriter returns a connWriter of a fresh server whose failures
// are reported on the returned channel.
func newTestWriter(t *testing.T, cfg Config) (*Server, *connWriter, chan string) {
	t.Helper()
	srv, err := NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	failed := make(chan string, 4)
	return srv, newConnWriter(srv, func(reason string) { failed <- reason }), failed
}

// runWriter attaches conn to w, which starts writers as needed, and
// closes w and waits for its writers when the test ends.
func runWriter(t *testing.T, w *connWriter, conn net.Conn) {
	w.attach(conn)
	t.Cleanup(func() { w.close(); w.wait() })
}

// queuedStrings returns the packets queued in w, leaving them there.
func queuedStrings(w *connWriter) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for i := range w.q.n {
		out = append(out, string(w.q.items[(w.q.head+i)%len(w.q.items)].data))
	}
	return out
}

// readN reads exactly n bytes from c.
func readN(t *testing.T, c net.Conn, n int) string {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	got := make([]byte, n)
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatalf("read %q: %v", got, err)
	}
	return string(got)
}

// A packet is written directly only when nothing is queued before it:
// once one packet had to queue (a writer running), the next ones queue
// behind it, even once that writer has exited, and the writer started
// for them writes them after the first, in order.
func TestDirectWriteNeverOvertakesTheQueue(t *testing.T) {
	srv, w, _ := newTestWriter(t, Config{})
	server, client := tcpPair(t)
	runWriter(t, w, server)

	w.send([]byte("4first"), true) // idle: written at once
	w.mu.Lock()
	w.running = true // a writer is running
	w.mu.Unlock()
	w.send([]byte("4second"), true)
	if got := queuedStrings(w); len(got) != 1 || got[0] != "4second" {
		t.Fatalf("queued %q, want 4second", got)
	}
	w.mu.Lock()
	w.running = false // and has exited, without draining "second"
	w.mu.Unlock()
	w.send([]byte("4third"), true) // queued behind it, and starts a writer

	var want string
	for _, p := range []string{"4first", "4second", "4third"} {
		want += string(appendFrameHeader(nil, opText, len(p))) + p
	}
	if got := readN(t, client, len(want)); got != want {
		t.Errorf("on the wire %q, want %q", got, want)
	}
	if st := srv.Stats(); st.DirectWrites != 1 {
		t.Errorf("direct writes %d, want 1", st.DirectWrites)
	}
}

// The writer sends a cut-short direct write's tail before anything else,
// a pong included: nothing may land inside a frame.
func TestWriterSendsThePartialTailBeforeAPong(t *testing.T) {
	_, w, _ := newTestWriter(t, Config{})
	server, client := tcpPair(t)
	w.partial = []byte("cd") // the tail of a frame the kernel took "ab" of
	w.controlFrame(opPong, []byte("P"))
	runWriter(t, w, server)
	if got, want := readN(t, client, 5), "cd\x8a\x01P"; got != want {
		t.Errorf("on the wire %q, want the tail then the pong %q", got, want)
	}
}

// gorilla's own writes after the takeover (a close frame on a protocol
// error) go through the writer, after a cut-short direct write's tail,
// and the writer adds no close frame of its own after it.
func TestGorillaWritesGoThroughTheWriter(t *testing.T) {
	_, w, _ := newTestWriter(t, Config{})
	server, client := tcpPair(t)
	c := &wsConn{Conn: server}
	if _, err := c.Write([]byte("hs")); err != nil { // the handshake: straight through
		t.Fatal(err)
	}
	c.w.Store(w)
	w.partial = []byte("cd")
	if _, err := c.Write([]byte("\x88\x00")); err != nil { // a close frame
		t.Fatal(err)
	}
	if err := c.SetWriteDeadline(time.Now()); err != nil { // gorilla's deadline: ignored
		t.Fatal(err)
	}
	w.attach(server) // starts a writer for what is pending
	want := "hscd\x88\x00"
	if got := readN(t, client, len(want)); got != want {
		t.Errorf("on the wire %q, want %q", got, want)
	}
	w.close()
	w.wait()
	client.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := client.Read(make([]byte, 16)); err != io.EOF {
		t.Errorf("after gorilla's close frame: %d more bytes, %v; want the end of the stream", n, err)
	}
}

// The writer holds no lock while it blocks in a write: with a peer that
// does not read and the writer stuck in a write, senders still get the
// writer's mutex at once and queue, and close interrupts the stuck write
// within closeWait.
func TestWriterBlocksWithoutHoldingItsLock(t *testing.T) {
	srv, w, failed := newTestWriter(t, Config{WriteTimeout: time.Hour})
	server, _ := tcpPair(t) // the client end never reads
	w.attach(server)

	big := make([]byte, 8<<20) // more than the socket buffers hold
	w.send(big, true)          // a direct write the kernel takes part of; the writer blocks on the rest
	deadline := time.Now().Add(5 * time.Second)
	for {
		w.mu.Lock() // taken while the writer is blocked: it holds no lock across the write
		busy := w.busy
		w.mu.Unlock()
		if busy {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the writer never started writing the tail")
		}
		time.Sleep(time.Millisecond)
	}
	w.send([]byte("4next"), true) // returns: queued behind the stuck write
	if got := queuedStrings(w); len(got) != 1 || got[0] != "4next" {
		t.Errorf("queued %q, want 4next", got)
	}
	if srv.Stats().DirectWrites != 1 || PartialWrites(srv) != 1 {
		t.Errorf("stats %+v, partial %d: want one direct write, cut short", srv.Stats(), PartialWrites(srv))
	}
	w.close()
	w.wait() // within closeWait: Close does not wait for a client that does not read
	select {
	case <-failed:
		t.Error("an interrupted write was reported as a failure of the connection")
	default:
	}
	if st := srv.Stats(); st.Stuck != 0 {
		t.Errorf("stuck %d: an interrupted write is not a stuck client", st.Stuck)
	}
}

// awaitInput waits for input and buffers it without consuming it: the
// reader's next read gets every byte, and an end of stream met while
// waiting is still reported to that read.
func TestAwaitInputBuffersWithoutConsuming(t *testing.T) {
	server, client := tcpPair(t)
	wc := &wsConn{Conn: server}
	wc.br = bufio.NewReaderSize(wc, readBufferSize)
	if _, err := client.Write([]byte("\x81\x03abc")); err != nil {
		t.Fatal(err)
	}
	wc.awaitInput()
	if n := wc.br.Buffered(); n != 5 {
		t.Fatalf("buffered %d bytes after awaitInput, want the 5 sent", n)
	}
	wc.awaitInput() // input is buffered already: returns at once, reads nothing more
	got := make([]byte, 5)
	if _, err := io.ReadFull(wc.br, got); err != nil || string(got) != "\x81\x03abc" {
		t.Fatalf("read %q, %v; want the frame", got, err)
	}
	client.Close()
	wc.awaitInput()
	if n, err := wc.br.Read(got); err != io.EOF {
		t.Errorf("after the peer closed: %d bytes, %v; want io.EOF", n, err)
	}
}

// An idle connection has no writer goroutine: a direct write starts
// none, a pong starts one that exits once it has written it, and close
// starts the one that says goodbye (a close frame, then the end of the
// stream), after which none starts again.
func TestWriterRunsOnlyWhileThereIsSomethingToWrite(t *testing.T) {
	_, w, _ := newTestWriter(t, Config{})
	server, client := tcpPair(t)
	w.attach(server)
	running := func() bool {
		w.mu.Lock()
		defer w.mu.Unlock()
		return w.running
	}

	w.send([]byte("4a"), true)
	if running() {
		t.Fatal("a direct write started a writer")
	}
	w.controlFrame(opPong, []byte("P"))
	want := "\x81\x024a\x8a\x01P"
	if got := readN(t, client, len(want)); got != want {
		t.Fatalf("on the wire %q, want %q", got, want)
	}
	w.wait() // the writer exits once drained
	if running() {
		t.Fatal("the writer still runs with nothing to write")
	}

	w.close()
	w.wait()
	closeFrame := string(appendFrameHeader(nil, opClose, 2)) + "\x03\xe9" // 1001 going away
	if got := readN(t, client, len(closeFrame)); got != closeFrame {
		t.Errorf("goodbye %q, want the close frame %q", got, closeFrame)
	}
	if n, err := client.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("after the goodbye: %d bytes, %v; want the end of the stream", n, err)
	}
	w.controlFrame(opPong, []byte("late"))
	w.send([]byte("4late"), true)
	w.wait()
	w.mu.Lock()
	stopped, pending := w.stopped, len(w.control)
	w.mu.Unlock()
	if !stopped || pending != 1 { // a writer would have taken the pong
		t.Errorf("stopped %v, %d control frames pending: want stopped, the late pong never taken", stopped, pending)
	}
}

// Direct writes reach the queue-wait histogram at collection, each a
// wait of 0 s in every bucket, beside the batches the writers observed.
func TestQueueWaitCountsDirectWrites(t *testing.T) {
	srv, w, _ := newTestWriter(t, Config{})
	server, client := tcpPair(t)
	runWriter(t, w, server)
	const direct = 3
	for range direct {
		w.send([]byte("4x"), true)
	}
	readN(t, client, direct*4) // three frames of 2+2 bytes
	if got := srv.stats.direct.Load(); got != direct {
		t.Fatalf("direct writes = %d, want %d", got, direct)
	}
	srv.queueWait.Observe(0.2) // one batch from a writer, 200 ms
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(srv.Collector())
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var h *dto.Histogram
	for _, mf := range mfs {
		if mf.GetName() == "jamrelay_send_queue_wait_seconds" {
			h = mf.GetMetric()[0].GetHistogram()
		}
	}
	if h == nil {
		t.Fatal("no jamrelay_send_queue_wait_seconds")
	}
	if h.GetSampleCount() != direct+1 || h.GetSampleSum() != 0.2 {
		t.Fatalf("count %d sum %v, want %d and 0.2", h.GetSampleCount(), h.GetSampleSum(), direct+1)
	}
	for _, b := range h.GetBucket() {
		want := uint64(direct)
		if b.GetUpperBound() >= 0.2 {
			want++
		}
		if b.GetCumulativeCount() != want {
			t.Errorf("bucket le=%v: %d, want %d", b.GetUpperBound(), b.GetCumulativeCount(), want)
		}
	}
}
