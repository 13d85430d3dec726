package relay

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// link is one connection and its membership.
type link struct {
	s       *Session
	c       *Client    // set under s.mu before the join is sent
	replies chan error // the join's outcome, nil for joined; never blocks the reader
	closing bool       // guarded by s.mu: drop has begun, never make l current

	joined bool // owned by the client's reader goroutine
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
	l.presence(PresenceJoined, r.User.ID, func(ps []Participant) ([]Participant, Participant) {
		if i := slices.IndexFunc(ps, func(p Participant) bool { return p.ID == r.User.ID }); i >= 0 {
			ps[i] = r.User
			return ps, r.User
		}
		return append(ps, r.User), r.User
	})
}

func (l *link) onUserLeft(arg json.RawMessage) {
	var r struct {
		UserID string `json:"userId"`
	}
	if err := json.Unmarshal(arg, &r); err != nil || r.UserID == "" {
		return
	}
	l.presence(PresenceLeft, r.UserID, func(ps []Participant) ([]Participant, Participant) {
		var who Participant
		ps = slices.DeleteFunc(ps, func(p Participant) bool {
			if p.ID == r.UserID {
				who = p
				return true
			}
			return false
		})
		return ps, who
	})
}

// presence applies change to the session's participants while l is its
// current link (a stale link's news is dropped), then tells OnPresence,
// outside the lock, who joined or left.
func (l *link) presence(kind PresenceKind, id string, change func([]Participant) ([]Participant, Participant)) {
	s := l.s
	s.mu.Lock()
	if s.cur != l {
		s.mu.Unlock()
		return
	}
	var who Participant
	s.participants, who = change(s.participants)
	room := s.room
	s.mu.Unlock()
	s.cfg.OnPresence(Presence{Kind: kind, Room: room, UserID: id, Participant: who})
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
