package relay

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"time"
)

// servePolling handles Engine.IO's long-polling transport: a GET without
// sid opens a session, a GET with sid waits for packets, a POST delivers
// packets.
func (s *Server) servePolling(w http.ResponseWriter, r *http.Request, sid string) {
	if sid == "" {
		if r.Method != http.MethodGet {
			errBadHandshake.write(w, http.StatusBadRequest)
			return
		}
		s.openPolling(w, s.clientAddress(r))
		return
	}
	sock := s.lookup(sid)
	if sock == nil {
		errSessionUnknown.write(w, http.StatusBadRequest)
		return
	}
	switch r.Method {
	case http.MethodGet:
		sock.poll(w, r)
	case http.MethodPost:
		sock.post(w, r)
	default:
		errBadRequest.write(w, http.StatusBadRequest)
	}
}

// openPolling opens a long-polling session for addr. Refused: 429 when
// addr holds MaxConnectionsPerIP, 503 when the relay is full or closing.
func (s *Server) openPolling(w http.ResponseWriter, addr string) {
	sock := newSocket(s)
	sock.addr = addr
	switch why := s.register(sock); why {
	case "":
	case refusePerAddress:
		s.refuse(addr, why)
		http.Error(w, "too many connections from your address", http.StatusTooManyRequests)
		return
	case refuseFull:
		s.refuse(addr, why)
		http.Error(w, "relay full: too many connections", http.StatusServiceUnavailable)
		return
	default:
		http.Error(w, "relay shutting down", http.StatusServiceUnavailable)
		return
	}
	sock.startTimers()
	sock.startHandshakeWindow()
	writePollBody(w, [][]byte{s.openPacket(sock, `"websocket"`)})
}

var (
	noopPacket  = []byte{eioNoop}
	closePacket = []byte{eioClose}
)

// poll answers a long-poll GET with every queued packet, waiting for one
// if none is queued. Two overlapping GETs break the protocol. During an
// upgrade the client pauses polling: the pending (or next) GET gets a
// noop, and a GET after that waits for the upgrade's outcome, so a GET
// of an upgraded session is always refused.
func (sock *socket) poll(w http.ResponseWriter, r *http.Request) {
	sock.cameBack()
	if !sock.awaitUpgrade(r) {
		return
	}
	if ok, overlap := sock.startPoll(); !ok {
		if overlap {
			sock.close("overlapping poll")
		}
		errBadRequest.write(w, http.StatusBadRequest)
		return
	}
	defer func() {
		sock.mu.Lock()
		sock.polling = false
		sock.mu.Unlock()
	}()
	batch, since, ok := sock.nextBatch(r)
	if !ok {
		return
	}
	// A client that stops reading must not pin the batch forever.
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(sock.srv.cfg.WriteTimeout))
	writePollBody(w, batch)
	sock.srv.observeQueueWait(since)
}

// nextBatch waits for what a pending GET answers: queued packets, a
// noop (polling pauses, or the websocket took over) or the goodbye.
// false: the request ended first, which closes the socket. since is when
// the batch's first packet was queued.
func (sock *socket) nextBatch(r *http.Request) (batch [][]byte, since time.Time, ok bool) {
	for len(batch) == 0 {
		if sock.takePause() {
			return append(batch, noopPacket), since, true
		}
		select {
		case <-sock.w.notify:
			if sock.takePause() {
				return append(batch, noopPacket), since, true
			}
			var upgraded bool
			if batch, since, upgraded = sock.w.pollBatch(batch); upgraded {
				sock.w.wake() // the notice was the websocket writer's
				batch = append(batch, noopPacket)
			}
		case <-sock.upgraded:
			batch = append(batch, noopPacket)
		case <-sock.closed:
			batch = append(batch, sock.goodbye())
		case <-r.Context().Done():
			sock.close("poll aborted")
			return nil, since, false
		}
	}
	return batch, since, true
}

// awaitUpgrade holds a GET that comes while an upgrade is under way and
// polling already paused, until the upgrade ends. false: the request
// ended first.
func (sock *socket) awaitUpgrade(r *http.Request) bool {
	sock.mu.Lock()
	var done chan struct{}
	if sock.paused {
		done = sock.probeDone
	}
	sock.mu.Unlock()
	if done == nil {
		return true
	}
	select {
	case <-done:
		return true
	case <-sock.closed:
		return true // poll answers a closed socket
	case <-r.Context().Done():
		return false
	}
}

// startPoll marks a GET pending. It fails when the websocket has taken
// over (the socket stays), or when another GET is pending: overlap, which
// closes the socket, as engine.io does.
func (sock *socket) startPoll() (ok, overlap bool) {
	sock.mu.Lock()
	defer sock.mu.Unlock()
	switch {
	case sock.ws != nil:
		return false, false
	case sock.polling:
		return false, true
	}
	sock.polling = true
	return true, false
}

// takePause reports whether an upgrade asks polling to pause and no GET
// has been told yet; the caller answers with a noop.
func (sock *socket) takePause() bool {
	sock.mu.Lock()
	defer sock.mu.Unlock()
	if sock.pausing && !sock.paused {
		sock.paused = true
		return true
	}
	return false
}

// goodbye is what a pending GET of a closed socket gets: a noop when the
// client itself said close (as engine.io answers), else a close packet.
func (sock *socket) goodbye() []byte {
	sock.mu.Lock()
	defer sock.mu.Unlock()
	if sock.clientClose {
		return noopPacket
	}
	return closePacket
}

func writePollBody(w http.ResponseWriter, packets [][]byte) {
	w.Header().Set("Content-Type", "text/plain; charset=UTF-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(bytes.Join(packets, []byte{pollSeparator}))
}

// post handles a long-polling POST: packets separated by 0x1e, at most
// MaxPayload bytes in all, to arrive within WriteTimeout. A body that
// does not arrive whole is answered 400 (413 when too large) and closes
// the session, as engine.io does.
func (sock *socket) post(w http.ResponseWriter, r *http.Request) {
	sock.cameBack()
	sock.mu.Lock()
	if sock.posting {
		sock.mu.Unlock()
		sock.close("overlapping post")
		errBadRequest.write(w, http.StatusBadRequest)
		return
	}
	sock.posting = true
	sock.mu.Unlock()
	defer func() {
		sock.mu.Lock()
		sock.posting = false
		sock.mu.Unlock()
	}()
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(sock.srv.cfg.WriteTimeout))
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, sock.srv.cfg.MaxPayload))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			sock.close("packet larger than max payload")
			http.Error(w, "payload too large", http.StatusRequestEntityTooLarge)
			return
		}
		sock.close("post body cut short: " + err.Error())
		errBadRequest.write(w, http.StatusBadRequest)
		return
	}
	for _, pkt := range splitPollPayload(body) {
		if err := sock.handleEIO(pkt); err != nil {
			if !errors.Is(err, errClientClose) && !errors.Is(err, errControlFlood) {
				sock.log.Info("closing connection: bad packet", "err", err)
				sock.srv.stats.malformed.Add(1)
			}
			sock.close(err.Error())
			break
		}
	}
	w.Header().Set("Content-Type", "text/html")
	w.Write([]byte("ok"))
}

// startHandshakeWindow expires a new long-polling session that does not
// come back (poll, post or start its upgrade) within HandshakeWindow: a
// handshake alone must not hold a place for ConnectTimeout.
func (sock *socket) startHandshakeWindow() {
	sock.mu.Lock()
	defer sock.mu.Unlock()
	sock.windowTimer = sock.srv.afterFunc(sock.srv.cfg.HandshakeWindow, func() {
		sock.mu.Lock()
		back := sock.windowTimer == nil
		sock.mu.Unlock()
		if back {
			return
		}
		sock.log.Debug("closing connection: no poll or upgrade after the handshake", "window", sock.srv.cfg.HandshakeWindow)
		sock.close("handshake window")
		sock.srv.refuse(sock.addr, refuseHandshake)
	})
}

// cameBack stops the handshake window: the client polled, posted or
// started its upgrade.
func (sock *socket) cameBack() {
	sock.mu.Lock()
	defer sock.mu.Unlock()
	sock.stopWindow()
}

// stopWindow stops the handshake window; a nil windowTimer tells its
// callback, should it be running already, that the client came back.
// Called with mu held.
func (sock *socket) stopWindow() {
	stopTimer(sock.windowTimer)
	sock.windowTimer = nil
}
