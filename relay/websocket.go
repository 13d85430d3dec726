package relay

import (
	"bytes"
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/gorilla/websocket"
)

// closeWait bounds the close frame written on shutdown.
const closeWait = 500 * time.Millisecond

// serveWebsocket handles a websocket: a fresh Engine.IO session when sid
// is empty, or the upgrade of a long-polling one.
func (s *Server) serveWebsocket(w http.ResponseWriter, r *http.Request, sid string) {
	var sock *socket
	if sid != "" {
		if sock = s.lookup(sid); sock == nil {
			errSessionUnknown.write(w, http.StatusBadRequest)
			return
		}
	}
	if !websocket.IsWebSocketUpgrade(r) {
		errBadRequest.write(w, http.StatusBadRequest)
		return
	}
	if sid == "" && s.full() {
		http.Error(w, "relay full: too many connections", http.StatusServiceUnavailable)
		return
	}
	ws, err := s.upgrader.Upgrade(hijacker{w}, r, nil)
	if err != nil {
		return // the upgrader has answered
	}
	ws.SetReadLimit(s.cfg.MaxPayload)
	// The connection runs on its own goroutines, so net/http's
	// per-request state (buffers, the request) is freed now: an idle
	// member costs little.
	if !s.addConn() {
		ws.Close() // shutting down
		return
	}
	go func() {
		defer s.conns.Done()
		s.runWebsocket(ws, sock)
	}()
}

// runWebsocket is the life of one websocket: a fresh session (sock nil)
// or the upgrade of a long-polling one, then its reader until it ends.
func (s *Server) runWebsocket(ws *websocket.Conn, sock *socket) {
	if sock == nil {
		sock = newSocket(s)
		if !s.register(sock) {
			ws.Close()
			return
		}
		sock.send(s.openPacket(sock, ""), false)
		sock.attach(ws)
		sock.startHeartbeat()
	} else if !sock.probe(ws) {
		ws.Close()
		return
	}
	sock.readLoop(ws)
	sock.writer.Wait()
	ws.NetConn().Close()
}

// attach makes ws the socket's transport and starts its writer. It
// fails when the socket has closed meanwhile.
func (sock *socket) attach(ws *websocket.Conn) bool {
	sock.mu.Lock()
	defer sock.mu.Unlock()
	if sock.ws != nil || sock.isClosed() {
		return false
	}
	sock.ws = ws
	close(sock.upgraded)
	// gorilla would answer pings and close frames itself, writing
	// beside our writer: hand those to the writer instead.
	ws.SetPingHandler(func(data string) error {
		sock.sendControl(opPong, []byte(data))
		return nil
	})
	ws.SetCloseHandler(func(int, string) error { return nil }) // the reader's error closes the socket
	if c, ok := ws.NetConn().(*wsConn); ok {
		c.sock.Store(sock) // gorilla's own writes now take wmu
	}
	sock.direct.Store(newDirectConn(rawConn(ws)))
	sock.writer.Add(1)
	go sock.writeLoop(ws)
	return true
}

// probe runs the upgrade handshake on ws for a long-polling socket:
// 2probe, 3probe, then 5 (upgrade). A pending long-poll is answered with
// a noop so the client can pause polling.
func (sock *socket) probe(ws *websocket.Conn) bool {
	sock.mu.Lock()
	busy := sock.probing != nil || sock.ws != nil || sock.isClosed()
	if !busy {
		sock.probing = ws
	}
	sock.mu.Unlock()
	if busy {
		return false
	}
	defer func() {
		sock.mu.Lock()
		sock.probing = nil
		sock.mu.Unlock()
	}()
	ws.SetReadDeadline(time.Now().Add(sock.srv.cfg.PingTimeout))
	defer ws.SetReadDeadline(time.Time{})
	_, msg, err := ws.ReadMessage()
	if err != nil || string(msg) != "2probe" {
		return false
	}
	ws.SetWriteDeadline(time.Now().Add(sock.srv.cfg.WriteTimeout))
	if ws.WriteMessage(websocket.TextMessage, []byte("3probe")) != nil {
		return false
	}
	sock.send([]byte{eioNoop}, false)
	for {
		_, msg, err = ws.ReadMessage()
		if err != nil {
			return false
		}
		if len(msg) == 1 && msg[0] == eioUpgrade {
			break
		}
		if !bytes.Equal(msg, []byte("2probe")) { // anything else breaks the handshake
			return false
		}
	}
	return sock.attach(ws)
}

// readLoop is the one reader of ws. It returns when the connection fails
// or the client breaks the protocol, closing the socket.
func (sock *socket) readLoop(ws *websocket.Conn) {
	for {
		typ, msg, err := ws.ReadMessage()
		if err != nil {
			sock.close(readCloseReason(err))
			return
		}
		if typ == websocket.BinaryMessage {
			sock.refuseBinary()
			continue
		}
		if err := sock.handleEIO(msg); err != nil {
			if !errors.Is(err, errClientClose) {
				sock.log.Info("closing connection: bad packet", "err", err)
				sock.srv.stats.malformed.Add(1)
			}
			sock.close(err.Error())
			return
		}
	}
}

func readCloseReason(err error) string {
	if errors.Is(err, websocket.ErrReadLimit) {
		return "packet larger than max payload"
	}
	return "transport close"
}

// writeLoop is the one writer of ws: it drains the send queue (a due
// ping first) until the socket closes, then says goodbye with a close
// frame. It frames the packets itself and writes a whole batch with one
// writev, instead of one write per packet through gorilla: server frames
// are unmasked and simple, and each delivery costs a system call less.
// gorilla's handlers that would write (pong, close reply) are routed here
// by attach, so this goroutine is the only writer besides direct writes,
// which it excludes with wmu while it drains and writes.
func (sock *socket) writeLoop(ws *websocket.Conn) {
	defer sock.writer.Done()
	conn := rawConn(ws)
	var f frames
	for {
		var ctl *controlFrame
		select {
		case <-sock.q.notify:
		case c := <-sock.control:
			ctl = &c
		case <-sock.closed:
			sock.wmu.Lock()
			f.reset()
			sock.takePartial(&f)
			f.add(opClose, websocket.FormatCloseMessage(websocket.CloseGoingAway, ""))
			_ = conn.SetWriteDeadline(time.Now().Add(closeWait))
			_ = f.writeTo(conn)
			sock.wmu.Unlock()
			return
		}
		sock.wmu.Lock() // a direct write finishes first; its tail goes first
		sock.takePartial(&f)
		if ctl != nil {
			f.add(ctl.op, ctl.data)
		}
		var since time.Time
		f.packets, since = sock.q.drainBatch(f.packets[:0], sock.srv.cfg.Now())
		for _, b := range f.packets {
			f.add(opText, b)
		}
		if f.empty() {
			sock.wmu.Unlock()
			continue
		}
		_ = conn.SetWriteDeadline(time.Now().Add(sock.srv.cfg.WriteTimeout))
		err := f.writeTo(conn)
		if err != nil {
			sock.direct.Store(nil) // the stream may end mid-frame: nothing may follow
		}
		sock.wmu.Unlock()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() && sock.stuckOnce.CompareAndSwap(false, true) {
				sock.srv.stats.stuck.Add(1) // the peer stopped reading
			}
			sock.close("write failed: " + err.Error())
			return
		}
		sock.srv.observeQueueWait(since)
	}
}
