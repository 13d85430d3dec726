package relay

import (
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"
)

// Server is the jam session relay: an http.Handler speaking Engine.IO 4 /
// Socket.IO 5 on any path it is mounted at (conventionally /socket.io/).
// It does not listen by itself; the caller owns the listener and must call
// Close, which http.Server.Shutdown does not do for websockets.
type Server struct {
	cfg      Config
	log      *slog.Logger
	hub      *hub
	joins    *joinLimiter // failed joins per client address
	limits   *addrLimit   // per-address counts and refusals; safe for concurrent use
	upgrader websocket.Upgrader
	stats    counters
	// queueWait is how long batches wait in send queues: from the first
	// packet's push to the batch written. Safe for concurrent use.
	queueWait prometheus.Histogram

	// mu guards sockets and closing. It is a leaf: nothing else is
	// locked under it, and it may be taken under any other lock.
	mu      sync.Mutex
	sockets map[string]*socket
	closing bool
	// conns counts every goroutine the relay starts (a websocket's
	// reader and writer, timer callbacks, closes done on the side), for
	// Close to wait for. It grows only under mu while !closing.
	conns sync.WaitGroup
}

// NewServer returns a relay with cfg; zero fields take their defaults.
func NewServer(cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("relay config: %w", err)
	}
	cfg = cfg.withDefaults()
	s := &Server{
		cfg:     cfg,
		log:     cfg.Logger,
		hub:     newHub(cfg.MaxMembers, cfg.Cluster),
		joins:   newJoinLimiter(cfg.FailedJoins),
		limits:  newAddrLimit(cfg.MaxConnectionsPerIP),
		sockets: make(map[string]*socket),
		queueWait: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "jamrelay_send_queue_wait_seconds",
			Help:    "Time from the first packet of a batch queued for a connection to the batch written to it.",
			Buckets: queueWaitBuckets,
		}),
	}
	s.upgrader = websocket.Upgrader{
		HandshakeTimeout: handshakeTimeout,
		WriteBufferPool:  &sync.Pool{}, // idle connections hold no write buffer
		// ReadBufferSize 0: gorilla reads from the hijacked reader, a
		// small one of the connection's own (hijacker), not net/http's
		// 4 KB one: a relayed event and its frame header fit, bigger
		// packets are read in several pieces, and an idle member costs
		// 3.5 KB less.
		CheckOrigin: s.checkOrigin,
	}
	return s, nil
}

// readBufferSize is each websocket's read buffer; gorilla reads control
// frames (125 bytes at most) whole from it, and needs more than 256
// bytes to take it.
const readBufferSize = 512

// handshakeTimeout bounds the websocket opening handshake (the HTTP
// upgrade response gorilla writes).
const handshakeTimeout = 10 * time.Second

// Engine.IO handshake errors, as the reference server words them.
var (
	errTransportUnknown = eioError{0, "Transport unknown"}
	errSessionUnknown   = eioError{1, "Session ID unknown"}
	errBadHandshake     = eioError{2, "Bad handshake method"}
	errBadRequest       = eioError{3, "Bad request"}
	errForbidden        = eioError{4, "Forbidden"}
	errVersion          = eioError{5, "Unsupported protocol version"}
)

type eioError struct {
	code    int
	message string
}

func (e eioError) write(w http.ResponseWriter, status int) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"code":%d,"message":%q}`, e.code, e.message)
}

// ServeHTTP routes one Engine.IO request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !s.cors(w, r) {
		errForbidden.write(w, http.StatusForbidden)
		return
	}
	if r.Method == http.MethodOptions {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	q := r.URL.Query()
	if q.Get("EIO") != "4" {
		errVersion.write(w, http.StatusBadRequest)
		return
	}
	sid := q.Get("sid")
	switch q.Get("transport") {
	case "websocket":
		s.serveWebsocket(w, r, sid)
	case "polling":
		s.servePolling(w, r, sid)
	default:
		errTransportUnknown.write(w, http.StatusBadRequest)
	}
}

// register adds a new socket; it returns why not ("" when registered):
// the server is closing (refuseClosing) or full, or the socket's address
// holds MaxConnectionsPerIP already.
func (s *Server) register(sock *socket) string {
	if !s.limits.acquire(addrKey(sock.addr)) {
		return refusePerAddress
	}
	s.mu.Lock()
	why := ""
	switch {
	case s.closing:
		why = refuseClosing
	case len(s.sockets) >= s.cfg.MaxConnections:
		why = refuseFull
	default:
		s.sockets[sock.eid] = sock
	}
	s.mu.Unlock()
	if why != "" {
		s.limits.release(addrKey(sock.addr))
	}
	return why
}

// full reports whether the relay serves MaxConnections already.
func (s *Server) full() bool {
	return s.open() >= s.cfg.MaxConnections
}

// open returns the number of Engine.IO sessions open now.
func (s *Server) open() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sockets)
}

func (s *Server) lookup(eid string) *socket {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sockets[eid]
}

// forget unregisters sock, and its address holds one less.
func (s *Server) forget(sock *socket) {
	s.mu.Lock()
	registered := s.sockets[sock.eid] == sock
	if registered {
		delete(s.sockets, sock.eid)
	}
	s.mu.Unlock()
	if registered {
		s.limits.release(addrKey(sock.addr))
	}
}

// openPacket is the Engine.IO handshake for sock.
func (s *Server) openPacket(sock *socket, upgrades string) []byte {
	return fmt.Appendf(nil, `0{"sid":%q,"upgrades":[%s],"pingInterval":%d,"pingTimeout":%d,"maxPayload":%d}`,
		sock.eid, upgrades, s.cfg.PingInterval.Milliseconds(), s.cfg.PingTimeout.Milliseconds(), s.cfg.MaxPayload)
}

// Close disconnects every client cleanly (a websocket close frame, or a
// close packet to a pending long-poll) and waits for every goroutine of
// the relay's, at most about a second (twice closeWait) for clients that
// do not read.
// Clients see a transport close and reconnect to the next relay.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closing = true
	all := make([]*socket, 0, len(s.sockets))
	for _, sock := range s.sockets {
		all = append(all, sock)
	}
	s.mu.Unlock()
	for _, sock := range all {
		sock.close("server shutdown")
	}
	s.conns.Wait()
	return nil
}

// addConn counts a goroutine for Close to wait for; false once Close has
// begun (a WaitGroup must not grow while it is waited on). Close closes
// every socket itself, so work refused then is not lost.
func (s *Server) addConn() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	s.conns.Add(1)
	return true
}

// spawn runs f on a goroutine Close waits for; false, and f not run, once
// Close has begun.
func (s *Server) spawn(f func()) bool {
	if !s.addConn() {
		return false
	}
	go func() {
		defer s.conns.Done()
		f()
	}()
	return true
}

// afterFunc is time.AfterFunc whose f Close waits for; once Close has
// begun f no longer runs.
func (s *Server) afterFunc(d time.Duration, f func()) *time.Timer {
	return time.AfterFunc(d, func() {
		if !s.addConn() {
			return
		}
		defer s.conns.Done()
		f()
	})
}
