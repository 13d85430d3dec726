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
	ws, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader has answered
	}
	ws.SetReadLimit(s.cfg.MaxPayload)
	s.conns.Add(1)
	defer s.conns.Done()
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
	ws.Close()
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

// writeLoop is the one writer of ws: it drains the send queue (a due ping
// first) until the socket closes, then says goodbye with a close frame.
func (sock *socket) writeLoop(ws *websocket.Conn) {
	defer sock.writer.Done()
	var batch [][]byte
	for {
		select {
		case <-sock.q.notify:
		case <-sock.closed:
			msg := websocket.FormatCloseMessage(websocket.CloseGoingAway, "")
			_ = ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(closeWait))
			return
		}
		batch = sock.q.drain(batch[:0], sock.srv.cfg.Now())
		_ = ws.SetWriteDeadline(time.Now().Add(sock.srv.cfg.WriteTimeout))
		for i, b := range batch {
			if err := ws.WriteMessage(websocket.TextMessage, b); err != nil {
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() && sock.stuckOnce.CompareAndSwap(false, true) {
					sock.srv.stats.stuck.Add(1) // the peer stopped reading
				}
				sock.close("write failed: " + err.Error())
				return
			}
			batch[i] = nil
		}
	}
}
