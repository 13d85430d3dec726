//go:build unix

package relay

import (
	"bufio"
	"errors"
	"io"
	"os"
	"sync"
	"syscall"

	"github.com/jambridge/jambridge/internal/rawsys"
)

// Serving reads. A websocket's reader (readLoop) spends its life inside
// one RawConn.Read call, whose callback (serveFd) reads the socket into
// the connection's read buffer with one non-blocking system call and
// hands every complete data message buffered to the read loop's body
// (gorilla's NextReader, readMessage, handleEIO). gorilla then never
// reads past the buffer: it never blocks and never sees a would-block
// error (it keeps any read error for ever).
//
// Why one call: the reader enters the poller once per connection, and
// a parked reader holds no read buffer (park).
//
// When it parks: a peer's FIN or reset that comes with its last data is
// consumed by the read that returns the data, the end of the stream
// shows only on the next read, and Go's edge-triggered poller reports
// no new edge for it (TestServingNoticesTheEndBehindTheData). So the
// reader parks only once the socket has said it holds nothing more:
// where the kernel takes TCP_INQ (Linux), each read is a recvmsg(2)
// whose answer says how much is left after it, and at least 1 once the
// peer's FIN has come, so a read that leaves nothing is the last one;
// elsewhere the reader reads on until the socket says EAGAIN, which
// costs one more read per wake-up. A reset is not in TCP_INQ's answer:
// one that comes with the last data is noticed by the next write to the
// member (its next delivery or ping), which fails, or by its ping
// timeout, whichever comes first: within about 25 s with the defaults.
//
// Anything else leaves the call for one turn of the blocking path
// (awaitInput aside, the loop as it was): a frame not complete in the
// buffer after a read that filled it, a message bigger than the buffer,
// a ping or pong with no complete data message after it (its answer must
// not wait for one), a close frame, a frame gorilla must judge, the end
// of the stream, an error.
//
// Closing: internal/poll's FD.Close waits until every reference to the
// descriptor is dropped, and RawConn.Read holds one while its callback
// runs. So nothing may close the connection from inside the callback,
// and nothing does: the read loop's body only ever closes the socket
// (socket.close), whose writer goroutine writes the goodbye and closes
// the connection; that Close waits until the callback returns, which it
// does after serveMax messages at most, or at once when a handler ended
// the connection. The read loop's owner (runWebsocket) waits for the
// writer only after the loop has returned. A read from gorilla inside
// the callback would be a scanner bug: it fails the connection
// (errReadWhileServing) instead of waiting for ever.

// serveMax bounds the messages one callback handles before it lets go
// of the descriptor (and comes back at once): a flooding client cannot
// hold a Close of its connection for longer.
const serveMax = 32

// serveExit is why serveFd left the RawConn.Read call.
type serveExit uint8

const (
	serveSlow  serveExit = iota // the buffer needs a turn of the blocking path
	serveAgain                  // serveMax messages handled: enter again
	serveDone                   // the handler ended the connection
)

// errAgain is a serving read that found nothing: serveFd parks on it.
var errAgain = errors.New("relay: websocket read would block")

// A parked reader holds no read buffer: serveFd parks with an empty one
// and gives it back (dropBuffer), and takes one again when it wakes
// (takeBuffer). gorilla keeps its *bufio.Reader for the connection's
// life, so the buffer moves by copying the Reader's value between it
// and a carrier Reader from readerPool (both shallow: the buffer, the
// positions, the source). A busy connection keeps the carrier it got
// last (spare), so moving the buffer allocates nothing; a parked one
// holds neither.

// readerPool holds carriers: Readers with a buffer of readBufferSize
// and no source. Its size is the Go runtime's (sync.Pool).
var readerPool = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, readBufferSize) }}

// takeBuffer gives the read buffer a buffer, if it has none.
func (c *wsConn) takeBuffer() {
	if c.br.Size() != 0 {
		return
	}
	car := readerPool.Get().(*bufio.Reader)
	*c.br, *car = *car, bufio.Reader{}
	c.br.Reset(c)
	c.spare = car
}

// dropBuffer gives the read buffer's buffer back while it holds nothing.
func (c *wsConn) dropBuffer() {
	if c.br.Size() == 0 || c.br.Buffered() != 0 {
		return
	}
	car := c.spare
	if car == nil {
		car = new(bufio.Reader)
	}
	c.spare = nil
	*car, *c.br = *c.br, bufio.Reader{}
	car.Reset(nil) // the carrier keeps no reference to this connection
	readerPool.Put(car)
}

// errReadWhileServing is gorilla reading past the buffer inside the
// serving callback: a bug of scanMessage, fatal to the connection.
var errReadWhileServing = errors.New("relay: websocket read past the buffered message while serving")

// serve runs the connection's reader inside RawConn.Read, handing each
// complete buffered message to handle (false: the connection is over).
// It returns false when handle did, true when the caller must run one
// turn of its blocking path.
func (c *wsConn) serve(handle func() bool, text func([]byte) bool) bool {
	c.handle, c.text = handle, text
	if c.serveFn == nil {
		c.serveFn = c.serveFd
	}
	for {
		c.exit = serveSlow
		c.serving = true
		err := c.rr.rc.Read(c.serveFn)
		c.serving = false
		c.takeBuffer() // for the blocking path, or the next callback
		switch {
		case err != nil: // closed: the blocking path's read says so
			return true
		case c.exit == serveAgain:
			continue
		case c.exit == serveDone:
			return false
		}
		return true
	}
}

// serveFd is the RawConn.Read callback: true leaves the call (c.exit
// says why), false parks until the socket has input.
func (c *wsConn) serveFd(fd uintptr) bool {
	c.takeBuffer()
	c.drained = false // woken: read at least once
	handled := 0
	for {
		res := scanMessage(c.buffered())
		for res.state == scanComplete {
			if handled == serveMax {
				c.exit = serveAgain
				return true
			}
			handled++
			if !c.handleMessage(res) {
				c.exit = serveDone
				return true
			}
			res = scanMessage(c.buffered())
		}
		if res.state == scanOther || res.control || res.need > readBufferSize {
			return true // serveSlow
		}
		// Read until the socket says it holds nothing more, even after
		// a read that did not fill the buffer: the peer's FIN can come
		// with its last data (see the top of this file).
		if c.drained {
			return c.park()
		}
		switch err := c.fill(fd); {
		case err == errAgain:
			return c.park()
		case err != nil: // kept in readErr: the blocking path reads it
			return true
		}
	}
}

// handleMessage hands the complete message at the start of the read
// buffer to its handler. A message of one text frame within the read
// limit, the musical event's case, is unmasked where it lies and handed
// over as it is, then dropped from the buffer: gorilla, which stands at
// a frame's start between messages, never sees it, so no message reader
// is made and nothing copied. Anything else is gorilla's to read
// (handle): fragments, pings and pongs before it, a binary message, one
// over the limit (gorilla fails it).
func (c *wsConn) handleMessage(res scanResult) bool {
	if !res.text || c.text == nil || int64(res.n-res.hdr) > c.limit {
		return c.handle()
	}
	b := c.buffered()[:res.n:res.n] // no spare capacity: an append by the handler must not write over the next message
	unmask(b[res.hdr:], [4]byte(b[res.hdr-4:res.hdr]))
	ok := c.text(b[res.hdr:])
	_, _ = c.br.Discard(res.n)
	return ok
}

// park gives the read buffer's buffer back if it holds nothing, and
// returns false: the callback's answer to wait for input.
func (c *wsConn) park() bool {
	c.dropBuffer()
	if c.parked != nil {
		c.parked()
	}
	return false
}

// buffered returns what the read buffer holds, without consuming it.
func (c *wsConn) buffered() []byte {
	b, _ := c.br.Peek(c.br.Buffered())
	return b
}

// fill reads into the read buffer's free space with one system call.
func (c *wsConn) fill(fd uintptr) error {
	before := c.br.Buffered()
	c.fd, c.filling = fd, true
	_, err := c.br.Peek(before + 1) // one Read: bufio fills once for one byte more
	c.filling = false
	if c.br.Buffered() > before {
		return nil
	}
	return err
}

// serveRead is Read inside the serving callback: fill's one system
// call. The end of the stream and errors are kept in readErr.
func (c *wsConn) serveRead(b []byte) (int, error) {
	if !c.filling {
		c.readErr = errReadWhileServing
		return 0, c.readErr
	}
	for {
		n, more, errno := c.read(b)
		switch {
		case errno == syscall.EINTR:
			continue
		case errno == syscall.EAGAIN:
			return 0, errAgain
		case errno != 0:
			c.readErr = os.NewSyscallError("read", errno)
			return 0, c.readErr
		case n == 0:
			c.readErr = io.EOF
			return 0, io.EOF
		}
		c.drained = !more
		return n, nil
	}
}

// read makes serveRead's system call: with TCP_INQ, a recvmsg(2) that
// says whether the socket holds more (more is true where it cannot say).
func (c *wsConn) read(b []byte) (n int, more bool, errno syscall.Errno) {
	if c.rr.inq {
		return rawsys.ReadInq(c.fd, b)
	}
	n, errno = rawsys.Read(c.fd, b)
	return n, true, errno
}
