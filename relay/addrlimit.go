package relay

import (
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Refusal reasons, the values of jamrelay_refused_total's reason label.
const (
	refusePerAddress = "per_address_limit" // the address holds MaxConnectionsPerIP already
	refuseFull       = "max_connections"   // the relay holds MaxConnections already
	refuseOrigin     = "origin"            // a browser page of a foreign origin
	refuseHandshake  = "handshake_window"  // a long-polling session that never came back
	refuseFlood      = "control_flood"     // pongs, noops or ping frames over their budget

	refuseClosing = "closing" // the relay is shutting down: not counted
)

// addrLimit counts what each client address holds open: Engine.IO
// sessions (websocket or long-polling) and HTTP connections not yet
// handed to a websocket (idle keep-alive ones included). It also keeps
// the refusal counters and the once-a-minute refusal log.
//
// Concurrency: mu guards the maps below; it is a leaf (nothing is taken
// under it), like Server.mu. The counters are atomics.
type addrLimit struct {
	limit int

	mu     sync.Mutex
	held   map[string]int       // addrKey -> sessions + connections; no zero entries, so bounded by what is open
	logged map[string]time.Time // addrKey -> when a refusal was last logged; at most maxLogged

	// tracked holds the HTTP connections ConnState counted, so a
	// connection closed at StateNew is not released twice.
	tracked sync.Map // net.Conn -> struct{}

	refused [len(refuseReasons)]atomic.Uint64
}

// refuseReasons are the reasons counted, in addrLimit.refused's order.
var refuseReasons = [5]string{refusePerAddress, refuseFull, refuseOrigin, refuseHandshake, refuseFlood}

// maxLogged bounds the addresses whose last refusal log is remembered.
// Overflow policy: entries older than refusalLogEvery are swept; if the
// map is still full, the refusal is counted but not logged.
const maxLogged = 4096

// refusalLogEvery spaces the log lines about one address's refusals.
const refusalLogEvery = time.Minute

func newAddrLimit(limit int) *addrLimit {
	return &addrLimit{limit: limit, held: make(map[string]int), logged: make(map[string]time.Time)}
}

// acquire counts one more for key unless the key holds limit already.
func (l *addrLimit) acquire(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.held[key] >= l.limit {
		return false
	}
	l.held[key]++
	return true
}

// release undoes one acquire of key.
func (l *addrLimit) release(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.held[key] <= 1 {
		delete(l.held, key)
		return
	}
	l.held[key]--
}

// holds returns what key holds now.
func (l *addrLimit) holds(key string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.held[key]
}

// shouldLog reports whether a refusal of key at now is to be logged: the
// first one of a minute per address.
func (l *addrLimit) shouldLog(key string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if last, ok := l.logged[key]; ok && now.Sub(last) < refusalLogEvery {
		return false
	}
	if len(l.logged) >= maxLogged {
		for k, t := range l.logged {
			if now.Sub(t) >= refusalLogEvery {
				delete(l.logged, k)
			}
		}
		if len(l.logged) >= maxLogged {
			return false
		}
	}
	l.logged[key] = now
	return true
}

// refuse counts a refusal of addr for reason and logs it, once per
// address and minute.
func (s *Server) refuse(addr, reason string, args ...any) {
	for i, r := range refuseReasons {
		if r == reason {
			s.limits.refused[i].Add(1)
		}
	}
	if s.limits.shouldLog(addrKey(addr), s.cfg.Now()) {
		s.log.Warn("refused a client (logged once a minute per address)",
			append([]any{"addr", addr, "reason", reason}, args...)...)
	}
}

// Refused returns how many clients the relay refused, by reason.
func (s *Server) Refused() map[string]uint64 {
	m := make(map[string]uint64, len(refuseReasons))
	for i, r := range refuseReasons {
		m[r] = s.limits.refused[i].Load()
	}
	return m
}

// ConnState counts HTTP connections per client address, for
// http.Server.ConnState on the relay's listener: a new connection past
// MaxConnectionsPerIP is closed at once, unanswered, and a connection
// leaves the count when it closes or becomes a websocket (which then
// counts as a session). Connections from trusted proxies are not
// counted: the proxy carries many clients, each counted by its
// X-Forwarded-For address once it opens a session.
func (s *Server) ConnState(c net.Conn, state http.ConnState) {
	peer, ok := parseHop(c.RemoteAddr().String())
	if !ok || s.trusted(peer) {
		return
	}
	addr := peer.String()
	switch state {
	case http.StateNew:
		if !s.limits.acquire(addrKey(addr)) {
			s.refuse(addr, refusePerAddress, "what", "http connection")
			c.Close()
			return
		}
		s.limits.tracked.Store(c, struct{}{})
	case http.StateHijacked, http.StateClosed:
		if _, ok := s.limits.tracked.LoadAndDelete(c); ok {
			s.limits.release(addrKey(addr))
		}
	}
}
