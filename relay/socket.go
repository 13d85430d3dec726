package relay

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"
)

// socket is one Engine.IO session and its Socket.IO connection on "/".
//
// Concurrency: inbound packets are handled one at a time under inMu (the
// websocket reader, or one long-polling POST). Everything outbound goes
// through w, the connection's one owner of writes (writer.go), which
// never blocks its callers. mu guards the transport state and the
// timers; memberMu the session membership. The lock order is written in
// doc.go.
type socket struct {
	srv    *Server
	eid    string        // Engine.IO session id
	addr   string        // the client's address (clientAddress); set before register, never reassigned
	log    *slog.Logger  // never reassigned: read from any goroutine
	w      *connWriter   // set by newSocket, never reassigned
	closed chan struct{} // closed by close
	once   sync.Once

	memberMu sync.Mutex // guards cur
	cur      *member    // the session s is in; see hub

	mu           sync.Mutex // guards the fields below
	ws           *websocket.Conn
	upgraded     chan struct{}   // closed when websocket takes over from polling; upgradedAlready for a socket born on one
	probing      *websocket.Conn // an upgrade in progress; closed with the socket
	probeDone    chan struct{}   // closed when that upgrade ends, either way
	pausing      bool            // the upgrade asks polling to pause: the next GET gets a noop
	paused       bool            // a GET got that noop: the client polls no more until the upgrade ends
	polling      bool            // a long-poll GET is pending
	posting      bool            // a long-poll POST is being handled
	clientClose  bool            // the client sent a close packet
	pingTimer    *time.Timer
	connectTimer *time.Timer // stopped by the Socket.IO CONNECT
	windowTimer  *time.Timer // a new long-polling session's handshake window; stopped when it comes back
	awaitPong    bool

	inMu       sync.Mutex  // guards the fields below: inbound handling
	sid        string      // Socket.IO id once connected to "/", else ""
	grant      TokenClaims // what the CONNECT's access token allows (room, name)
	refused    bool        // a CONNECT was refused: the close is scheduled
	bucket     tokenBucket
	control    tokenBucket // pongs, noops and websocket ping frames
	lastRateMs int64       // when the last rate_limited error went out (unix ms)
}

// newSocket returns a socket that starts long-polling.
func newSocket(srv *Server) *socket {
	s := newWebsocketSocket(srv)
	s.upgraded = make(chan struct{})
	s.w.notify = make(chan struct{}, 1)
	return s
}

// newWebsocketSocket returns a socket born on a websocket: it never
// polls, so it has no upgrade to wait for and no GET to wake (an idle
// member holds two channels less).
func newWebsocketSocket(srv *Server) *socket {
	s := &socket{
		srv:      srv,
		eid:      randomID(),
		closed:   make(chan struct{}),
		upgraded: upgradedAlready,
		bucket:   newTokenBucket(srv.cfg.EventRate, srv.cfg.EventBurst, srv.cfg.Now()),
		control:  newTokenBucket(controlRate, controlBurst, srv.cfg.Now()),
	}
	s.w = newConnWriter(srv, s.close)
	s.log = slog.New(eioHandler{srv.log.Handler(), s.eid})
	return s
}

// upgradedAlready is the upgraded channel of every socket born on a
// websocket: closed, never closed again (attach).
var upgradedAlready = func() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}()

// eioHandler adds a connection's Engine.IO id to each record it logs.
// Unlike Logger.With, which copies the handler and its preformatted
// attributes for every connection, it costs an idle connection a few
// words; the copy is made only for a record actually logged.
type eioHandler struct {
	slog.Handler
	eid string
}

func (h eioHandler) Handle(ctx context.Context, r slog.Record) error {
	r = r.Clone()
	r.AddAttrs(slog.String("eio", h.eid))
	return h.Handler.Handle(ctx, r)
}

func (h eioHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return eioHandler{h.Handler.WithAttrs(as), h.eid}
}

func (h eioHandler) WithGroup(name string) slog.Handler {
	return eioHandler{h.Handler.WithGroup(name), h.eid}
}

// randomID returns 120 random bits, URL-safe, like Engine.IO's ids.
func randomID() string {
	var b [15]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported systems
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func (s *socket) isClosed() bool {
	select {
	case <-s.closed:
		return true
	default:
		return false
	}
}

// send hands one encoded Engine.IO packet to the connection's writer; it
// never blocks. droppable marks relayed musical events, which overflow
// may drop (see sendQueue).
func (s *socket) send(b []byte, droppable bool) { s.w.send(b, droppable) }

// close ends the socket once: it stops the timers, unregisters, says
// goodbye on the transport (a close frame, or a close packet to a pending
// long-poll) and leaves the session (telling the others). Its caller
// holds none of the socket's or the sessions' locks: a close needed under
// one (a stuck queue) runs on a goroutine of the server's.
func (s *socket) close(reason string) {
	s.once.Do(func() {
		s.mu.Lock()
		stopTimer(s.pingTimer)
		stopTimer(s.connectTimer)
		s.stopWindow()
		probing := s.probing
		close(s.closed) // under mu, so attach sees it
		s.mu.Unlock()
		if probing != nil {
			probing.NetConn().Close() // ends the upgrade under way
		}
		s.srv.forget(s) // from now on its id is unknown: requests get 400
		s.w.close()
		if code := s.srv.hub.leave(s); code != "" {
			s.log.Debug("left session on close", "room", code)
		}
		s.log.Debug("socket closed", "reason", reason)
	})
}

func stopTimer(t *time.Timer) {
	if t != nil {
		t.Stop()
	}
}

// startTimers schedules the first ping, and the close of a connection
// that does not send the Socket.IO CONNECT within ConnectTimeout; none
// once the socket is closed (close stops the timers it finds).
func (s *socket) startTimers() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.isClosed() {
		return
	}
	s.pingTimer = s.srv.afterFunc(s.srv.cfg.PingInterval, s.heartbeat)
	s.connectTimer = s.srv.afterFunc(s.srv.cfg.ConnectTimeout, func() {
		s.log.Info("closing connection: no socket.io connect", "timeout", s.srv.cfg.ConnectTimeout)
		s.close("connect timeout")
		s.srv.stats.connectTimeouts.Add(1) // counted once closed
	})
}

// heartbeat runs on the ping timer: ping, then wait pingTimeout for the
// pong; a missing pong closes the socket.
func (s *socket) heartbeat() {
	s.mu.Lock()
	if s.isClosed() {
		s.mu.Unlock()
		return
	}
	if s.awaitPong {
		s.mu.Unlock()
		s.close("ping timeout")
		return
	}
	s.awaitPong = true
	s.pingTimer.Reset(s.srv.cfg.PingTimeout)
	s.mu.Unlock()
	s.w.pushPing()
}

// pong takes the client's pong; it reports whether a ping was waiting
// for it (an owed pong), false for an unsolicited one.
func (s *socket) pong() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.awaitPong && !s.isClosed() {
		s.awaitPong = false
		s.pingTimer.Reset(s.srv.cfg.PingInterval)
		return true
	}
	return false
}

var errClientClose = errors.New("client closed")

// rateLimitedErrorEvery spaces the rate_limited errors a flooding
// connection gets: one per interval, not one per refused packet.
const rateLimitedErrorEvery = time.Second

// handleEIO handles one inbound Engine.IO packet from either transport.
// An error means the peer broke the protocol (or said close); the caller
// closes the socket.
func (s *socket) handleEIO(b []byte) error {
	if len(b) == 0 {
		return fmt.Errorf("%w: empty engine.io packet", ErrMalformed)
	}
	// Relayed bytes go out in websocket text frames, which receivers
	// must reject when they are not UTF-8: refuse them here, from the
	// sender, so one client cannot disconnect the others.
	if !utf8.Valid(b) {
		return fmt.Errorf("%w: not UTF-8", ErrMalformed)
	}
	switch b[0] {
	case eioMessage:
		return s.handleMessage(b[1:])
	case eioPong, eioNoop:
		// The pong a ping is owed is free, whatever the ping interval;
		// unsolicited pongs and noops spend the control budget.
		if b[0] == eioPong && s.pong() {
			break
		}
		if !s.allowControl() {
			return errControlFlood
		}
	case eioClose:
		s.mu.Lock()
		s.clientClose = true
		s.mu.Unlock()
		return errClientClose
	case 'b': // base64 binary over polling: an attachment we refuse
		s.refuseBinary()
	default:
		return fmt.Errorf("%w: unexpected engine.io packet %q", ErrMalformed, b[0])
	}
	return nil
}

// handleMessage handles a Socket.IO packet.
func (s *socket) handleMessage(b []byte) error {
	p, err := DecodePacket(b)
	if err != nil {
		return err
	}
	s.inMu.Lock()
	defer s.inMu.Unlock()
	if !s.allow() {
		return nil
	}
	if p.Namespace != "/" {
		if p.Type == sioConnect {
			s.sendConnectError(p.Namespace, "Invalid namespace")
		}
		return nil
	}
	switch p.Type {
	case sioConnect:
		if s.sid == "" && !s.authorize(p.Data) {
			return nil // refused: see authorize
		}
		s.connect()
	case sioDisconnect:
		s.srv.hub.leave(s)
		s.sid = ""
	case sioEvent:
		if s.sid == "" {
			return nil // not connected to "/": ignored, as Socket.IO does
		}
		return s.handleEvent(p)
	case sioBinaryEvent, sioBinaryAck:
		s.refuseBinary()
	case sioAck: // we never ask clients for acks
	default:
		return fmt.Errorf("%w: unexpected socket.io packet %q", ErrMalformed, p.Type)
	}
	return nil
}

// connect answers a CONNECT to "/" with the socket's id.
func (s *socket) connect() {
	if s.sid == "" {
		s.mu.Lock()
		stopTimer(s.connectTimer)
		s.connectTimer = nil // an idle member keeps no stopped timer
		s.mu.Unlock()
		s.sid = randomID()
		s.srv.stats.connects.Add(1)
		s.log.Debug("connected", "sid", s.sid)
	}
	s.send(fmt.Appendf(nil, `40{"sid":%q}`, s.sid), false)
}

func (s *socket) sendConnectError(nsp, msg string) {
	b := []byte("44")
	if nsp != "/" {
		b = fmt.Appendf(b, "%s,", nsp)
	}
	b = append(b, `{"message":`...)
	b = appendJSONString(b, msg)
	s.send(append(b, '}'), false)
}

func (s *socket) refuseBinary() {
	s.sendError("bad_request", "binary attachments are not supported: send JSON")
}

// allow charges one inbound Socket.IO packet to the token bucket. Over
// the limit the packet is dropped, with one rate_limited error a second.
// Called with inMu held.
func (s *socket) allow() bool {
	now := s.srv.cfg.Now()
	if s.bucket.allow(now) {
		return true
	}
	s.srv.stats.rateLimited.Add(1)
	if ms := now.UnixMilli(); ms-s.lastRateMs >= rateLimitedErrorEvery.Milliseconds() {
		s.lastRateMs = ms
		s.sendError(CodeRateLimited, "too many events: slow down")
	}
	return false
}
