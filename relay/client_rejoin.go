package relay

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

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

// fatal reports whether err is one that retrying cannot change: a relay
// answer bad_request (an invalid room code, name or argument) or
// forbidden (a wrong secret, a token for another session), a refused
// CONNECT (a missing, expired or invalid access token), or a relay whose
// TLS certificate does not verify (*TLSError). Every other error,
// session_full, rate_limited and network errors included, is retried.
func fatal(err error) bool {
	var re *RelayError
	var refused *ConnectRefusedError
	var te *TLSError
	return errors.As(err, &refused) || errors.As(err, &te) ||
		errors.As(err, &re) && (re.Code == CodeBadRequest || re.Code == CodeForbidden)
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

// Run keeps the session's membership up until ctx ends, then leaves the
// session and returns nil. It returns early only with an error that
// retrying cannot fix (see fatal): a *RelayError with code bad_request
// or forbidden, a *ConnectRefusedError or a *TLSError. Run may be called
// once.
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
	c, err := Dial(jctx, ClientConfig{URL: s.cfg.URL, Token: s.cfg.Token, OnEvent: l.onEvent, Logger: s.log, TLS: s.cfg.TLS})
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
	Secret   string `json:"secret,omitempty"`
}

// enter joins room, creating it when the relay does not know it (or
// when room is ""), and waits for the relay's answer.
func (l *link) enter(ctx context.Context, room string) error {
	create := room == ""
	req := sessionRequest{RoomCode: room, Name: l.s.cfg.Name, Kind: l.s.cfg.Kind, Secret: l.s.cfg.Secret}
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
