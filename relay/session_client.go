package relay

import (
	"context"
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

const (
	defaultJoinTimeout = 5 * time.Second
	defaultMinBackoff  = 250 * time.Millisecond
	defaultMaxBackoff  = 10 * time.Second

	// outageWarnAfter is how long an outage lasts before Run warns.
	outageWarnAfter = 30 * time.Second
	// stableAfter is how long a membership must last for the backoff to
	// start over: a relay that drops us right after every join is
	// retried ever more slowly instead of in a tight loop.
	stableAfter = 30 * time.Second
	// maxJoinFlips bounds the join / create ping-pong of one attempt,
	// when others create and delete the room meanwhile.
	maxJoinFlips = 4
)

// RelayError is an `error {message, code}` the relay sent in answer to
// a join or create. Its Error is the relay's message, unchanged.
type RelayError struct {
	Code    string // one word for programs, e.g. CodeBadRequest
	Message string // for people, as the relay wrote it
}

func (e *RelayError) Error() string { return e.Message }

// fatal reports whether err is a relay answer that retrying cannot
// change: bad_request (an invalid room code, name or argument). Every
// other error, session_full and network errors included, is retried.
func fatal(err error) bool {
	var re *RelayError
	return errors.As(err, &re) && re.Code == CodeBadRequest
}

// missing reports whether err says that the session a JoinOnly Session
// first asked for does not exist: a watcher that never got in has nothing
// to wait for. After a first join it is retried (a relay that restarted
// has lost its sessions until their host rejoins).
func (s *Session) missing(err error) bool {
	var re *RelayError
	if !s.cfg.JoinOnly || !errors.As(err, &re) || re.Code != CodeSessionNotFound {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.joins == 0
}

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
	// JoinTimeout bounds one attempt to connect and join; default 5s.
	JoinTimeout time.Duration
	// JoinOnly joins Room and never creates it: for watchers (monitor,
	// record) a code nobody hosts is an error, given by the relay.
	JoinOnly bool
	// Backoff spaces reconnection attempts; zero fields take defaults.
	Backoff Backoff
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
// Concurrency: Broadcast, Room, ID and Participants may be called from
// any goroutine. Run owns the connections: each one's reader goroutine
// runs OnEvent and OnPresence, except PresenceDisconnected, which Run
// reports after that reader has stopped. The callbacks are therefore
// never called concurrently, arrive in the relay's order, and never after
// Run returns; they must not block. mu guards the membership state.
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

// link is one connection and its membership.
type link struct {
	s       *Session
	c       *Client    // set under s.mu before the join is sent
	replies chan error // the join's outcome, nil for joined; never blocks the reader
	closing bool       // guarded by s.mu: drop has begun, never make l current

	joined bool // owned by the client's reader goroutine
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

// Run keeps the session's membership up until ctx ends, then leaves the
// session and returns nil. It returns early only with an error that
// retrying cannot fix: a *RelayError with code bad_request. Run may be
// called once.
func (s *Session) Run(ctx context.Context) error {
	if !s.running.CompareAndSwap(false, true) {
		return errors.New("relay: Session.Run called twice")
	}
	attempt := 0 // backoff step: failures since a stable membership
	out := outage{since: time.Now()}
	for {
		l, err := s.join(ctx)
		if err == nil {
			joined := time.Now()
			err = s.stay(ctx, l)
			if ctx.Err() == nil {
				s.log.Info("disconnected from relay", "room", s.Room(), "reason", err)
			}
			if time.Since(joined) >= stableAfter {
				attempt = 0
			}
			out = outage{since: time.Now()}
		} else if ctx.Err() == nil {
			if fatal(err) || s.missing(err) {
				return err
			}
			out.failed(s.log, s.Room(), err)
		}
		if ctx.Err() != nil {
			return nil
		}
		d := s.cfg.Backoff.Delay(attempt)
		attempt++
		s.log.Debug("reconnecting to relay", "attempt", attempt, "in", d)
		if !sleep(ctx, d) {
			return nil
		}
	}
}

// outage is one spell out of the session, for the logs. Owned by Run.
type outage struct {
	since  time.Time
	tries  int  // failed attempts to get back in
	warned bool // the long-outage warning is logged
}

// failed logs a failed attempt: the first of an outage at info, the
// others at debug, and one warning once the outage passes
// outageWarnAfter.
func (o *outage) failed(log *slog.Logger, room string, err error) {
	o.tries++
	level := slog.LevelDebug
	if o.tries == 1 {
		level = slog.LevelInfo
	}
	log.Log(context.Background(), level, "cannot join session, will retry", "room", room, "try", o.tries, "err", err)
	if down := time.Since(o.since); !o.warned && down >= outageWarnAfter {
		o.warned = true
		log.Warn("relay unreachable, still retrying", "room", room, "for", down.Round(time.Second), "err", err)
	}
}

// sleep waits d or until ctx ends; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// join connects and enters the room, all within JoinTimeout. On success
// the returned link is current.
func (s *Session) join(ctx context.Context) (*link, error) {
	jctx, cancel := context.WithTimeout(ctx, s.cfg.JoinTimeout)
	defer cancel()
	l := &link{s: s, replies: make(chan error, 4)}
	c, err := Dial(jctx, ClientConfig{URL: s.cfg.URL, OnEvent: l.onEvent, Logger: s.log})
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	l.c = c
	room := s.room
	s.mu.Unlock()
	if err := l.enter(jctx, room); err != nil {
		if ctx.Err() != nil {
			// Run is ending, maybe as the relay let us in: leave.
			s.drop(l, nil, true)
		} else {
			s.drop(l, err, false)
		}
		return nil, err
	}
	return l, nil
}

// sessionRequest is the argument of session:join and session:create.
type sessionRequest struct {
	RoomCode string `json:"roomCode,omitempty"`
	Name     string `json:"name,omitempty"`
	Kind     string `json:"kind,omitempty"`
}

// enter joins room, creating it when the relay does not know it (or
// when room is ""), and waits for the relay's answer.
func (l *link) enter(ctx context.Context, room string) error {
	create := room == ""
	req := sessionRequest{RoomCode: room, Name: l.s.cfg.Name, Kind: l.s.cfg.Kind}
	for flips := 0; ; flips++ {
		event := "session:join"
		if create {
			event = "session:create"
		}
		if err := l.c.Emit(event, req); err != nil {
			return err
		}
		var err error
		select {
		case err = <-l.replies:
		case <-l.c.Done():
			return connErr(l.c)
		case <-ctx.Done():
			return fmt.Errorf("%s %s: no answer within %v", event, room, l.s.cfg.JoinTimeout)
		}
		var re *RelayError
		switch {
		case err == nil:
			return nil
		case room == "" || flips >= maxJoinFlips || !errors.As(err, &re):
			return err
		case re.Code == CodeSessionNotFound && !create && !l.s.cfg.JoinOnly, re.Code == CodeSessionExists && create:
			create = !create
		default:
			return err
		}
	}
}

// stay waits until the connection drops or ctx ends, then tears it
// down; it returns why the connection ended, nil when ctx ended.
func (s *Session) stay(ctx context.Context, l *link) error {
	// The clock is synced on every connection we are in, by a goroutine
	// stopped and waited for before the connection is dropped.
	syncCtx, stopSync := context.WithCancel(ctx)
	synced := make(chan struct{})
	go func() { defer close(synced); s.syncClock(syncCtx, l.c) }()
	stop := func() { stopSync(); <-synced }
	select {
	case <-l.c.Done():
		stop()
		err := connErr(l.c)
		s.drop(l, err, false)
		return err
	case <-ctx.Done():
		stop()
		s.drop(l, nil, true)
		return nil
	}
}

// Clock sync pace: a quick burst to get an estimate, then a steady beat.
const (
	clockBurst      = 8
	clockBurstEvery = 250 * time.Millisecond
	clockEvery      = 2 * time.Second
)

// syncClock feeds clock:sync round trips on c to the Session's clock
// estimator until ctx ends or c closes.
func (s *Session) syncClock(ctx context.Context, c *Client) {
	for i := 0; ; i++ {
		cctx, cancel := context.WithTimeout(ctx, clockEvery)
		smp, err := SyncClock(cctx, c, time.Now)
		cancel()
		switch {
		case ctx.Err() != nil, errors.Is(err, ErrClosed):
			return
		case err == nil:
			s.mu.Lock()
			s.clock.Add(smp)
			s.mu.Unlock()
		default:
			s.log.Debug("clock sync failed", "err", err)
		}
		d := clockEvery
		if i < clockBurst {
			d = clockBurstEvery
		}
		if !sleep(ctx, d) {
			return
		}
	}
}

// RelayTime converts a local time to the relay's clock, in unix ms, as
// estimated by clock:sync; before the first estimate it is local time.
// The estimate outlives reconnects.
func (s *Session) RelayTime(t time.Time) float64 {
	local := float64(t.UnixMicro()) / 1000
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.clock.RelayTime(local)
}

// ClockStats reports the clock estimate.
func (s *Session) ClockStats() ClockStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.clock.Stats()
}

// drop takes l out of the session, leaving the room first when leave
// is set (best effort), closes its connection and waits for its reader,
// then reports PresenceDisconnected if l was in the session. Closing
// before reporting makes the report the last callback of l, and the
// closing flag makes it the only one: a join answered meanwhile no
// longer counts.
func (s *Session) drop(l *link, reason error, leave bool) {
	s.mu.Lock()
	l.closing = true
	room := s.room
	in := s.cur == l
	if in {
		s.cur, s.id, s.participants = nil, "", nil
		s.downSince, s.leaving = time.Now(), l
	}
	s.mu.Unlock()
	if in && leave {
		_ = l.c.Emit("session:leave", sessionRequest{RoomCode: room})
	}
	l.c.Close() // flushes the leave, bounded by clientCloseWait
	if in {
		s.mu.Lock()
		s.past, s.leaving = s.past.add(l.c.Stats()), nil
		s.mu.Unlock()
	}
	if in {
		s.cfg.OnPresence(Presence{Kind: PresenceDisconnected, Room: room, Err: reason})
	}
}

// connErr is why c ended.
func connErr(c *Client) error {
	if err := c.Err(); err != nil {
		return err
	}
	return ErrClosed
}

// onEvent runs on the client's reader goroutine.
func (l *link) onEvent(ev Event) {
	var arg json.RawMessage
	if len(ev.Args) > 0 {
		arg = ev.Args[0]
	}
	switch ev.Name {
	case "event:broadcast":
		if l.joined {
			l.onBroadcast(arg)
		}
	case "session:joined", "session:created":
		l.onJoined(arg, ev.Name == "session:created")
	case "session:user-joined":
		l.onUserJoined(arg)
	case "session:user-left":
		l.onUserLeft(arg)
	case "error":
		l.onError(arg)
	}
}

func (l *link) onBroadcast(arg json.RawMessage) {
	var b Broadcast
	if err := json.Unmarshal(arg, &b); err != nil {
		l.s.log.Debug("bad event:broadcast from relay dropped", "err", err)
		return
	}
	b.Received = time.Now()
	l.s.cfg.OnEvent(b)
}

// onJoined makes l current with the membership the relay reports.
func (l *link) onJoined(arg json.RawMessage, created bool) {
	var r struct {
		RoomCode     string        `json:"roomCode"`
		UserID       string        `json:"userId"`
		Participants []Participant `json:"participants"`
	}
	if l.joined {
		return // a second answer: the first one counts
	}
	if err := json.Unmarshal(arg, &r); err != nil || r.RoomCode == "" {
		l.reply(fmt.Errorf("bad session:joined from relay: %s", truncate(string(arg), 80)))
		return
	}
	s := l.s
	s.mu.Lock()
	if l.closing {
		s.mu.Unlock()
		return
	}
	s.cur, s.room, s.id, s.participants, s.seq = l, r.RoomCode, r.UserID, r.Participants, 0
	rejoin, dropped, down := s.joins > 0, s.dropped, time.Since(s.downSince)
	s.joins++
	s.dropped, s.dropping = 0, false
	s.mu.Unlock()
	l.joined = true
	msg := "joined session"
	if created {
		msg = "created session"
	}
	attrs := []any{"room", r.RoomCode, "participants", len(r.Participants), "id", r.UserID, "relay", s.cfg.URL}
	if rejoin {
		attrs = append(attrs, "outage", down.Round(time.Millisecond), "dropped", dropped)
	}
	s.log.Info(msg, attrs...)
	s.cfg.OnPresence(Presence{Kind: PresenceConnected, Room: r.RoomCode, Participants: slices.Clone(r.Participants)})
	l.reply(nil)
}

func (l *link) onUserJoined(arg json.RawMessage) {
	var r struct {
		User Participant `json:"user"`
	}
	if err := json.Unmarshal(arg, &r); err != nil || r.User.ID == "" {
		return
	}
	s := l.s
	s.mu.Lock()
	if s.cur != l {
		s.mu.Unlock()
		return
	}
	i := slices.IndexFunc(s.participants, func(p Participant) bool { return p.ID == r.User.ID })
	if i >= 0 {
		s.participants[i] = r.User
	} else {
		s.participants = append(s.participants, r.User)
	}
	room := s.room
	s.mu.Unlock()
	s.cfg.OnPresence(Presence{Kind: PresenceJoined, Room: room, UserID: r.User.ID, Participant: r.User})
}

func (l *link) onUserLeft(arg json.RawMessage) {
	var r struct {
		UserID string `json:"userId"`
	}
	if err := json.Unmarshal(arg, &r); err != nil || r.UserID == "" {
		return
	}
	s := l.s
	s.mu.Lock()
	if s.cur != l {
		s.mu.Unlock()
		return
	}
	var who Participant
	s.participants = slices.DeleteFunc(s.participants, func(p Participant) bool {
		if p.ID == r.UserID {
			who = p
			return true
		}
		return false
	})
	room := s.room
	s.mu.Unlock()
	s.cfg.OnPresence(Presence{Kind: PresenceLeft, Room: room, UserID: r.UserID, Participant: who})
}

// onError hands an error to the join waiting for it, or logs it once
// joined (a refused broadcast: payload too large, rate limited...).
func (l *link) onError(arg json.RawMessage) {
	var re RelayError
	var r struct {
		Message string `json:"message"`
		Code    string `json:"code"`
	}
	if json.Unmarshal(arg, &r) == nil {
		re = RelayError{Code: r.Code, Message: r.Message}
	}
	if re.Message == "" {
		re.Message = "relay error: " + truncate(string(arg), 80)
	}
	if !l.joined {
		l.reply(&re)
		return
	}
	l.s.log.Warn("relay refused an event", "code", re.Code, "message", re.Message)
}

// reply hands the join's outcome to enter without blocking the reader.
func (l *link) reply(err error) {
	select {
	case l.replies <- err:
	default: // enter has its answer already
	}
}
