package relay

import (
	"bytes"
	"errors"
	"net/http"
	"time"

	"github.com/gorilla/websocket"
)

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
	addr := s.clientAddress(r)
	if sid == "" && s.full() {
		s.refuse(addr, refuseFull)
		http.Error(w, "relay full: too many connections", http.StatusServiceUnavailable)
		return
	}
	ws, err := s.upgrader.Upgrade(hijacker{w}, r, nil)
	if err != nil {
		return // the upgrader has answered
	}
	ws.SetReadLimit(s.cfg.MaxPayload)
	if wc, ok := ws.NetConn().(*wsConn); ok {
		wc.limit = s.cfg.MaxPayload // the serving reader's own messages keep to it too
	}
	// The connection runs on its own goroutines, so net/http's
	// per-request state (buffers, the request) is freed now: an idle
	// member costs little.
	if !s.addConn() {
		ws.Close() // shutting down
		return
	}
	go func() {
		defer s.conns.Done()
		s.runWebsocket(ws, sock, addr)
	}()
}

// runWebsocket is the life of one websocket: a fresh session (sock nil)
// from addr, or the upgrade of a long-polling one, then its reader until
// it ends.
func (s *Server) runWebsocket(ws *websocket.Conn, sock *socket, addr string) {
	if sock == nil {
		sock = newWebsocketSocket(s)
		sock.addr = addr
		if why := s.register(sock); why != "" {
			s.refuseWebsocket(ws, addr, why)
			return
		}
		if !sock.attach(ws) {
			sock.close("server shutdown")
			ws.Close()
			return
		}
		// After the attach: the open packet is written at once, not
		// queued, and an idle member's queue never makes its ring.
		sock.send(s.openPacket(sock, ""), false)
		sock.startTimers()
	} else if !sock.probe(ws) {
		ws.Close()
		return
	}
	sock.readLoop(ws)
	sock.w.wait() // readLoop closed the socket: the goodbye's writer is the last
	ws.NetConn().Close()
}

// attach makes ws the socket's transport; writes go through sock.w,
// whose writer goroutines the socket's runWebsocket waits for. It fails
// when the socket has closed meanwhile (as Server.Close does to every
// socket).
func (sock *socket) attach(ws *websocket.Conn) bool {
	sock.mu.Lock()
	defer sock.mu.Unlock()
	if sock.ws != nil || sock.isClosed() {
		return false
	}
	// gorilla would answer pings and close frames itself, writing
	// beside our writer: hand those to the writer instead.
	ws.SetPingHandler(func(data string) error {
		if !sock.allowControl() {
			return errControlFlood // ReadMessage returns it: the reader closes
		}
		sock.w.controlFrame(opPong, []byte(data))
		return nil
	})
	ws.SetCloseHandler(func(int, string) error { return nil }) // the reader's error closes the socket
	conn := rawConn(ws)
	if c, ok := ws.NetConn().(*wsConn); ok {
		c.w.Store(sock.w) // gorilla's own writes now go through the writer
	}
	sock.w.attach(conn)
	sock.ws = ws
	if sock.upgraded != upgradedAlready {
		close(sock.upgraded)
	}
	return true
}

// probe runs the upgrade handshake on ws for a long-polling socket:
// 2probe, 3probe, then 5 (upgrade). Once 3probe is out, polling is asked
// to pause: the pending (or next) GET gets a noop, and a GET after that
// waits for the upgrade's outcome (see poll).
func (sock *socket) probe(ws *websocket.Conn) bool {
	done, ok := sock.startProbe(ws)
	if !ok {
		return false
	}
	upgraded := false
	defer func() { sock.endProbe(done, upgraded) }()
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
	sock.mu.Lock()
	sock.pausing = true
	sock.mu.Unlock()
	sock.w.wake() // a pending GET looks at pausing
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
	upgraded = sock.attach(ws)
	return upgraded
}

// startProbe marks an upgrade under way; false when one already is, or
// the socket is upgraded or closed.
func (sock *socket) startProbe(ws *websocket.Conn) (chan struct{}, bool) {
	sock.mu.Lock()
	defer sock.mu.Unlock()
	if sock.probing != nil || sock.ws != nil || sock.isClosed() {
		return nil, false
	}
	sock.stopWindow() // the client came back
	sock.probing = ws
	sock.probeDone = make(chan struct{})
	return sock.probeDone, true
}

// endProbe ends the upgrade; when it failed, polling resumes.
func (sock *socket) endProbe(done chan struct{}, upgraded bool) {
	sock.mu.Lock()
	sock.probing, sock.probeDone = nil, nil
	sock.pausing, sock.paused = false, false
	close(done)
	sock.mu.Unlock()
	if !upgraded {
		sock.w.wake() // a GET may wait for packets queued meanwhile
	}
}

// readLoop is the one reader of ws. It returns when the connection fails
// or the client breaks the protocol, closing the socket. Where it can, it
// serves inside the socket's RawConn.Read (serve_unix.go) and takes the
// blocking path only for what that cannot handle.
func (sock *socket) readLoop(ws *websocket.Conn) {
	wc, _ := ws.NetConn().(*wsConn)
	serving := wc.canServe()
	handle := func() bool { return sock.readOne(ws) }
	text := sock.handleText // made once, not at every turn
	for {
		if serving {
			if !wc.serve(handle, text) {
				return
			}
			sock.srv.stats.blockingReads.Add(1)
		} else if wc != nil && wc.br != nil {
			wc.awaitInput()
		}
		if !sock.readOne(ws) {
			return
		}
	}
}

// readOne reads and handles one message; false means the socket is
// closed. It never closes the connection itself (see serve_unix.go).
func (sock *socket) readOne(ws *websocket.Conn) bool {
	typ, r, err := ws.NextReader()
	var msg *[]byte
	if err == nil {
		msg, err = readMessage(r)
	}
	if err != nil {
		sock.close(readCloseReason(err))
		return false
	}
	if typ == websocket.BinaryMessage {
		putMessage(msg)
		sock.refuseBinary()
		return true
	}
	ok := sock.handleText(*msg)
	putMessage(msg) // after an error, which may quote it, is logged
	return ok
}

// handleText handles one text message; false means the socket is closed.
// Handling keeps nothing of b: what is relayed or stored is copied
// (encodeBroadcast, the session's strings), so the caller may reuse b
// once it returns.
func (sock *socket) handleText(b []byte) bool {
	err := sock.handleEIO(b)
	if err == nil {
		return true
	}
	if !errors.Is(err, errClientClose) && !errors.Is(err, errControlFlood) {
		sock.log.Info("closing connection: bad packet", "err", err)
		sock.srv.stats.malformed.Add(1)
	}
	sock.close(err.Error())
	return false
}

func readCloseReason(err error) string {
	if errors.Is(err, websocket.ErrReadLimit) {
		return "packet larger than max payload"
	}
	return "transport close"
}

// refuseWebsocket closes a fresh websocket the relay cannot take (why is
// register's answer) with a close frame saying why: 1013, try again
// later.
func (s *Server) refuseWebsocket(ws *websocket.Conn, addr, why string) {
	msg := "relay shutting down"
	if why != refuseClosing {
		s.refuse(addr, why)
		msg = "relay full: too many connections"
		if why == refusePerAddress {
			msg = "too many connections from your address"
		}
	}
	_ = ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseTryAgainLater, msg), time.Now().Add(closeWait))
	ws.Close()
}
