package relay

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// wsConn is the connection gorilla/websocket is given. gorilla writes on
// its own in two places: the handshake (and an upgrade's 3probe), before
// the socket takes the connection over, and a close frame from inside
// ReadMessage when a client breaks the protocol or sends more than the
// read limit. Before the takeover writes pass straight through. After it,
// gorilla's writes are handed to the connection's connWriter, which
// writes them in turn (after a cut-short direct write's tail, never
// inside a frame), and its write deadlines are ignored: the writer owns
// the deadline. The writer itself writes to the raw connection
// underneath.
type wsConn struct {
	net.Conn
	w  atomic.Pointer[connWriter] // set once, at the takeover
	br *bufio.Reader              // gorilla's read buffer, read only by the connection's reader
	rr *rawReader                 // reads without the scheduler's system call bookkeeping; nil: Conn.Read

	// The serving reader's state (serve_unix.go), the reader's own.
	serving bool               // inside the serving callback
	filling bool               // inside its one read
	drained bool               // that read said the socket holds nothing more: park without another
	fd      uintptr            // the descriptor, while filling
	exit    serveExit          // why the callback returned
	readErr error              // the end of the stream or a read error found while serving: every later Read returns it
	handle  func() bool        // the read loop's body
	text    func([]byte) bool  // the handler of one text message, unmasked in the read buffer (handleMessage)
	limit   int64              // the read limit gorilla has: a bigger message is gorilla's to fail
	serveFn func(uintptr) bool // serveFd, made once
	spare   *bufio.Reader      // an empty carrier of the read buffer's buffer (takeBuffer)
	parked  func()             // tests: called as the reader parks
}

// Read is the connection's one reader's, through br.
func (c *wsConn) Read(b []byte) (int, error) {
	switch {
	case c.readErr != nil:
		return 0, c.readErr
	case c.serving:
		return c.serveRead(b)
	case c.rr != nil:
		return c.rr.read(b)
	}
	return c.Conn.Read(b)
}

// canServe reports whether the reader can run inside RawConn.Read
// (serve): a raw descriptor and a read buffer of the wsConn's own.
func (c *wsConn) canServe() bool { return c != nil && c.rr != nil && c.br != nil }

// awaitInput blocks until the connection has input (or fails), reading
// it into the read buffer, from a shallow stack: an idle reader is parked
// a few frames deep instead of inside gorilla's frame parser, so the
// garbage collector can shrink its stack. Errors are left for gorilla's
// next read to find.
func (c *wsConn) awaitInput() {
	if c.br.Buffered() == 0 {
		_, _ = c.br.Peek(1)
	}
}

func (c *wsConn) Write(b []byte) (int, error) {
	if w := c.w.Load(); w != nil {
		w.controlRaw(b)
		return len(b), nil
	}
	return c.Conn.Write(b)
}

func (c *wsConn) SetWriteDeadline(t time.Time) error {
	if c.w.Load() != nil {
		return nil
	}
	return c.Conn.SetWriteDeadline(t)
}

func (c *wsConn) SetDeadline(t time.Time) error {
	if err := c.Conn.SetReadDeadline(t); err != nil {
		return err
	}
	return c.SetWriteDeadline(t)
}

// rawConn returns the connection under ws, which only the connection's
// writer (and direct writes) use.
func rawConn(ws *websocket.Conn) net.Conn {
	if c, ok := ws.NetConn().(*wsConn); ok {
		return c.Conn
	}
	return ws.NetConn()
}

// hijacker hands gorilla's Upgrade a wsConn instead of the raw hijacked
// connection, with a read buffer of readBufferSize of the wsConn's own
// instead of net/http's 4 KB one (gorilla takes it as it is).
type hijacker struct {
	http.ResponseWriter
}

func (h hijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, brw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	wc := &wsConn{Conn: c, rr: newRawReader(c)}
	if brw.Reader.Buffered() > 0 {
		return wc, brw, nil // gorilla refuses data before the handshake's end
	}
	wc.br = bufio.NewReaderSize(wc, readBufferSize)
	return wc, bufio.NewReadWriter(wc.br, brw.Writer), nil
}

// keptMessageBuffer is the largest inbound message buffer msgPool keeps;
// musical events are a few hundred bytes.
const keptMessageBuffer = 4096

// msgPool lends the websocket reader the buffer one inbound message is
// read into, for as long as it is handled: gorilla's ReadMessage
// allocated a fresh one for every message, most of the relay's garbage
// per event. An idle reader holds none. Its size is the Go runtime's.
var msgPool = sync.Pool{New: func() any { return new([]byte) }}

// readMessage reads all of r (one websocket message) into a buffer
// borrowed from msgPool, which the caller gives back with putMessage
// once nothing refers to the message any more.
func readMessage(r io.Reader) (*[]byte, error) {
	bp := msgPool.Get().(*[]byte)
	b := (*bp)[:0]
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)] // grow as append does
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			*bp = b
			return bp, nil
		}
		if err != nil {
			*bp = b
			putMessage(bp)
			return nil, err
		}
	}
}

// putMessage gives a message's buffer back, unless a rare big message
// grew it.
func putMessage(bp *[]byte) {
	if cap(*bp) <= keptMessageBuffer {
		*bp = (*bp)[:0]
		msgPool.Put(bp)
	}
}
