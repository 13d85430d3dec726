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
		s.openPolling(w)
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

func (s *Server) openPolling(w http.ResponseWriter) {
	sock := newSocket(s)
	if !s.register(sock) {
		http.Error(w, "relay shutting down or full", http.StatusServiceUnavailable)
		return
	}
	sock.startHeartbeat()
	writePollBody(w, [][]byte{s.openPacket(sock, `"websocket"`)})
}

// poll answers a long-poll GET with every queued packet, waiting for one
// if none is queued. Two overlapping GETs break the protocol.
func (sock *socket) poll(w http.ResponseWriter, r *http.Request) {
	sock.mu.Lock()
	if sock.ws != nil { // upgraded: refuse the poll, keep the socket
		sock.mu.Unlock()
		errBadRequest.write(w, http.StatusBadRequest)
		return
	}
	if sock.polling {
		sock.mu.Unlock()
		sock.close("overlapping poll")
		errBadRequest.write(w, http.StatusBadRequest)
		return
	}
	sock.polling = true
	sock.mu.Unlock()
	defer func() {
		sock.mu.Lock()
		sock.polling = false
		sock.mu.Unlock()
	}()
	var batch [][]byte
	var since time.Time // when the batch's first packet was queued
	for len(batch) == 0 {
		select {
		case <-sock.q.notify:
			batch, since = sock.q.drainBatch(batch, sock.srv.cfg.Now())
		case <-sock.upgraded:
			batch = append(batch, []byte{eioNoop})
		case <-sock.closed:
			batch = append(batch, []byte{eioClose})
		case <-r.Context().Done():
			sock.close("poll aborted")
			return
		}
	}
	// A client that stops reading must not pin the batch forever.
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(sock.srv.cfg.WriteTimeout))
	writePollBody(w, batch)
	sock.srv.observeQueueWait(since)
}

func writePollBody(w http.ResponseWriter, packets [][]byte) {
	w.Header().Set("Content-Type", "text/plain; charset=UTF-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(bytes.Join(packets, []byte{pollSeparator}))
}

// post handles a long-polling POST: packets separated by 0x1e, at most
// MaxPayload bytes in all.
func (sock *socket) post(w http.ResponseWriter, r *http.Request) {
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
		sock.close("transport error")
		return
	}
	for _, pkt := range splitPollPayload(body) {
		if err := sock.handleEIO(pkt); err != nil {
			if !errors.Is(err, errClientClose) {
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
