package relay

import (
	"errors"
	"strconv"
	"time"
)

// tokenBucket limits one connection's event rate: rate tokens per second
// refill a bucket of burst tokens, and each event takes one. Owned by the
// socket's inbound handler (guarded by socket.inMu).
type tokenBucket struct {
	rate   float64 // tokens per second; 0 means unlimited
	burst  float64
	tokens float64
	last   time.Time
}

func newTokenBucket(rate float64, burst int, now time.Time) tokenBucket {
	return tokenBucket{rate: rate, burst: float64(burst), tokens: float64(burst), last: now}
}

// allow takes a token if one is available at now.
func (b *tokenBucket) allow(now time.Time) bool {
	if b.rate <= 0 {
		return true
	}
	b.tokens += now.Sub(b.last).Seconds() * b.rate
	b.last = now
	if b.tokens > b.burst {
		b.tokens = b.burst
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// maxEventName is the longest eventName accepted.
const maxEventName = 64

// validEventName reports whether name is 1 to 64 letters, digits or
// "_ : . -".
func validEventName[S string | []byte](name S) bool {
	if len(name) == 0 || len(name) > maxEventName {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '_' || c == ':' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// maxSeq is the largest seq accepted: 2^53, the largest integer a
// JavaScript number holds exactly.
const maxSeq = 1 << 53

// validSeq reports whether seq, raw JSON, is absent, null, or a
// non-negative integer of at most 2^53 written in plain digits (as
// JavaScript writes such a number): anything else is refused, never
// relayed.
func validSeq(seq []byte) bool {
	if len(seq) == 0 || string(seq) == "null" {
		return true
	}
	if len(seq) > 16 || !allDigits(seq) || (len(seq) > 1 && seq[0] == '0') {
		return false // 2^53 has 16 digits
	}
	v, err := strconv.ParseUint(string(seq), 10, 64)
	return err == nil && v <= maxSeq
}

// relayEnvelope bounds what a relayed event:broadcast adds to its
// payload: the packet prefix and field names (about 80 bytes), eventName
// (64), senderId (20), seq (16 digits) and serverTime (about 20).
const relayEnvelope = 512

// maxRelayedPacket is the largest event:broadcast the relay sends: the
// event limit counts the whole relayed packet, whose only unbounded part
// is the payload.
func (s *Server) maxRelayedPacket() int { return s.cfg.MaxEventPayload + relayEnvelope }

// controlRate and controlBurst shape each connection's second token
// bucket, for what carries no event: unsolicited Engine.IO pongs, noops
// and websocket ping frames. The pong that answers the relay's ping is
// free (a short PingInterval never spends it); a client sends a noop or
// two while upgrading; a few a second is plenty.
const (
	controlRate  = 5
	controlBurst = 20
)

// errControlFlood closes a connection whose pongs, noops or ping frames
// run past their budget: unlike an event over the limit, there is
// nothing to refuse politely, and answering each would cost the relay.
var errControlFlood = errors.New("pong, noop or ping flood: over the control budget")

// allowControl charges one pong, noop or ping frame to the control
// bucket; false past it, counted as a refusal (the caller closes the
// connection).
func (s *socket) allowControl() bool {
	s.inMu.Lock()
	ok := s.control.allow(s.srv.cfg.Now())
	s.inMu.Unlock()
	if !ok {
		s.srv.refuse(s.addr, refuseFlood)
	}
	return ok
}
