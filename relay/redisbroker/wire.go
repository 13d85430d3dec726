package redisbroker

import (
	"bytes"
	"errors"
	"strconv"
)

// What crosses a session's channel. Every message starts with its kind
// and the id of the node that sent it, so a node skips its own:
//
//	e<node>|<unix µs sent>|<0 or 1: ends a sound>|<the relayed packet>
//	j<node>|<participant JSON>
//	l<node>|<member id>
//
// The relayed packet is the Socket.IO packet the sending node built once
// (senderId, serverTime and seq in it), delivered as it is.
const (
	kindEvent = 'e'
	kindJoin  = 'j'
	kindLeave = 'l'
)

// message is one decoded channel message. Its byte slices alias the
// payload it was decoded from.
type message struct {
	kind    byte
	node    string
	sent    int64  // kindEvent: unix microseconds at the sending node
	release bool   // kindEvent: the event ends a sound
	body    []byte // the packet, the participant JSON or the member id
}

var errBadMessage = errors.New("malformed cluster message")

// appendEvent encodes an event message.
func appendEvent(b []byte, node string, sentMicros int64, release bool, packet []byte) []byte {
	b = append(b, kindEvent)
	b = append(b, node...)
	b = append(b, '|')
	b = strconv.AppendInt(b, sentMicros, 10)
	if release {
		b = append(b, "|1|"...)
	} else {
		b = append(b, "|0|"...)
	}
	return append(b, packet...)
}

// presence encodes a join (body: participant JSON) or leave (body: id).
func presence(kind byte, node, body string) string {
	return string(kind) + node + "|" + body
}

// decodeMessage parses a channel message.
func decodeMessage(p []byte) (message, error) {
	var m message
	if len(p) < 2 {
		return m, errBadMessage
	}
	m.kind = p[0]
	node, rest, ok := bytes.Cut(p[1:], []byte{'|'})
	if !ok || len(node) == 0 {
		return m, errBadMessage
	}
	m.node = string(node)
	switch m.kind {
	case kindJoin, kindLeave:
		m.body = rest
		if len(rest) == 0 {
			return m, errBadMessage
		}
		return m, nil
	case kindEvent:
		return m, m.decodeEvent(rest)
	}
	return m, errBadMessage
}

func (m *message) decodeEvent(rest []byte) error {
	sent, rest, ok := bytes.Cut(rest, []byte{'|'})
	if !ok || len(rest) < 2 || rest[1] != '|' || (rest[0] != '0' && rest[0] != '1') {
		return errBadMessage
	}
	t, err := strconv.ParseInt(string(sent), 10, 64)
	if err != nil {
		return errBadMessage
	}
	m.sent, m.release, m.body = t, rest[0] == '1', rest[2:]
	if len(m.body) == 0 {
		return errBadMessage
	}
	return nil
}

// A stored member is "<node>|<participant JSON>", the value of its field
// in the session's hash.
func storedMember(node string, participantJSON []byte) string {
	return node + "|" + string(participantJSON)
}

func splitStored(v string) (node, participantJSON string, ok bool) {
	i := bytes.IndexByte([]byte(v), '|')
	if i <= 0 {
		return "", "", false
	}
	return v[:i], v[i+1:], true
}
