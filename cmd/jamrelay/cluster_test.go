package main

import (
	"context"
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
	code := a.call(t, "session:create", "session:created", map[string]string{"name": "Ana"})
	for _, m := range []*member{b, c} {
		m.call(t, "session:join", "session:joined", map[string]string{"roomCode": code, "name": "x"})
	}
	killed := time.Now()
	if err := victim.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for _, m := range []*member{a, c} {
		arg := m.wait(t, "session:user-left", killed.Add(leaveBound))
		var ul struct{ UserID string }
		json.Unmarshal(arg, &ul)
		if ul.UserID != b.ID() {
			t.Errorf("user-left %q, want the killed node's member %q", ul.UserID, b.ID())
		}
		t.Logf("user-left %v after the SIGKILL", time.Since(killed).Round(time.Millisecond))
	}
}

type member struct {
	*relay.Client
	inbox chan relay.Event
}

func dialMember(t *testing.T, url string) *member {
	t.Helper()
	return dialToken(t, url, "")
}

// call emits name and waits for reply, returning its roomCode.
func (m *member) call(t *testing.T, name, reply string, arg any) string {
	t.Helper()
	if err := m.Emit(name, arg); err != nil {
		t.Fatal(err)
	}
	var r struct{ RoomCode string }
	json.Unmarshal(m.wait(t, reply, time.Now().Add(hang)), &r)
	return r.RoomCode
}

// wait returns the argument of the next event named name, failing at
// deadline; other events are skipped.
func (m *member) wait(t *testing.T, name string, deadline time.Time) json.RawMessage {
	t.Helper()
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	for {
		select {
		case ev := <-m.inbox:
			if ev.Name == "error" {
				t.Fatalf("error %s", ev.Args[0])
			}
			if ev.Name == name && len(ev.Args) > 0 {
				return ev.Args[0]
			}
		case <-timer.C:
			t.Fatalf("no %s by the deadline", name)
			return nil
		}
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
	a.call(t, "session:create", "session:created", map[string]string{"roomCode": "GIG-1", "name": "Ana", "secret": "pw"})
	m := dialToken(t, url1, token("GIG-1", "Mallory"))
	for _, s := range []string{"", "wp"} {
		if err := m.Emit("session:join", map[string]string{"roomCode": "GIG-1", "secret": s}); err != nil {
			t.Fatal(err)
		}
		if got := m.errorCode(t); got != relay.CodeForbidden {
			t.Errorf("a join with secret %q: error %q, want %q", s, got, relay.CodeForbidden)
		}
	}
	b := dialToken(t, url1, token("GIG-1", "Ada"))
	b.call(t, "session:join", "session:joined", map[string]string{"roomCode": "GIG-1", "name": "Ben", "secret": "pw"})
	var uj struct{ User relay.Participant }
	json.Unmarshal(a.wait(t, "session:user-joined", time.Now().Add(hang)), &uj)
	if uj.User.Name != "Ada" || uj.User.ID != b.ID() {
		t.Errorf("Ana heard %+v join first, want Ada (the token's name)", uj.User)
	}
}

func dialToken(t *testing.T, url, token string) *member {
	t.Helper()
	m := &member{inbox: make(chan relay.Event, 64)}
	ctx, cancel := context.WithTimeout(context.Background(), hang)
	defer cancel()
	c, err := relay.Dial(ctx, relay.ClientConfig{URL: url, Token: token, OnEvent: func(ev relay.Event) { m.inbox <- ev }})
	if err != nil {
		t.Fatal(err)
	}
	m.Client = c
	t.Cleanup(func() { c.Close() })
	return m
}

// errorCode waits for the next error event and returns its code.
func (m *member) errorCode(t *testing.T) string {
	t.Helper()
	timer := time.NewTimer(hang)
	defer timer.Stop()
	for {
		select {
		case ev := <-m.inbox:
			if ev.Name == "error" && len(ev.Args) > 0 {
				var e struct{ Code string }
				json.Unmarshal(ev.Args[0], &e)
				return e.Code
			}
		case <-timer.C:
			t.Fatal("no error within the wait")
			return ""
		}
	}
}
