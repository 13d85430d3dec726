package relay

import (
	"bufio"
	"net"
	"net/http"
	"sync/atomic"

	"github.com/gorilla/websocket"
)

// wsConn is the connection gorilla/websocket is given. gorilla writes on
// its own in two places: the handshake (and an upgrade's 3probe), before
// the socket takes the connection over, and a close frame from inside
// ReadMessage when a client breaks the protocol or sends more than the
// read limit. Before the takeover writes pass straight through. After it,
// gorilla's writes take the socket's wmu like every other write: they go
// after a cut-short direct write's tail, never inside a frame, and a
// sender finding wmu taken queues its packet instead of waiting behind a
// client that does not read. The socket itself writes to the raw
// connection underneath.
type wsConn struct {
	net.Conn
	sock atomic.Pointer[socket] // set by attach
}

func (c *wsConn) Write(b []byte) (int, error) {
	s := c.sock.Load()
	if s == nil {
		return c.Conn.Write(b)
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.partial != nil {
		if _, err := c.Conn.Write(s.partial); err != nil {
			return 0, err
		}
		s.partial = nil
	}
	return c.Conn.Write(b)
}

// rawConn returns the connection under ws, which only the socket's
// writer and direct writes use.
func rawConn(ws *websocket.Conn) net.Conn {
	if c, ok := ws.NetConn().(*wsConn); ok {
		return c.Conn
	}
	return ws.NetConn()
}

// hijacker hands gorilla's Upgrade a wsConn instead of the raw hijacked
// connection.
type hijacker struct {
	http.ResponseWriter
}

func (h hijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, brw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	return &wsConn{Conn: c}, brw, nil
}
