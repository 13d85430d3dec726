package relay

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"
)

// socket is one Engine.IO session and its Socket.IO connection on "/".
//
// Concurrency: inbound packets are handled one at a time under inMu (the
// websocket reader, or one long-polling POST). Outbound packets go
// through q, which never blocks the producer; exactly one consumer drains
// it (the pending long-poll GET, or the websocket writer goroutine after
// the upgrade). mu guards the transport state. The heartbeat runs on a
// timer.
type socket struct {
	srv *Server
	eid string       // Engine.IO session id
	log *slog.Logger // never reassigned: read from any goroutine
	q   *sendQueue
	// control carries websocket control frames (pongs) to the writer.
	control chan controlFrame
	closed  chan struct{} // closed by close
	once    sync.Once
	cur     atomic.Pointer[member] // the session s is in; see hub
	writer  sync.WaitGroup         // the websocket writer goroutine
	// stuckOnce marks the socket closed for being stuck (counted once).
	stuckOnce atomic.Bool

	// Direct writes (direct.go): whoever writes to the websocket holds
	// wmu, the writer goroutine or a sender finding the socket idle.
	direct  atomic.Pointer[directConn] // set by attach where the conn allows
	wmu     sync.Mutex
	partial []byte // guarded by wmu: a direct write's unwritten tail, sent next

	mu        sync.Mutex // guards the fields below
	ws        *websocket.Conn
	upgraded  chan struct{}   // closed when websocket takes over from polling
	probing   *websocket.Conn // an upgrade in progress; closed with the socket
	polling   bool            // a long-poll GET is pending
	posting   bool            // a long-poll POST is being handled
	pingTimer *time.Timer
	awaitPong bool

	inMu       sync.Mutex // guards the fields below: inbound handling
	sid        string     // Socket.IO id once connected to "/", else ""
	bucket     tokenBucket
	lastRateMs int64 // when the last rate_limited error went out (unix ms)
}

func newSocket(srv *Server) *socket {
	s := &socket{
		srv:      srv,
		eid:      randomID(),
		q:        newSendQueue(srv.cfg.SendQueue, srv.cfg.Now()),
		control:  make(chan controlFrame, 2),
		closed:   make(chan struct{}),
		upgraded: make(chan struct{}),
		bucket:   newTokenBucket(srv.cfg.EventRate, srv.cfg.EventBurst, srv.cfg.Now()),
	}
	s.log = srv.log.With("eio", s.eid)
	return s
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

// send queues one encoded Engine.IO packet, or writes it at once when
// the websocket is idle (writeDirect). droppable marks relayed musical
// events, which overflow may drop (see sendQueue).
func (s *socket) send(b []byte, droppable bool) {
	if s.writeDirect(b) {
		return
	}
	now := s.srv.cfg.Now()
	s.srv.stats.queued.Add(1)
	dropped, stuck := s.q.push(b, droppable, now, s.srv.cfg.WriteTimeout)
	if dropped > 0 {
		s.srv.stats.dropped.Add(uint64(dropped))
	}
	if stuck && s.stuckOnce.CompareAndSwap(false, true) {
		s.srv.stats.stuck.Add(1)
		// Closing takes locks that the caller (a room) may hold; do it
		// on the side.
		go s.close("send queue stuck")
	}
}

// close ends the socket once: it leaves the session (telling the others),
// stops the heartbeat and wakes the transport so its goroutines return.
func (s *socket) close(reason string) {
	s.once.Do(func() {
		s.mu.Lock()
		if s.pingTimer != nil {
			s.pingTimer.Stop()
		}
		ws := s.ws
		if s.probing != nil {
			s.probing.NetConn().Close()
		}
		close(s.closed) // under mu, so attach sees it
		s.mu.Unlock()
		if code := s.srv.hub.leave(s); code != "" {
			s.log.Debug("left session on close", "room", code)
		}
		s.srv.forget(s)
		if ws == nil {
			return
		}
		// The writer sends the close frame. If it is stuck in a write,
		// a deadline in the past unblocks it.
		go func() {
			t := time.NewTimer(time.Second)
			defer t.Stop()
			done := make(chan struct{})
			go func() { s.writer.Wait(); close(done) }()
			select {
			case <-done:
			case <-t.C:
			}
			ws.NetConn().Close()
		}()
		s.log.Debug("socket closed", "reason", reason)
	})
}

// startHeartbeat schedules the first ping.
func (s *socket) startHeartbeat() {
	s.mu.Lock()
	s.pingTimer = time.AfterFunc(s.srv.cfg.PingInterval, s.heartbeat)
	s.mu.Unlock()
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
	s.q.pushPing()
}

func (s *socket) pong() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.awaitPong && !s.isClosed() {
		s.awaitPong = false
		s.pingTimer.Reset(s.srv.cfg.PingInterval)
	}
}

var errClientClose = errors.New("client closed")

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
	case eioPong:
		s.pong()
	case eioClose:
		return errClientClose
	case eioNoop:
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
		s.connect()
	case sioDisconnect:
		s.srv.hub.leave(s)
		s.sid = ""
	case sioEvent:
		if s.sid == "" {
			return nil // not connected to "/": ignored, as Socket.IO does
		}
		ev, err := DecodeEvent(p)
		if err != nil {
			return err
		}
		s.dispatch(ev, p.ID)
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
		s.sid = randomID()
		s.srv.stats.connects.Add(1)
		s.log.Debug("connected", "sid", s.sid)
	}
	s.send(fmt.Appendf(nil, `40{"sid":%q}`, s.sid), false)
}

func (s *socket) sendConnectError(nsp, msg string) {
	b := fmt.Appendf(nil, "44%s,", nsp)
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
	if ms := now.UnixMilli(); ms-s.lastRateMs >= 1000 {
		s.lastRateMs = ms
		s.sendError(CodeRateLimited, "too many events: slow down")
	}
	return false
}
