package main

import (
	"context"
	"encoding/json"
	"os"
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
	m := &member{inbox: make(chan relay.Event, 64)}
	ctx, cancel := context.WithTimeout(context.Background(), hang)
	defer cancel()
	c, err := relay.Dial(ctx, relay.ClientConfig{URL: url, OnEvent: func(ev relay.Event) { m.inbox <- ev }})
	if err != nil {
		t.Fatal(err)
	}
	m.Client = c
	t.Cleanup(func() { c.Close() })
	return m
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
