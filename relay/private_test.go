package relay_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jambridge/jambridge/relay"
)

// A private session: a join without the secret, or with a wrong one,
// gets forbidden and nothing else, and the members hear nothing of it;
// the right secret gets in, and the members hear of that one only. The
// secret never reaches the logs or another member.
func TestPrivateSession(t *testing.T) {
	r := newRelay(t, relay.Config{})
	host := connect(t, r)
	host.emit("session:create", map[string]any{"name": "host", "secret": "blue-harmonica"})
	var c created
	host.decode("session:created", &c)
	for _, arg := range []map[string]any{
		{"roomCode": c.RoomCode, "name": "nosecret"},
		{"roomCode": c.RoomCode, "name": "wrong", "secret": "blue-harmonicA"},
		{"roomCode": strings.ToLower(c.RoomCode), "name": "empty", "secret": ""},
	} {
		p := connect(t, r)
		p.emit("session:join", arg)
		p.wantError(relay.CodeForbidden)
		p.quiet("session:joined")
		host.quiet("session:user-joined", p)
	}
	guest := connect(t, r)
	guest.emit("session:join", map[string]any{"roomCode": c.RoomCode, "name": "guest", "secret": "blue-harmonica"})
	var j created
	guest.decode("session:joined", &j)
	if len(j.Participants) != 2 {
		t.Errorf("participants %v, want host and guest", j.Participants)
	}
	var joined struct{ User relay.Participant }
	host.decode("session:user-joined", &joined)
	if joined.User.Name != "guest" {
		t.Errorf("host heard of %q, want guest", joined.User.Name)
	}
	if strings.Contains(r.Logs.String(), "harmonica") {
		t.Errorf("the secret is in the log:\n%s", r.Logs)
	}
	// An open session ignores a secret.
	open := connect(t, r)
	open.emit("session:create", map[string]any{})
	var oc created
	open.decode("session:created", &oc)
	p := connect(t, r)
	p.emit("session:join", map[string]any{"roomCode": oc.RoomCode, "secret": "whatever"})
	p.next("session:joined")
}

// A bridge's Session sends its secret when it creates, when it joins and
// when it rejoins; a wrong secret ends Run with forbidden, not a retry
// loop.
func TestSessionWithSecret(t *testing.T) {
	r := newRelay(t, relay.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	joined := make(chan relay.Presence, 8)
	host, err := relay.NewSession(relay.SessionConfig{URL: r.URL, Room: "BAND-1", Name: "host", Secret: "s",
		OnPresence: func(p relay.Presence) {
			if p.Kind == relay.PresenceConnected {
				joined <- p
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- host.Run(ctx) }()
	defer func() { cancel(); <-done }()
	select {
	case <-joined:
	case <-time.After(wait):
		t.Fatal("host did not get in")
	}
	wrong, err := relay.NewSession(relay.SessionConfig{URL: r.URL, Room: "BAND-1", Name: "w", Secret: "x", JoinOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	wctx, wcancel := contextWithWait()
	defer wcancel()
	err = wrong.Run(wctx)
	var re *relay.RelayError
	if !errors.As(err, &re) || re.Code != relay.CodeForbidden {
		t.Fatalf("Run with a wrong secret = %v, want forbidden", err)
	}
	p := connect(t, r)
	p.emit("session:join", map[string]any{"roomCode": "band-1", "secret": "s"})
	p.next("session:joined")
}

// authSecret signs the tests' access tokens.
var authSecret = []byte("0123456789abcdef0123456789abcdef")

func sign(t *testing.T, c relay.TokenClaims) string {
	t.Helper()
	tok, err := relay.SignToken(authSecret, c)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func dialToken(r *testRelay, token string) (*relay.Client, error) {
	ctx, cancel := contextWithWait()
	defer cancel()
	return relay.Dial(ctx, relay.ClientConfig{URL: r.URL, Token: token})
}

// A relay with an auth secret refuses a CONNECT without a valid token
// with a CONNECT_ERROR saying why, then closes the connection.
func TestAccessTokenRefused(t *testing.T) {
	r := newRelay(t, relay.Config{AuthSecret: authSecret})
	hour := time.Now().Add(time.Hour)
	forged, err := relay.SignToken([]byte("another secret, just as long....."), relay.TokenClaims{Expires: hour})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, token, want string }{
		{"missing", "", "access token missing"},
		{"expired", sign(t, relay.TokenClaims{Expires: time.Now().Add(-time.Minute)}), "access token expired"},
		{"bad signature", forged, "access token has a bad signature"},
		{"malformed", "not.a.jwt", "access token malformed"},
		{"alg none", "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJleHAiOjQxMDI0NDQ4MDB9.", "access token has a bad signature"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := dialToken(r, tc.token)
			var refused *relay.ConnectRefusedError
			if !errors.As(err, &refused) || !strings.HasPrefix(refused.Message, tc.want) {
				if c != nil {
					c.Close()
				}
				t.Fatalf("dial = %v, want a refusal saying %q", err, tc.want)
			}
		})
	}
	// On the wire: 44{"message"} and then the close.
	ws := rawWSNoConnect(t, r)
	write(t, ws, `40{"token":"x"}`)
	if got := readPrefix(t, ws, "44"); got != `44{"message":"access token malformed"}` {
		t.Errorf("CONNECT_ERROR %s", got)
	}
	write(t, ws, `42["session:create",{}]`) // not connected: ignored
	readClosed(t, ws)
	if st := r.Stats(); st.ConnectsRefused != 6 || st.Sessions != 0 {
		t.Errorf("connects refused %d, sessions %d: want 6 and 0", st.ConnectsRefused, st.Sessions)
	}
}

// A valid token lets the client in; its room claim is the only session
// it may create or join (others are forbidden, and a create without a
// code makes that one), and its name claim is the participant's name
// whatever the client asks for.
func TestAccessTokenClaims(t *testing.T) {
	r := newRelay(t, relay.Config{AuthSecret: authSecret})
	hour := time.Now().Add(time.Hour)
	ada := tokenPeer(t, r, sign(t, relay.TokenClaims{Room: "gig-1", Name: "Ada", Expires: hour}))
	ada.emit("session:create", map[string]any{"roomCode": "OTHER", "name": "Mallory"})
	ada.wantError(relay.CodeForbidden)
	ada.emit("session:create", map[string]any{"name": "Mallory"})
	var got created
	ada.decode("session:created", &got)
	if got.RoomCode != "GIG-1" || got.Participants[0].Name != "Ada" {
		t.Errorf("created %+v, want GIG-1 with Ada", got)
	}
	bob := tokenPeer(t, r, sign(t, relay.TokenClaims{Expires: hour}))
	bob.emit("session:join", map[string]any{"roomCode": "gig-1", "name": "Bob"})
	bob.decode("session:joined", &got)
	var joined struct{ User relay.Participant }
	ada.decode("session:user-joined", &joined)
	if joined.User.Name != "Bob" {
		t.Errorf("Ada heard of %q, want Bob (a token without a name claim)", joined.User.Name)
	}
	other := tokenPeer(t, r, sign(t, relay.TokenClaims{Room: "ELSEWHERE", Expires: hour}))
	other.emit("session:join", map[string]any{"roomCode": "GIG-1"})
	other.wantError(relay.CodeForbidden)
	ada.quiet("session:user-joined", other)
}

// A Session with a token gets in; with an expired one Run ends with the
// relay's reason at once, not a retry loop.
func TestSessionWithToken(t *testing.T) {
	r := newRelay(t, relay.Config{AuthSecret: authSecret})
	s, err := relay.NewSession(relay.SessionConfig{URL: r.URL, Room: "X-1", JoinOnly: true,
		Token: sign(t, relay.TokenClaims{Expires: time.Now().Add(-time.Second)})})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := contextWithWait()
	defer cancel()
	err = s.Run(ctx)
	var refused *relay.ConnectRefusedError
	if !errors.As(err, &refused) || refused.Message != "access token expired" {
		t.Fatalf("Run = %v, want the refusal: access token expired", err)
	}
}

// tokenPeer is connect with an access token.
func tokenPeer(t *testing.T, r *testRelay, token string) *peer {
	t.Helper()
	return dialPeer(t, relay.ClientConfig{URL: r.URL, Token: token})
}

// A Session's automatic rejoin carries its secret: after a relay
// restart it makes its session again, private, so a join without the
// secret is forbidden and one with it gets in.
func TestSessionRejoinKeepsItsSecret(t *testing.T) {
	r1 := startRelayAt(t, "")
	addr := r1.http.Listener.Addr().String()
	ts := startSession(t, relay.SessionConfig{URL: r1.URL, Room: "priv-9", Name: "studio", Secret: "s3cret"})
	ts.expect(relay.PresenceConnected)
	stopRelay(r1)
	ts.await(relay.PresenceDisconnected)
	r2 := startRelayAt(t, addr)
	if c := ts.await(relay.PresenceConnected); c.Room != "PRIV-9" {
		t.Fatalf("rejoined %+v, want PRIV-9", c)
	}
	p := connect(t, r2)
	p.emit("session:join", map[string]any{"roomCode": "PRIV-9"})
	p.wantError(relay.CodeForbidden)
	p.emit("session:join", map[string]any{"roomCode": "PRIV-9", "secret": "s3cret"})
	p.next("session:joined")
	ts.await(relay.PresenceJoined)
}
