package main

import (
	"testing"

	"github.com/jambridge/jambridge/internal/relaytest"
	"github.com/jambridge/jambridge/relay"
)

// member is one musician connected to a jamrelay process
// (relaytest.Peer).
type member struct{ *relaytest.Peer }

func dialMember(t *testing.T, url string) *member {
	t.Helper()
	return dialToken(t, url, "")
}

// dialToken connects to url presenting the access token ("": none).
func dialToken(t *testing.T, url, token string) *member {
	t.Helper()
	return &member{relaytest.Dial(t, relay.ClientConfig{URL: url, Token: token}, 64, hang)}
}

// call emits name and waits for reply, returning its roomCode.
func (m *member) call(name, reply string, arg any) string {
	m.T.Helper()
	m.Send(name, arg)
	var r struct{ RoomCode string }
	m.Decode(reply, &r)
	return r.RoomCode
}

// errorCode waits for the next error event and returns its code.
func (m *member) errorCode() string {
	m.T.Helper()
	var e struct{ Code string }
	m.Decode("error", &e)
	return e.Code
}
