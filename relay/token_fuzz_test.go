package relay

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

var fuzzSecret = []byte("fuzz-secret-fuzz-secret-fuzz-sec")

// FuzzVerifyToken: whatever the token, VerifyToken does not panic, says
// why with one of the four reasons, and accepts only what was signed
// with the secret, giving back valid claims.
func FuzzVerifyToken(f *testing.F) {
	now := time.Unix(1_764_097_200, 0)
	for _, c := range []TokenClaims{
		{Expires: now.Add(time.Hour)},
		{Room: "band-1", Name: "Ada", Expires: now.Add(time.Hour)},
		{Expires: now.Add(-time.Second)},
	} {
		tok, err := SignToken(fuzzSecret, c)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(tok)
		f.Add(tok[:len(tok)-2])
		f.Add(strings.Replace(tok, ".", "..", 1))
	}
	for _, s := range []string{"", "x", "a.b.c", "eyJhbGciOiJub25lIn0.eyJleHAiOjF9.", "..", "eyJhbGciOiJIUzI1NiJ9.e30.x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		c, err := VerifyToken(fuzzSecret, tok, now)
		if err != nil {
			if !errors.Is(err, ErrTokenMissing) && !errors.Is(err, ErrTokenExpired) &&
				!errors.Is(err, ErrTokenSignature) && !errors.Is(err, ErrTokenMalformed) {
				t.Fatalf("VerifyToken(%q) = %v: not one of the four reasons", tok, err)
			}
			return
		}
		if !c.Expires.After(now) || (c.Room != "" && !ValidRoomCode(c.Room)) || len([]rune(c.Name)) > maxNameLen {
			t.Fatalf("VerifyToken(%q) accepted %+v", tok, c)
		}
	})
}

// FuzzSessionAccess feeds arbitrary CONNECT data and session:join
// arguments to a relay with an auth secret: nothing panics, a CONNECT is
// accepted only with a valid token, and a private session admits only
// its secret.
func FuzzSessionAccess(f *testing.F) {
	tok, err := SignToken(fuzzSecret, TokenClaims{Expires: time.Now().Add(time.Hour)})
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{`{"token":"` + tok + `"}`, `{"token":1}`, `[]`, `null`, `"x"`, `{}`, `{"token":"a.b.c"}`} {
		f.Add([]byte(s), []byte(`{"roomCode":"PRIV-1","secret":"ok"}`))
	}
	for _, s := range []string{`{"roomCode":"PRIV-1"}`, `{"roomCode":"PRIV-1","secret":1}`, `{"roomCode":"priv-1","secret":"OK"}`,
		`{"roomCode":"PRIV-1","secret":"ok\u0000"}`, `{"secret":"ok"}`, `[]`, `{"roomCode":"PRIV-1","secret":"` + strings.Repeat("x", 300) + `"}`} {
		f.Add([]byte(`{"token":"`+tok+`"}`), []byte(s))
	}
	srv, err := NewServer(Config{AuthSecret: fuzzSecret, EventRate: 1e9, EventBurst: 1e9, FailedJoins: 1 << 30})
	if err != nil {
		f.Fatal(err)
	}
	host := newSocket(srv)
	host.register()
	host.handleEIO([]byte(`40{"token":"` + tok + `"}`))
	if _, err := srv.hub.create(host, "PRIV-1", Participant{ID: host.sid}, access{secret: "ok"}); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, auth, arg []byte) {
		s := newSocket(srv)
		s.register()
		defer s.close("done")
		_ = s.handleEIO(append([]byte("40"), auth...))
		_, verr := VerifyToken(fuzzSecret, parseConnectAuth(auth), time.Now())
		if (s.sid != "") != (verr == nil) {
			t.Fatalf("CONNECT %q: connected %v, token error %v", auth, s.sid != "", verr)
		}
		_ = s.handleEIO(append([]byte(`42["session:join",`), append(arg, ']')...))
		var a struct{ Secret string }
		if m := s.member(); m != nil && (json.Unmarshal(arg, &a) != nil || a.Secret != "ok") {
			t.Fatalf("joined with %q", arg)
		}
	})
}
