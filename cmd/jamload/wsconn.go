package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"syscall"
	"time"
)

// Receive buffer sizes: setupBuffer for every connection (ten thousand
// idle ones stay cheap), loadBuffer once a connection carries load, so
// one read takes every event that is waiting.
const (
	setupBuffer = 2048
	loadBuffer  = 16 << 10
)

// wsConn is a client websocket on a TCP connection, with the two read
// paths the generator needs: readMessage, blocking, for setup and idle
// connections; readLoop, for load, which reads the socket itself through
// syscall.RawConn: one recvmsg(2) per batch of waiting frames, no read
// that only finds the socket empty, and the kernel's stamp of when the
// relay's data reached the socket (rxTime).
//
// Concurrency: one reader and one writer at a time, as for any
// websocket. The reader owns buf, off and the fragment fields; the
// writer owns wbuf and mask.
type wsConn struct {
	nc net.Conn
	rc syscall.RawConn

	// buf holds received bytes; buf[off:] are not parsed yet. It grows
	// only while one frame does not fit, and parseFrame refuses frames
	// over maxMessage: bounded by maxMessage plus one read.
	buf    []byte
	off    int
	inFrag bool   // a fragmented message is being assembled in frag
	fragOp byte   // its opcode
	frag   []byte // its payload so far

	wbuf []byte // the frame being written
	mask uint64 // xorshift state for the masking keys
}

// errClosed is a close frame from the relay.
var errClosed = errors.New("websocket closed by the relay")

// dialWS opens a websocket to u (ws://host:port/path?query).
func dialWS(ctx context.Context, u string) (*wsConn, error) {
	pu, err := url.Parse(u)
	if err != nil || pu.Scheme != "ws" {
		return nil, fmt.Errorf("dial %s: want a ws:// url", u)
	}
	d := net.Dialer{Timeout: setupWait}
	nc, err := d.DialContext(ctx, "tcp", pu.Host)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", u, err)
	}
	c, err := newWSConn(nc)
	if err == nil {
		err = c.handshake(pu)
	}
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("dial %s: %w", u, err)
	}
	return c, nil
}

func newWSConn(nc net.Conn) (*wsConn, error) {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return nil, errors.New("not a socket")
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil, err
	}
	var seed [8]byte
	_, _ = rand.Read(seed[:])
	mask := uint64(seed[0]) | uint64(seed[1])<<8 | uint64(seed[2])<<16 | uint64(seed[3])<<24 |
		uint64(seed[4])<<32 | uint64(seed[5])<<40 | uint64(seed[6])<<48 | uint64(seed[7])<<56 | 1
	return &wsConn{nc: nc, rc: rc, buf: make([]byte, 0, setupBuffer), mask: mask}, nil
}

// handshake sends the upgrade request and reads the reply; bytes after
// it stay in buf as the first frames.
func (c *wsConn) handshake(u *url.URL) error {
	var k [16]byte
	_, _ = rand.Read(k[:])
	key := base64.StdEncoding.EncodeToString(k[:])
	_ = c.nc.SetDeadline(time.Now().Add(setupWait))
	defer c.nc.SetDeadline(time.Time{})
	req := "GET " + u.RequestURI() + " HTTP/1.1\r\nHost: " + u.Host +
		"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + key +
		"\r\nSec-WebSocket-Version: 13\r\n\r\n"
	if _, err := io.WriteString(c.nc, req); err != nil {
		return fmt.Errorf("send upgrade request: %w", err)
	}
	for {
		n, err := parseUpgrade(c.buf, key)
		if err != nil || n > 0 {
			c.off = n
			return err
		}
		if err := c.fill(); err != nil {
			return fmt.Errorf("read upgrade reply: %w", err)
		}
	}
}

// fill reads once from the connection into buf, blocking.
func (c *wsConn) fill() error {
	c.makeRoom()
	n, err := c.nc.Read(c.buf[len(c.buf):cap(c.buf)])
	c.buf = c.buf[:len(c.buf)+n]
	return err
}

// makeRoom moves the unparsed bytes to the front of buf and grows it
// when they fill it (a frame longer than the buffer): there is room for
// at least one more byte afterwards.
func (c *wsConn) makeRoom() {
	if c.off > 0 {
		c.buf = c.buf[:copy(c.buf, c.buf[c.off:])]
		c.off = 0
	}
	if len(c.buf) == cap(c.buf) {
		c.buf = append(c.buf, 0)[:len(c.buf)]
	}
}

// next returns the next whole message or control frame already in buf;
// ok is false when there is none yet. msg aliases buf (or frag) and is
// valid until the next call.
func (c *wsConn) next() (op byte, msg []byte, ok bool, err error) {
	for {
		f, n, err := parseFrame(c.buf[c.off:])
		if err != nil || n == 0 {
			return 0, nil, false, err
		}
		c.off += n
		switch {
		case f.op >= opClose:
			return f.op, f.payload, true, nil
		case (f.op == opContinuation) != c.inFrag:
			return 0, nil, false, fmt.Errorf("%w: opcode %#x inside a fragmented message: %v", errFrame, f.op, c.inFrag)
		case f.fin && !c.inFrag:
			return f.op, f.payload, true, nil
		case len(c.frag)+len(f.payload) > maxMessage:
			return 0, nil, false, fmt.Errorf("%w: a fragmented message of more than %d bytes", errFrame, maxMessage)
		}
		if !c.inFrag {
			c.inFrag, c.fragOp, c.frag = true, f.op, c.frag[:0]
		}
		c.frag = append(c.frag, f.payload...)
		if f.fin {
			c.inFrag = false
			return c.fragOp, c.frag, true, nil
		}
	}
}

// readMessage returns the next data message, blocking. It answers
// websocket pings itself, so the caller must be the only writer.
func (c *wsConn) readMessage() ([]byte, error) {
	for {
		op, msg, ok, err := c.next()
		switch {
		case err != nil:
			return nil, err
		case !ok:
			if err := c.fill(); err != nil {
				return nil, err
			}
		case op == opClose:
			return nil, errClosed
		case op == opPing:
			if err := c.writeFrame(opPong, msg); err != nil {
				return nil, err
			}
		case op == opText || op == opBinary:
			return msg, nil
		}
	}
}

// rxTime is when a read brought a message, in unix ns: read when the
// read returned, queued when the kernel queued the last segment the read
// took on the socket (on loopback usually inside the relay's send, else
// in the kernel's deferred work soon after), 0 where the kernel gave no
// stamp. member.record charges the relay up to queued: a message that
// came in an earlier segment of the same read is charged up to the last
// one, so a backlog at the reader still shows, never a message charged
// less than its own wait.
type rxTime struct{ read, queued int64 }

// readLoop hands every message and control frame to handle, with the
// time of the read that brought it (rxTime), until handle returns
// false, the connection fails or it is closed. It owns the reading side
// for good: it stays in one RawConn.Read, whose poller wake-ups are not
// reset between reads, so after a read that left the socket empty it
// waits for the next data without reading again first. The price: a FIN
// that came with the relay's last data is consumed by the read that
// returns the data, and the poller reports no new edge for it, so the
// end of a stream the relay closed may be seen only when the generator
// closes the connection itself (as it does at the end of every run). A
// relay that drops a member mid-run shows as that member's lost events,
// which is what the bench counts; the relay's own reader, which must
// notice a member leaving, reads on until EAGAIN.
//
// A message that spans reads is stamped by the read that completes it,
// and the kernel's stamp is that of the last segment the read took: a
// message is never stamped earlier than it arrived.
func (c *wsConn) readLoop(handle func(op byte, msg []byte, at rxTime) bool) error {
	if cap(c.buf) < loadBuffer {
		c.buf = append(make([]byte, 0, loadBuffer), c.buf[c.off:]...)
		c.off = 0
	}
	var rerr error
	if err := c.rc.Control(func(fd uintptr) { rerr = enableRxStamps(int(fd)) }); err != nil {
		return err
	}
	if rerr != nil {
		return fmt.Errorf("kernel receive stamps: %w", rerr)
	}
	if !c.dispatch(handle, rxTime{read: time.Now().UnixNano()}, &rerr) { // left over from setup
		return rerr
	}
	var oob rxStamps
	err := c.rc.Read(func(fd uintptr) bool {
		for {
			c.makeRoom()
			space := cap(c.buf) - len(c.buf)
			n, queued, err := readStamped(int(fd), c.buf[len(c.buf):cap(c.buf)], &oob)
			switch {
			case err == syscall.EINTR:
				continue
			case err == syscall.EAGAIN:
				return false // wait for the poller
			case err != nil:
				rerr = err
				return true
			case n == 0:
				rerr = io.EOF
				return true
			}
			c.buf = c.buf[:len(c.buf)+n]
			if !c.dispatch(handle, rxTime{read: time.Now().UnixNano(), queued: queued}, &rerr) {
				return true
			}
			if n < space {
				return false // the socket is empty: wait for the poller
			}
		}
	})
	if rerr != nil {
		return rerr
	}
	return err
}

// dispatch hands the whole messages in buf to handle; false means stop,
// with *err set unless handle asked for it.
func (c *wsConn) dispatch(handle func(op byte, msg []byte, at rxTime) bool, at rxTime, err *error) bool {
	for {
		op, msg, ok, perr := c.next()
		if perr != nil {
			*err = perr
			return false
		}
		if !ok {
			return true
		}
		if !handle(op, msg, at) {
			return false
		}
	}
}

// nextMask returns a fresh masking key (xorshift64).
func (c *wsConn) nextMask() uint32 {
	c.mask ^= c.mask << 13
	c.mask ^= c.mask >> 7
	c.mask ^= c.mask << 17
	return uint32(c.mask)
}

// writeFrame writes one frame, blocking.
func (c *wsConn) writeFrame(op byte, payload []byte) error {
	c.wbuf = appendFrame(c.wbuf[:0], op, payload, c.nextMask())
	_, err := c.nc.Write(c.wbuf)
	return err
}

// tryWrite writes as much of b as the socket takes now, without
// waiting: n < len(b) with a nil error means the socket buffer is full.
func (c *wsConn) tryWrite(b []byte) (n int, err error) {
	werr := c.rc.Write(func(fd uintptr) bool {
		for {
			n, err = syscall.Write(int(fd), b)
			if err != syscall.EINTR {
				break
			}
		}
		if err == syscall.EAGAIN {
			n, err = 0, nil
		}
		n = max(n, 0)
		return true
	})
	if err == nil {
		err = werr
	}
	return n, err
}

// close drops the connection without a close handshake.
func (c *wsConn) close() error { return c.nc.Close() }
