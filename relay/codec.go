package relay

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// Engine.IO 4 packet types, the first byte of every Engine.IO packet.
const (
	eioOpen    = '0'
	eioClose   = '1'
	eioPing    = '2'
	eioPong    = '3'
	eioMessage = '4'
	eioUpgrade = '5'
	eioNoop    = '6'
)

// Socket.IO 5 packet types, the first byte of an Engine.IO message.
const (
	sioConnect      = '0'
	sioDisconnect   = '1'
	sioEvent        = '2'
	sioAck          = '3'
	sioConnectError = '4'
	sioBinaryEvent  = '5'
	sioBinaryAck    = '6'
)

// pollSeparator separates Engine.IO packets in one long-polling payload.
const pollSeparator = '\x1e'

// ErrMalformed is returned for a packet that does not follow the
// Engine.IO 4 / Socket.IO 5 grammar.
var ErrMalformed = errors.New("malformed packet")

// Packet is one decoded Socket.IO packet.
type Packet struct {
	Type      byte   // one of '0'..'6'
	Namespace string // "/" when absent on the wire
	ID        int64  // ack id; -1 when absent
	Data      json.RawMessage
}

// Event is the decoded argument list of an EVENT packet.
type Event struct {
	Name string
	Args []json.RawMessage
}

// DecodePacket parses a Socket.IO packet (the body of an Engine.IO
// message, without the leading '4'). The data of an EVENT or ACK is
// validated by DecodeEvent, which every caller of an event goes on to.
func DecodePacket(b []byte) (Packet, error) {
	p := Packet{Namespace: "/", ID: -1}
	if len(b) == 0 || b[0] < sioConnect || b[0] > sioBinaryAck {
		return p, fmt.Errorf("%w: unknown socket.io packet type", ErrMalformed)
	}
	p.Type, b = b[0], b[1:]
	if p.Type == sioBinaryEvent || p.Type == sioBinaryAck {
		i := bytes.IndexByte(b, '-')
		if i <= 0 || !allDigits(b[:i]) {
			return p, fmt.Errorf("%w: bad attachment count", ErrMalformed)
		}
		b = b[i+1:]
	}
	if len(b) > 0 && b[0] == '/' {
		i := bytes.IndexByte(b, ',')
		if i < 0 {
			p.Namespace, b = string(b), nil
		} else {
			p.Namespace, b = string(b[:i]), b[i+1:]
		}
	}
	n := 0
	for n < len(b) && b[n] >= '0' && b[n] <= '9' {
		n++
	}
	if n > 0 {
		id, err := strconv.ParseInt(string(b[:n]), 10, 64)
		if err != nil {
			return p, fmt.Errorf("%w: bad ack id", ErrMalformed)
		}
		p.ID, b = id, b[n:]
	}
	if len(b) > 0 {
		// EVENT and ACK data is checked by DecodeEvent as it splits it:
		// one pass over the bytes instead of two.
		if p.Type != sioEvent && p.Type != sioAck && !json.Valid(b) {
			return p, fmt.Errorf("%w: invalid json", ErrMalformed)
		}
		p.Data = b
	}
	return p, nil
}

// DecodeEvent splits the data of an EVENT or ACK packet, in one
// validating pass; the arguments are slices of p.Data. For an ACK the
// name is empty and every element is an argument.
func DecodeEvent(p Packet) (Event, error) {
	name, args, err := decodeEvent(p, nil)
	if err != nil {
		return Event{}, err
	}
	return Event{Name: string(name), Args: args}, nil
}

// inlineArgs is how many arguments of an inbound event the relay's
// handling decodes without allocating: its events take one.
const inlineArgs = 4

// decodeEvent is DecodeEvent appending the arguments to args, which the
// caller may keep on its stack: the relay's hot path allocates nothing.
// The name is a slice of p.Data unless it has escapes.
func decodeEvent(p Packet, args []json.RawMessage) (name []byte, _ []json.RawMessage, _ error) {
	r := readJSON(p.Data)
	defer r.release()
	if !r.open('[') {
		return nil, nil, fmt.Errorf("%w: event data is not an array", ErrMalformed)
	}
	if p.Type != sioAck {
		if !r.more() {
			return nil, nil, fmt.Errorf("%w: event without a name", ErrMalformed)
		}
		var err error
		if name, err = r.str(); err != nil { // null reads as the empty name: an unknown event
			return nil, nil, fmt.Errorf("%w: event name is not a string", ErrMalformed)
		}
	}
	for r.more() {
		v, err := r.value()
		if err != nil {
			return nil, nil, fmt.Errorf("%w: invalid json in the event's arguments", ErrMalformed)
		}
		args = append(args, v)
	}
	if err := r.end(); err != nil {
		return nil, nil, fmt.Errorf("%w: invalid json after the event", ErrMalformed)
	}
	return name, args, nil
}

// AppendEvent appends the Engine.IO message carrying a Socket.IO EVENT
// on namespace "/": 42["name",arg...]. Each arg must be valid JSON.
// id < 0 means no ack is requested.
func AppendEvent(dst []byte, id int64, name string, args ...[]byte) []byte {
	dst = append(dst, eioMessage, sioEvent)
	if id >= 0 {
		dst = strconv.AppendInt(dst, id, 10)
	}
	dst = append(dst, '[')
	dst = appendJSONString(dst, name)
	for _, a := range args {
		dst = append(dst, ',')
		dst = append(dst, a...)
	}
	return append(dst, ']')
}

// AppendAck appends the Engine.IO message carrying a Socket.IO ACK:
// 43<id>[arg...].
func AppendAck(dst []byte, id int64, args ...[]byte) []byte {
	dst = append(dst, eioMessage, sioAck)
	dst = strconv.AppendInt(dst, id, 10)
	dst = append(dst, '[')
	for i, a := range args {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, a...)
	}
	return append(dst, ']')
}

func appendJSONString[S string | []byte](dst []byte, s S) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			b, _ := json.Marshal(string(s)) // a string always marshals
			return append(dst, b...)
		}
	}
	// Plain ASCII (event names, ids): nothing to escape.
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"')
}

func allDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return len(b) > 0
}

// splitPollPayload splits a long-polling request body into packets.
func splitPollPayload(body []byte) [][]byte {
	return bytes.Split(body, []byte{pollSeparator})
}
