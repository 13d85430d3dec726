package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/jambridge/jambridge/internal/redistest"
	"github.com/jambridge/jambridge/relay"
)

// leaveBound is the bound: a node killed, its members leave
// every other member's session within 5 s.
const leaveBound = 5 * time.Second

// Three jamrelay processes on one Redis; one is killed with SIGKILL: the
// members of the two others see its member leave within leaveBound.
func TestClusterNodeKilledItsMembersLeave(t *testing.T) {
	redis := redistest.Start(t)
	bin := buildRelay(t)
	var urls []string
	var victim *os.Process
	for i := range 3 {
		cmd, url, _ := startBuilt(t, bin, []string{"JAMRELAY_REDIS=" + redis.URL()})
		urls = append(urls, url)
		if i == 1 {
			victim = cmd.Process
		}
	}
	a, b, c := dialMember(t, urls[0]), dialMember(t, urls[1]), dialMember(t, urls[2])
	code := a.call("session:create", "session:created", map[string]string{"name": "Ana"})
	for _, m := range []*member{b, c} {
		m.call("session:join", "session:joined", map[string]string{"roomCode": code, "name": "x"})
	}
	killed := time.Now()
	if err := victim.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for _, m := range []*member{a, c} {
		var ul struct{ UserID string }
		if err := json.Unmarshal(m.NextBefore("session:user-left", killed.Add(leaveBound)), &ul); err != nil {
			t.Fatal(err)
		}
		if ul.UserID != b.ID() {
			t.Errorf("user-left %q, want the killed node's member %q", ul.UserID, b.ID())
		}
		t.Logf("user-left %v after the SIGKILL", time.Since(killed).Round(time.Millisecond))
	}
}

// Two jamrelay processes on one Redis, both wanting access tokens: a
// private session created on one is refused on the other without its
// secret, and entered with it under the token's name; its creator hears
// only of that join.
func TestClusterPrivateSessionWithTokens(t *testing.T) {
	redis := redistest.Start(t)
	bin := buildRelay(t)
	secret := []byte("a relay auth secret of at least 32 bytes")
	file := filepath.Join(t.TempDir(), "auth.secret")
	if err := os.WriteFile(file, secret, 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"JAMRELAY_REDIS=" + redis.URL(), "JAMRELAY_AUTH_SECRET_FILE=" + file}
	_, url0, _ := startBuilt(t, bin, env)
	_, url1, _ := startBuilt(t, bin, env)
	token := func(room, name string) string {
		tok, err := relay.SignToken(secret, relay.TokenClaims{Room: room, Name: name, Expires: time.Now().Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	a := dialToken(t, url0, token("", ""))
	a.call("session:create", "session:created", map[string]string{"roomCode": "GIG-1", "name": "Ana", "secret": "pw"})
	m := dialToken(t, url1, token("GIG-1", "Mallory"))
	for _, s := range []string{"", "wp"} {
		m.Send("session:join", map[string]string{"roomCode": "GIG-1", "secret": s})
		if got := m.errorCode(); got != relay.CodeForbidden {
			t.Errorf("a join with secret %q: error %q, want %q", s, got, relay.CodeForbidden)
		}
	}
	b := dialToken(t, url1, token("GIG-1", "Ada"))
	b.call("session:join", "session:joined", map[string]string{"roomCode": "GIG-1", "name": "Ben", "secret": "pw"})
	var uj struct{ User relay.Participant }
	a.Decode("session:user-joined", &uj)
	if uj.User.Name != "Ada" || uj.User.ID != b.ID() {
		t.Errorf("Ana heard %+v join first, want Ada (the token's name)", uj.User)
	}
}
