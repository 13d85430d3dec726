package relay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"
)

// Error codes sent in `error {message, code}`.
const (
	CodeBadRequest      = "bad_request"
	CodeSessionNotFound = "session_not_found"
	CodeSessionExists   = "session_exists"
	CodeSessionFull     = "session_full"
	CodeNotInSession    = "not_in_session"
	CodePayloadTooLarge = "payload_too_large"
	CodeRateLimited     = "rate_limited"
	CodeForbidden       = "forbidden"
)

// maxNameLen bounds a participant's display name, in runes.
const maxNameLen = 64

type handler func(s *socket, arg json.RawMessage, ack int64)

var handlers = map[string]handler{
	"session:create":  (*socket).onCreate,
	"session:join":    (*socket).onJoin,
	"session:leave":   (*socket).onLeave,
	"event:broadcast": (*socket).onBroadcast,
	"clock:sync":      (*socket).onClockSync,
}

// handleEvent decodes an EVENT packet and runs its handler. The
// arguments stay in an array on the stack: an event:broadcast is handled
// without allocating (see onBroadcast).
func (s *socket) handleEvent(p Packet) error {
	var buf [inlineArgs]json.RawMessage
	name, args, err := decodeEvent(p, buf[:0])
	if err != nil {
		return err
	}
	s.dispatch(name, args, p.ID)
	return nil
}

// dispatch runs the handler of the event name with args.
func (s *socket) dispatch(name []byte, args []json.RawMessage, ack int64) {
	h, ok := handlers[string(name)]
	if !ok {
		// Ignored, as a stock Socket.IO relay does: pages may emit
		// events of their own, and the story's page alerts on errors.
		s.srv.stats.unknown.Add(1)
		s.log.Debug("unknown event ignored", "event", truncate(string(name), maxEventName))
		return
	}
	var arg json.RawMessage
	if len(args) > 0 {
		arg = args[0]
	}
	h(s, arg, ack)
}

// sessionArg is the argument of session:create and session:join.
type sessionArg struct {
	RoomCode *string `json:"roomCode"`
	Name     *string `json:"name"`
	Kind     *string `json:"kind"`
	Secret   *string `json:"secret"`
}

// parseSessionArg decodes arg and checks its fields; the participant it
// returns is ready to join, under the token's name when it has one.
func (s *socket) parseSessionArg(arg json.RawMessage, needCode bool) (string, Participant, string, bool) {
	var a sessionArg
	if len(arg) > 0 && string(arg) != "null" {
		if err := json.Unmarshal(arg, &a); err != nil {
			s.sendError(CodeBadRequest, "the argument must be an object like {roomCode, name}")
			return "", Participant{}, "", false
		}
	}
	p := Participant{ID: s.sid, Name: "Player", JoinedAt: s.srv.cfg.Now().UnixMilli()}
	if a.Name != nil && *a.Name != "" {
		p.Name = truncate(*a.Name, maxNameLen)
	}
	if s.grant.Name != "" {
		p.Name = s.grant.Name
	}
	if a.Kind != nil {
		p.Kind = truncate(*a.Kind, 16)
	}
	var secret string
	if a.Secret != nil {
		if secret = *a.Secret; len(secret) > maxSecretLen {
			s.sendError(CodeBadRequest, fmt.Sprintf("a secret is at most %d bytes", maxSecretLen))
			return "", p, "", false
		}
	}
	if a.RoomCode == nil || *a.RoomCode == "" {
		if needCode {
			s.sendError(CodeBadRequest, "roomCode is required")
		}
		return "", p, secret, !needCode
	}
	code, ok := normalizeRoomCode(*a.RoomCode)
	if !ok {
		s.sendError(CodeBadRequest, "a room code is 3 to 32 letters, digits or '-'")
	}
	return code, p, secret, ok
}

func (s *socket) onCreate(arg json.RawMessage, _ int64) {
	code, p, secret, ok := s.parseSessionArg(arg, false)
	if !ok {
		return
	}
	if code, ok = s.sessionCodeFor(code); !ok {
		return
	}
	limited, left := s.srv.joins.blocked(s.addr, s.srv.cfg.Now())
	m, err := s.srv.hub.create(s, code, p, access{secret: secret, limited: limited})
	if err != nil {
		s.refuseEntry(err, code, limited, left)
		return
	}
	s.log.Info("session created", "room", m.room.code, "name", p.Name)
	s.emitJSON("session:created", struct {
		RoomCode     string        `json:"roomCode"`
		UserID       string        `json:"userId"`
		Participants []Participant `json:"participants"`
	}{m.room.code, s.sid, m.participants()})
}

func (s *socket) onJoin(arg json.RawMessage, _ int64) {
	code, p, secret, ok := s.parseSessionArg(arg, true)
	if !ok {
		return
	}
	if code, ok = s.sessionCodeFor(code); !ok {
		return
	}
	limited, left := s.srv.joins.blocked(s.addr, s.srv.cfg.Now())
	m, err := s.srv.hub.join(s, code, p, access{secret: secret, limited: limited})
	if err != nil {
		s.refuseEntry(err, code, limited, left)
		return
	}
	s.log.Info("session joined", "room", m.room.code, "name", m.info.Name)
	s.emitJSON("session:joined", struct {
		RoomCode     string        `json:"roomCode"`
		Participants []Participant `json:"participants"`
		UserID       string        `json:"userId"`
	}{m.room.code, m.participants(), s.sid})
}

func (s *socket) onLeave(arg json.RawMessage, _ int64) {
	var a struct {
		RoomCode string `json:"roomCode"`
	}
	_ = json.Unmarshal(arg, &a) // a missing code leaves the current session
	m := s.member()
	code, _ := normalizeRoomCode(a.RoomCode)
	if m == nil || (a.RoomCode != "" && code != m.room.code) {
		s.sendError(CodeNotInSession, "you are not in that session")
		return
	}
	left := s.srv.hub.leave(s)
	s.log.Info("session left", "room", left)
	s.emitJSON("session:left", struct {
		RoomCode string `json:"roomCode"`
	}{left})
}

func (s *socket) sendSessionError(err error, code string) {
	switch {
	case errors.Is(err, errSessionNotFound):
		s.sendError(CodeSessionNotFound, fmt.Sprintf("session %s does not exist", code))
	case errors.Is(err, errSessionExists):
		s.sendError(CodeSessionExists, fmt.Sprintf("session %s already exists: join it or pick another code", code))
	case errors.Is(err, errNoEntry):
		s.sendError(CodeForbidden, fmt.Sprintf("session %s is private: the secret is missing or wrong", code))
	case errors.Is(err, errSessionFull):
		s.sendError(CodeSessionFull, fmt.Sprintf("session %s is full (%d members)", code, s.srv.cfg.MaxMembers))
	}
}

// broadcastArg is the argument of event:broadcast, as slices of the
// packet (a string with escapes aside): nothing is copied until the
// relayed packet is built. Payload and seq are kept as raw JSON: the
// relay passes them through untouched.
type broadcastArg struct {
	RoomCode  []byte // unquoted; empty when absent or null
	EventName []byte // unquoted; empty when absent or null
	Payload   []byte
	Seq       []byte
}

// parse reads {roomCode, eventName, payload, seq} in one pass; other
// members are skipped. Names are matched exactly, as PROTOCOL.md spells
// them; a member given twice takes its last value, as in JavaScript.
func (a *broadcastArg) parse(arg []byte) error {
	if len(arg) == 0 {
		return errNotObject
	}
	r := readJSON(arg)
	defer r.release()
	if !r.open('{') {
		return errNotObject
	}
	for r.more() {
		name, err := r.name()
		if err != nil {
			return err
		}
		switch string(name) {
		case "roomCode":
			a.RoomCode, err = r.str()
		case "eventName":
			a.EventName, err = r.str()
		case "payload":
			a.Payload, err = r.value()
		case "seq":
			a.Seq, err = r.value()
		default:
			err = r.dec.SkipValue()
		}
		if err != nil {
			return err
		}
	}
	return r.end()
}

var errNotObject = errors.New("not an object")

// onBroadcast relays an event to the other members of the sender's
// session. In the steady state it allocates nothing: the argument is
// read in place, and the relayed packet is built in a borrowed buffer
// (relayedPacket) that receivers copy only when they must queue it.
func (s *socket) onBroadcast(arg json.RawMessage, _ int64) {
	s.srv.stats.eventsIn.Add(1)
	var a broadcastArg
	if err := a.parse(arg); err != nil {
		s.sendError(CodeBadRequest, "event:broadcast takes {roomCode, eventName, payload}")
		return
	}
	if !s.checkBroadcast(&a) {
		return
	}
	m := s.member()
	if m == nil || !m.room.is(a.RoomCode) {
		s.srv.stats.notMember.Add(1)
		s.srv.log.Warn(fmt.Sprintf("User %s tried to broadcast to %s but is not a member", s.sid, truncate(string(a.RoomCode), 40)))
		return
	}
	p := borrowRelayedPacket()
	defer p.release()
	p.b = s.encodeBroadcast(p.b, &a)
	if len(p.b) > s.srv.maxRelayedPacket() { // unreachable while every field is checked: a guard
		s.srv.stats.tooLarge.Add(1)
		s.sendError(CodePayloadTooLarge, fmt.Sprintf("the relayed event is %d bytes; the limit is %d", len(p.b), s.srv.maxRelayedPacket()))
		return
	}
	n := m.relay(&p, endsASoundBytes(a.EventName, a.Payload))
	s.srv.stats.deliveries.Add(uint64(n))
	if s.srv.log.Enabled(context.Background(), slog.LevelInfo) {
		s.srv.log.Info(fmt.Sprintf("Event broadcasted in %s: %s from %s", m.room.code, a.EventName, s.sid))
	}
}

// endsASoundBytes is endsASound for an event name read from the packet.
// The names it knows are short: a longer one is no release, and a
// shorter one is converted on the stack.
func endsASoundBytes(eventName, payload []byte) bool {
	return len(eventName) <= len("control_change") && endsASound(string(eventName), payload)
}

// checkBroadcast validates the shape and size of an event:broadcast:
// every field that is relayed is checked, so the relayed packet stays
// within maxRelayedPacket.
func (s *socket) checkBroadcast(a *broadcastArg) bool {
	switch {
	case !validEventName(a.EventName):
		s.sendError(CodeBadRequest, "eventName must be 1 to 64 letters, digits or _ : . -")
	case !validSeq(a.Seq):
		s.sendError(CodeBadRequest, "seq must be a non-negative integer of at most 2^53")
	case len(a.Payload) > s.srv.cfg.MaxEventPayload:
		s.srv.stats.tooLarge.Add(1)
		s.sendError(CodePayloadTooLarge, fmt.Sprintf("payload is %d bytes; the limit is %d", len(a.Payload), s.srv.cfg.MaxEventPayload))
	default:
		return true
	}
	return false
}

// encodeBroadcast appends the relayed packet, built once for every
// receiver, to dst.
func (s *socket) encodeBroadcast(dst []byte, a *broadcastArg) []byte {
	// The fixed parts (prefix, names, sender id, serverTime) take about
	// 130 bytes: size it once, so it is never grown.
	b := slices.Grow(dst, 160+len(a.EventName)+len(a.Payload)+len(a.Seq))
	b = append(b, `42["event:broadcast",{"eventName":`...)
	b = appendJSONString(b, a.EventName)
	if len(a.Payload) > 0 { // an absent payload stays absent
		b = append(b, `,"payload":`...)
		b = append(b, a.Payload...)
	}
	b = append(b, `,"senderId":`...)
	b = appendJSONString(b, s.sid)
	if len(a.Seq) > 0 && string(a.Seq) != "null" {
		b = append(b, `,"seq":`...)
		b = append(b, a.Seq...)
	}
	b = append(b, `,"serverTime":`...)
	b = appendMillis(b, s.srv.cfg.Now())
	return append(b, "}]"...)
}

// onClockSync acks {t0, serverTime}. Without an ack there is nobody to
// answer; without a numeric t0 the ack carries serverTime alone.
func (s *socket) onClockSync(arg json.RawMessage, ack int64) {
	if ack < 0 {
		return
	}
	var a struct {
		T0 json.RawMessage `json:"t0"`
	}
	b := []byte(`{`)
	if json.Unmarshal(arg, &a) == nil && isJSONNumber(a.T0) {
		b = append(b, `"t0":`...)
		b = append(b, a.T0...)
		b = append(b, ',')
	}
	b = append(b, `"serverTime":`...)
	b = appendMillis(b, s.srv.cfg.Now())
	s.send(AppendAck(nil, ack, append(b, '}')), false)
}

// sendError sends `error {message, code}` to this socket only.
func (s *socket) sendError(code, message string) {
	s.srv.stats.errors.Add(1)
	s.log.Debug("client error", "code", code, "message", message)
	s.emitJSON("error", struct {
		Message string `json:"message"`
		Code    string `json:"code"`
	}{message, code})
}

func (s *socket) emitJSON(name string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only our own structs get here
	}
	s.send(AppendEvent(nil, -1, name, b), false)
}

// appendMillis appends t as unix milliseconds with microsecond precision.
func appendMillis(b []byte, t time.Time) []byte {
	return strconv.AppendFloat(b, float64(t.UnixMicro())/1000, 'f', -1, 64)
}

func isJSONNumber(b json.RawMessage) bool {
	var f float64
	return len(b) > 0 && (b[0] == '-' || b[0] >= '0' && b[0] <= '9') && json.Unmarshal(b, &f) == nil
}

// truncate cuts s to at most n runes, keeping UTF-8 valid.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}
