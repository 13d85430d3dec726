package relay

import (
	"errors"
	"net"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// closeWait bounds the goodbye: the close frame written when a
// websocket closes, and a write in progress when Close interrupts it.
const closeWait = 500 * time.Millisecond

// maxControl is how many pongs may wait for the writer; more are dropped
// (a pong answers the latest ping as well as any). gorilla's close frame
// is always kept.
const maxControl = 4

// connWriter owns everything written to one connection: the send queue
// (bounded in packets and bytes, dropping the oldest), the websocket's
// frames, the tail of a direct write the kernel took only part of, the
// direct write itself, control frames (pongs, gorilla's close frame), and
// the goodbye.
//
// Who writes: while long-polling, the pending GET takes the queue
// (pollBatch). Once a websocket is attached, a sender finding the
// connection idle (no writer goroutine, no claim, nothing queued, no
// tail) writes its packet at once with one non-blocking write under mu
// (direct.go); a relayed event's sender claims it instead, and writes
// the frame with the batch's others outside mu (direct_batch.go).
// Anything that cannot go that way (a full socket buffer, a tail, a
// pong, a ping, the goodbye) starts the writer goroutine (run), unless it
// runs already. The writer is the only one to block in a write, and it
// holds no lock while it does: it takes a batch under mu and writes it
// outside mu. It exits as soon as it finds nothing to write, so an idle
// connection has no writer goroutine and no write buffer. So frames never
// interleave, nothing overtakes what is queued, and no goroutine ever
// waits on mu for longer than a non-blocking system call.
//
// Lifetime: writers and claims are counted in writers, which the
// connection's owner (runWebsocket) waits on after close. Once close has
// run, the writer running then (close starts one if none does and no
// claim is out; else the claim's settle does) writes the goodbye and
// stops the connWriter: no writer starts after it.
type connWriter struct {
	srv    *Server
	fail   func(reason string) // closes the connection; called without locks
	notify chan struct{}       // capacity 1: "there is something to write", for a pending long-poll GET; nil on a socket born on a websocket

	mu          sync.Mutex // guards the fields below; never held across a blocking call
	q           sendQueue
	control     [][]byte       // framed control frames, written before data
	closeQueued bool           // gorilla's close frame is among control
	partial     []byte         // a direct write's unwritten tail, written before anything else
	conn        net.Conn       // the raw websocket connection once attached; nil while long-polling
	direct      *directConn    // non-blocking writes to conn; nil where the system has none
	running     bool           // a writer goroutine is alive: direct writes wait for it to finish
	claimed     bool           // a batch's direct write is in flight outside mu (direct_batch.go): no writer starts until it settles
	busy        bool           // the writer goroutine is writing a batch outside mu
	broken      bool           // a write failed, maybe mid-frame: nothing more may be written
	closed      bool           // close was called: the writer says goodbye and stops
	stopped     bool           // the goodbye is taken: no writer starts again
	stuck       bool           // reported stuck (counted once)
	writers     sync.WaitGroup // every writer goroutine and claim; Add under mu, before stopped
}

func newConnWriter(srv *Server, fail func(string)) *connWriter {
	return &connWriter{
		srv:  srv,
		fail: fail,
		q:    newSendQueue(srv.cfg.SendQueue, srv.cfg.SendQueueBytes, srv.cfg.Now()),
	}
}

func (w *connWriter) wake() {
	select {
	case w.notify <- struct{}{}:
	default:
	}
}

// kickLocked makes sure what is pending gets written: it starts the
// websocket's writer, or wakes a pending long-poll GET. The caller holds
// mu.
func (w *connWriter) kickLocked() {
	if w.conn == nil {
		w.wake()
		return
	}
	if w.running || w.stopped || w.claimed {
		return
	}
	w.running = true
	w.writers.Add(1)
	go w.run(w.conn)
}

// wait waits for every writer goroutine: after close, for the goodbye.
func (w *connWriter) wait() { w.writers.Wait() }

// send writes one encoded Engine.IO packet at once when the websocket is
// idle, or queues it; it never blocks. droppable marks relayed musical
// events, which overflow may drop (see sendQueue). A relayed event goes
// to its receivers in a batch instead (directBatch.relay).
func (w *connWriter) send(b []byte, droppable bool) {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return
	}
	if w.writeDirect(b) {
		if w.partial != nil {
			w.kickLocked()
		}
		w.mu.Unlock()
		return
	}
	w.pushUnlock(b, droppable, false)
}

// pushUnlock queues b (ahead of everything queued when front: a packet
// due before them), starts the writer, and unlocks mu, which the caller
// holds.
func (w *connWriter) pushUnlock(b []byte, droppable, front bool) {
	push := w.q.push
	if front {
		push = w.q.pushFront
	}
	dropped, stuck := push(b, droppable, w.srv.cfg.Now(), w.srv.cfg.WriteTimeout)
	stuck = stuck && !w.stuck
	w.stuck = w.stuck || stuck
	w.kickLocked()
	w.mu.Unlock()
	w.srv.stats.queued.Add(1)
	if dropped > 0 {
		w.srv.stats.dropped.Add(uint64(dropped))
	}
	if stuck {
		w.srv.stats.stuck.Add(1)
		// The caller may hold a room's lock, which closing takes: close
		// on a goroutine of the server's.
		w.srv.spawn(func() { w.fail("send queue stuck") })
	}
}

// pushPing marks a ping as due; it jumps ahead of queued data so a
// backlog never delays the heartbeat.
func (w *connWriter) pushPing() {
	w.mu.Lock()
	w.q.ping = true
	w.kickLocked()
	w.mu.Unlock()
}

// controlFrame queues a websocket control frame (a pong) for the writer.
func (w *connWriter) controlFrame(op byte, data []byte) {
	w.controlRaw(append(appendFrameHeader(nil, op, len(data)), data...))
}

// controlRaw queues frame, already framed, for the writer: a pong, or
// gorilla's close frame (see wsConn).
func (w *connWriter) controlRaw(frame []byte) {
	isClose := len(frame) > 0 && frame[0]&0x0F == opClose
	w.mu.Lock()
	switch {
	case w.closeQueued:
		// nothing may follow a close frame
	case isClose:
		w.closeQueued = true
		w.control = append(w.control, append([]byte(nil), frame...))
	case len(w.control) < maxControl:
		w.control = append(w.control, append([]byte(nil), frame...))
	}
	w.kickLocked()
	w.mu.Unlock()
}

// attach hands the connection over from long-polling to conn, the raw
// websocket connection, and starts the writer for what was queued
// meanwhile.
func (w *connWriter) attach(conn net.Conn) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.conn = conn
	w.direct = newDirectConn(conn)
	if w.pendingLocked() {
		w.kickLocked()
	}
}

// pendingLocked reports whether the writer has something to do. The
// caller holds mu.
func (w *connWriter) pendingLocked() bool {
	return w.closed || w.partial != nil || len(w.control) > 0 || w.q.ping || !w.q.empty()
}

// pollBatch takes every queued packet for a long-poll GET. upgraded
// means a websocket has taken over: the GET gets nothing.
func (w *connWriter) pollBatch(dst [][]byte) (_ [][]byte, since time.Time, upgraded bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.conn != nil {
		return dst, since, true
	}
	dst, since = w.q.drainBatch(dst, w.srv.cfg.Now())
	return dst, since, false
}

// close makes the writer say goodbye and stop. A write in progress gets
// closeWait more to finish: a client that does not read cannot hold the
// writer.
func (w *connWriter) close() {
	w.mu.Lock()
	w.closed = true
	if w.busy && w.conn != nil {
		_ = w.conn.SetWriteDeadline(time.Now().Add(closeWait))
	}
	w.kickLocked()
	w.mu.Unlock()
}

// droppedTotal returns how many packets overflow has dropped.
func (w *connWriter) droppedTotal() uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.q.dropped
}

// run is a writer goroutine, started by kickLocked: it writes batches (a
// tail, control frames, a due ping, then queued packets) with one writev
// each, and exits when it finds nothing to write. After close it writes a
// close frame and closes conn, which ends the reader too.
func (w *connWriter) run(conn net.Conn) {
	defer w.writers.Done()
	f := framesPool.Get().(*frames)
	defer putFrames(f)
	for {
		since, closing, idle := w.take(f, conn)
		switch {
		case idle:
			return
		case f.empty(): // closing a broken stream: no goodbye
			conn.Close()
			return
		}
		err := f.writeTo(conn)
		w.mu.Lock()
		w.busy = false
		w.broken = w.broken || err != nil
		interrupted := w.closed
		w.mu.Unlock()
		switch {
		case closing:
			conn.Close()
			return
		case err != nil && !interrupted: // else close cut it short: the goodbye is next
			w.writeFailed(err)
		default:
			w.srv.observeQueueWait(since)
		}
	}
}

// take moves what is due into f and sets the write deadline, under mu.
// closing reports that f is the goodbye (or nothing, on a broken
// stream); idle that there is nothing to write, and the writer has
// stopped running.
func (w *connWriter) take(f *frames, conn net.Conn) (since time.Time, closing, idle bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		w.stopped = true
	}
	if w.broken || !w.pendingLocked() {
		// broken: the stream may end mid-frame, nothing may follow
		w.running = w.closed
		return since, w.closed, !w.closed
	}
	if w.partial != nil {
		f.addRaw(w.partial)
		w.partial = nil
	}
	for i, c := range w.control {
		f.addRaw(c)
		w.control[i] = nil
	}
	w.control = w.control[:0]
	timeout := w.srv.cfg.WriteTimeout
	if w.closed {
		if !w.closeQueued {
			f.add(opClose, websocket.FormatCloseMessage(websocket.CloseGoingAway, ""))
		}
		timeout = closeWait // queued packets are dropped: the connection is going away
	} else {
		f.packets, since = w.q.drainBatch(f.packets[:0], w.srv.cfg.Now())
		for _, b := range f.packets {
			f.add(opText, b)
		}
	}
	if !f.empty() {
		w.busy = true
		_ = conn.SetWriteDeadline(time.Now().Add(timeout))
	}
	return since, w.closed, false
}

// writeFailed closes the connection after a failed write; a timeout means
// the peer stopped reading.
func (w *connWriter) writeFailed(err error) {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		w.mu.Lock()
		first := !w.stuck
		w.stuck = true
		w.mu.Unlock()
		if first {
			w.srv.stats.stuck.Add(1)
		}
	}
	w.fail("write failed: " + err.Error())
}
