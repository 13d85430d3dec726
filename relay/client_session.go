package relay

import (
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jambridge/jambridge/internal/releasequeue"
)

// ErrNotConnected is returned by Session.Broadcast while the session is
// not joined. The event is dropped, not buffered: a note that cannot
// leave now is worth nothing later.
var ErrNotConnected = errors.New("not connected to the relay")

// SessionConfig configures NewSession. Only URL is required.
type SessionConfig struct {
	// URL of the relay, as for ClientConfig.URL.
	URL string
	// Room is the room code to join, or to create when it does not exist
	// (again after a relay restart). "" creates a new session; its code
	// is then kept for rejoins.
	Room string
	// Name is our display name and Kind our participant kind ("bridge").
	Name string
	Kind string
	// Secret is the session's secret: it makes the session we create
	// private, and it is what a private session we join wants.
	Secret string
	// Token is the access token of a relay that wants one.
	Token string
	// JoinTimeout bounds one attempt to connect and join; default 5s.
	JoinTimeout time.Duration
	// JoinOnly joins Room and never creates it: for watchers (monitor,
	// record) a code nobody hosts is an error, given by the relay.
	JoinOnly bool
	// Backoff spaces reconnection attempts; zero fields take defaults.
	Backoff Backoff
	// TLS configures an https relay, as for ClientConfig.TLS.
	TLS *tls.Config
	// OnEvent receives each event:broadcast of another member.
	OnEvent func(Broadcast)
	// OnPresence receives membership changes, see PresenceKind.
	OnPresence func(Presence)
	// Logger receives the session's logs; nil discards them.
	Logger *slog.Logger
}

// Broadcast is an event:broadcast from another member of the session.
type Broadcast struct {
	EventName string          `json:"eventName"`
	Payload   json.RawMessage `json:"payload"` // as the sender gave it
	SenderID  string          `json:"senderId"`
	// Seq is the sender's sequence number as it gave it; nil if none.
	Seq json.RawMessage `json:"seq"`
	// ServerTime is when the relay forwarded the event, in unix ms.
	ServerTime float64 `json:"serverTime"`
	// Received is when our reader decoded it (time.Now).
	Received time.Time `json:"-"`
}

// PresenceKind says what a Presence reports.
type PresenceKind int

const (
	// PresenceConnected: we are in the session, after the first join and
	// after each rejoin. Participants lists everyone, us included.
	PresenceConnected PresenceKind = iota + 1
	// PresenceDisconnected: we are out of the session, because the
	// connection ended (Err says why) or Run is ending (Err is nil).
	// Every remote participant is gone with it: release their notes.
	// Each PresenceConnected is followed by exactly one of these.
	PresenceDisconnected
	// PresenceJoined: Participant joined the session.
	PresenceJoined
	// PresenceLeft: UserID left the session or lost its connection.
	PresenceLeft
)

var presenceNames = [...]string{PresenceConnected: "connected", PresenceDisconnected: "disconnected",
	PresenceJoined: "joined", PresenceLeft: "left"}

func (k PresenceKind) String() string {
	if k > 0 && int(k) < len(presenceNames) {
		return presenceNames[k]
	}
	return fmt.Sprintf("PresenceKind(%d)", int(k))
}

// Presence is one membership change of a Session.
type Presence struct {
	Kind PresenceKind
	Room string
	// UserID is who joined or left (PresenceJoined, PresenceLeft).
	UserID string
	// Participant is who joined, or who left when we knew them.
	Participant Participant
	// Participants is the whole session, us included (PresenceConnected).
	Participants []Participant
	// Err is why the connection ended (PresenceDisconnected).
	Err error
}

// Session is the long-lived membership of a jam session that a bridge
// keeps: Run connects, joins (or creates) the room, and after a dropped
// connection backs off, reconnects and rejoins the same room code until
// its context ends. Broadcast sends events while joined and drops them
// while not.
//
// Concurrency: Broadcast, BroadcastHold, Room, ID, Participants, Stats
// and the clock's methods may be called from any goroutine; none of
// them waits on the network. Run owns the connections: each one's reader
// goroutine runs OnEvent and OnPresence, except PresenceDisconnected,
// which Run reports after that reader has stopped. The callbacks are
// therefore never called concurrently, arrive in the relay's order, and
// never after Run returns; they must not block. mu guards the membership
// state; it is taken before a connection's send queue lock, never after.
type Session struct {
	cfg     SessionConfig // read-only after NewSession
	log     *slog.Logger
	running atomic.Bool // Run was called

	mu           sync.Mutex // guards the fields below
	cur          *link      // the connection we are in the session on; nil when out
	room         string     // room code: cfg.Room, then the relay's
	id           string     // our socket id while in the session
	participants []Participant
	clock        *ClockEstimator // the relay's clock, from clock:sync
	seq          int64           // last seq sent on cur; 0 after each (re)join
	joins        int             // successful joins so far
	downSince    time.Time       // when we last left the session
	dropping     bool            // the drop warning of this outage is logged
	dropped      int             // events refused during this outage
	notConnected uint64          // events refused while out, in all
	past         ClientStats     // the counters of connections gone
	leaving      *link           // dropped, its counters not yet in past
}

// NewSession checks cfg and returns a Session; Run starts it.
func NewSession(cfg SessionConfig) (*Session, error) {
	if _, err := wsURL(cfg.URL); err != nil {
		return nil, err
	}
	if cfg.JoinTimeout <= 0 {
		cfg.JoinTimeout = defaultJoinTimeout
	}
	cfg.Backoff = cfg.Backoff.withDefaults()
	if cfg.OnEvent == nil {
		cfg.OnEvent = func(Broadcast) {}
	}
	if cfg.OnPresence == nil {
		cfg.OnPresence = func(Presence) {}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Session{cfg: cfg, log: cfg.Logger, room: cfg.Room, downSince: time.Now(),
		clock: NewClockEstimator(ClockConfig{})}, nil
}

// Room returns the room code: the relay's spelling once joined, and the
// generated code after creating a session without one.
func (s *Session) Room() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.room
}

// ID returns our socket id (our userId and senderId) while in the
// session, and "" while not.
func (s *Session) ID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.id
}

// Participants returns the members of the session, us included, as
// the relay last told us; nil while out of the session.
func (s *Session) Participants() []Participant {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.participants)
}

// Broadcast sends an event to the other members without blocking.
// payload is JSON (nil for none). Each membership numbers its events
// seq 1, 2, 3...: a rejoin starts over, as the relay gives us a new
// senderId, so (senderId, seq) names each event and a gap is a loss.
// While out of the session it returns ErrNotConnected, logging one
// warning per outage. When the connection backs up, the oldest queued
// event is dropped and counted (Stats).
func (s *Session) Broadcast(eventName string, payload []byte) error {
	return s.broadcast(eventName, payload, releasequeue.Plain, "")
}

// BroadcastHold is Broadcast for an event that holds or releases key
// (see Client.EmitHold): a release is never dropped while we are in the
// session, and is not sent when what it ends never left. A release
// after a rejoin ends nothing: the relay told the others we left, and
// they released what we held.
func (s *Session) BroadcastHold(eventName string, payload []byte, key string, release bool) error {
	kind := releasequeue.Start
	if release {
		kind = releasequeue.Release
	}
	return s.broadcast(eventName, payload, kind, key)
}

func (s *Session) broadcast(eventName string, payload []byte, kind releasequeue.Kind, key string) error {
	if !validEventName(eventName) {
		return fmt.Errorf("broadcast %q: an event name is 1 to 64 letters, digits or _ : . -", eventName)
	}
	if len(payload) > 0 && !json.Valid(payload) {
		return fmt.Errorf("broadcast %s: payload is not valid JSON", eventName)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur != nil {
		arg := appendBroadcastArg(nil, s.room, eventName, payload, s.seq+1)
		err := s.cur.c.enqueue(kind, key, AppendEvent(nil, -1, "event:broadcast", arg))
		if err == nil {
			s.seq++
			return nil
		}
		if !errors.Is(err, ErrClosed) {
			return fmt.Errorf("broadcast %s: %w", eventName, err)
		}
	}
	s.dropped++
	s.notConnected++
	if !s.dropping {
		s.dropping = true
		s.log.Warn("relay unreachable: dropping events until reconnected")
	}
	return ErrNotConnected
}

// SessionStats count what a Session did with the events it was given.
type SessionStats struct {
	Joins int // successful joins: 1 + the rejoins
	// NotConnected counts events refused while out of the session.
	NotConnected uint64
	// The send queues of every connection so far, summed.
	ClientStats
}

// SendDrops reports what the send queues of every connection so far did
// instead of sending: events dropped oldest-first on overflow, releases
// merged into a later release of their key, and releases not sent
// because what they ended never left. Plain numbers, so that a bridge
// can read them without importing this package.
func (s *Session) SendDrops() (overflow, coalesced, unsounded uint64) {
	st := s.Stats()
	return st.Dropped, st.Coalesced, st.Unsounded
}

// Stats returns the session's counters.
func (s *Session) Stats() SessionStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := SessionStats{Joins: s.joins, NotConnected: s.notConnected, ClientStats: s.past}
	for _, l := range []*link{s.cur, s.leaving} {
		if l != nil {
			st.ClientStats = st.ClientStats.add(l.c.Stats())
		}
	}
	return st
}

// appendBroadcastArg appends {roomCode, eventName, payload, seq}.
func appendBroadcastArg(b []byte, room, name string, payload []byte, seq int64) []byte {
	b = append(b, `{"roomCode":`...)
	b = appendJSONString(b, room)
	b = append(b, `,"eventName":`...)
	b = appendJSONString(b, name)
	if len(payload) > 0 {
		b = append(b, `,"payload":`...)
		b = append(b, payload...)
	}
	b = append(b, `,"seq":`...)
	b = strconv.AppendInt(b, seq, 10)
	return append(b, '}')
}
