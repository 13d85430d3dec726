package relay

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// refusedCloseAfter is how long a connection refused for its access
// token stays open after its CONNECT_ERROR: time for the error to reach
// the client, whatever its transport, before the relay closes it.
const refusedCloseAfter = time.Second

// connectAuth is the CONNECT packet's data: socket.io-client's `auth`.
type connectAuth struct {
	Token string `json:"token"`
}

// parseConnectAuth reads the token of a CONNECT's data; "" when there is
// none (no data, not an object, no string token).
func parseConnectAuth(data []byte) string {
	var a connectAuth
	if len(data) == 0 || json.Unmarshal(data, &a) != nil {
		return ""
	}
	return a.Token
}

// authorize checks the access token of a CONNECT when the relay wants
// one, and keeps its claims in s.grant. A refused CONNECT gets a
// CONNECT_ERROR saying why, and the connection is closed
// refusedCloseAfter later. Called with inMu held.
func (s *socket) authorize(data []byte) bool {
	secret := s.srv.cfg.AuthSecret
	if secret == nil {
		return true
	}
	claims, err := VerifyToken(secret, parseConnectAuth(data), s.srv.cfg.Now())
	if err == nil {
		s.grant = claims
		return true
	}
	s.srv.stats.connectsRefused.Add(1)
	s.log.Debug("connect refused", "reason", err)
	s.sendConnectError("/", err.Error())
	if s.refused {
		return false // closing already: more bad CONNECTs do not put it off
	}
	s.refused = true
	s.mu.Lock()
	defer s.mu.Unlock()
	stopTimer(s.connectTimer)
	s.connectTimer = s.srv.afterFunc(refusedCloseAfter, func() { s.close("connect refused: " + err.Error()) })
	return false
}

// sessionCodeFor applies the token's room claim to a create or join of
// code: a create without a code makes the token's session. false: the
// token does not allow code, and the client has been told.
func (s *socket) sessionCodeFor(code string) (string, bool) {
	room := s.grant.Room
	switch {
	case room == "" || code == room:
		return code, true
	case code == "":
		return room, true
	}
	s.sendError(CodeForbidden, fmt.Sprintf("your access token does not allow session %s", code))
	return "", false
}

// refuseEntry answers a create or join that the hub refused. An unknown
// code, a wrong secret and a taken code count against the client
// address's failed joins; over the limit, every such answer is
// rate_limited, which tells nothing about the code.
func (s *socket) refuseEntry(err error, code string, limited bool, left time.Duration) {
	guess := errors.Is(err, errSessionNotFound) || errors.Is(err, errNoEntry) || errors.Is(err, errSessionExists)
	switch {
	case errors.Is(err, errJoinLimited), guess && limited:
		s.srv.stats.joinsLimited.Add(1)
		s.sendError(CodeRateLimited, fmt.Sprintf("too many failed joins from your address: try again in %d s", int(left.Seconds()+0.999)))
		return
	case guess:
		s.srv.stats.failedJoins.Add(1)
		s.srv.joins.fail(s.addr, s.srv.cfg.Now())
	}
	s.sendSessionError(err, code)
}
