package redisbroker_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"github.com/jambridge/jambridge/internal/redistest"
	"github.com/jambridge/jambridge/relay"
)

// The story's AC 1-5 across three nodes: a session created on one node,
// joined from the two others; presence with names, kinds and joinedAt;
// events relayed to every other member once with senderId, seq and
// serverTime, never back to the sender; leaves; unknown sessions.
func TestSessionAcrossThreeNodes(t *testing.T) {
	nodes := cluster(t, redistest.Start(t), 3, relay.Config{})
	a, b, c := connect(t, nodes[0]), connect(t, nodes[1]), connect(t, nodes[2])
	code := a.create("", "Ana")

	got := b.join(code, "Ben")
	if len(got) != 2 || got[0].ID != a.ID() || got[0].Name != "Ana" || got[0].Kind != "bridge" || got[1].ID != b.ID() || got[1].JoinedAt < got[0].JoinedAt {
		t.Errorf("participants on joining from another node = %+v, want Ana (bridge) then Ben", got)
	}
	var uj struct{ User relay.Participant }
	a.decode("session:user-joined", &uj)
	if uj.User.ID != b.ID() || uj.User.Name != "Ben" || uj.User.Kind != "browser" || uj.User.JoinedAt == 0 {
		t.Errorf("Ana saw user-joined %+v, want Ben", uj.User)
	}
	if got := c.join(code, "Cleo"); len(got) != 3 {
		t.Errorf("Cleo sees %d participants, want 3", len(got))
	}
	a.decode("session:user-joined", &uj)
	b.decode("session:user-joined", &uj)
	if uj.User.Name != "Cleo" {
		t.Errorf("Ben saw %q join, want Cleo", uj.User.Name)
	}

	a.broadcast(code, "drum_hit", 7, map[string]any{"drum": "snare", "velocity": 100})
	for _, m := range []*member{b, c} {
		var ev relayed
		m.decode("event:broadcast", &ev)
		if ev.EventName != "drum_hit" || ev.SenderID != a.ID() || ev.Seq != 7 || ev.ServerTime == 0 || string(ev.Payload) != `{"drum":"snare","velocity":100}` {
			t.Errorf("%s got %+v", m.ID(), ev)
		}
	}
	// Ana's own event never comes back: Ben answers only once he has it,
	// and Ana's node hears Redis in order, so an echo would come first.
	b.broadcast(code, "piano_note", 1, map[string]any{"note": "C4", "velocity": 90})
	var ev relayed
	a.decode("event:broadcast", &ev)
	if ev.SenderID != b.ID() {
		t.Errorf("Ana got back an event of %s, want Ben's only", ev.SenderID)
	}
	c.next("event:broadcast")
	// Counted once the publish's pipeline returned, which may be after
	// the receivers have the event.
	waitUntil(t, "one event published by Ana's node", func() bool {
		return nodes[0].metric(t, "jamrelay_redis_published_total", "") == 1
	})
	for name, want := range map[string][2]float64{
		"jamrelay_redis_up":                     {nodes[0].metric(t, "jamrelay_redis_up", ""), 1},
		"jamrelay_redis_received_total":         {nodes[2].metric(t, "jamrelay_redis_received_total", ""), 2},
		"jamrelay_redis_latency_seconds":        {nodes[2].metric(t, "jamrelay_redis_latency_seconds", ""), 2},
		"jamrelay_redis_dropped_total":          {nodes[0].metric(t, "jamrelay_redis_dropped_total", "redis_down"), 0},
		"jamrelay_redis_lost_leaves":            {nodes[0].metric(t, "jamrelay_redis_lost_leaves", ""), 0},
		"jamrelay_redis_leaves_forgotten_total": {nodes[0].metric(t, "jamrelay_redis_leaves_forgotten_total", ""), 0},
	} {
		if want[0] != want[1] {
			t.Errorf("%s = %v, want %v", name, want[0], want[1])
		}
	}

	b.emit("session:leave", map[string]string{"roomCode": code})
	b.next("session:left")
	for _, m := range []*member{a, c} {
		var ul struct{ UserID string }
		m.decode("session:user-left", &ul)
		if ul.UserID != b.ID() {
			t.Errorf("%s saw %q leave, want Ben", m.ID(), ul.UserID)
		}
	}
	d := connect(t, nodes[1])
	d.emit("session:join", map[string]string{"roomCode": "NOPE-0000", "name": "Dee"})
	d.wantError(relay.CodeSessionNotFound)
	d.emit("event:broadcast", map[string]any{"roomCode": code, "eventName": "drum_hit", "payload": map[string]string{}})
	d.emit("session:leave", map[string]string{"roomCode": code})
	d.wantError(relay.CodeNotInSession)
}

// A code is unique across the cluster, and the members limit holds
// across nodes.
func TestCodeAndLimitAcrossNodes(t *testing.T) {
	nodes := cluster(t, redistest.Start(t), 3, relay.Config{MaxMembers: 2})
	a, b, c := connect(t, nodes[0]), connect(t, nodes[1]), connect(t, nodes[2])
	if code := a.create("BAND-ROOM", "Ana"); code != "BAND-ROOM" {
		t.Fatalf("created %q", code)
	}
	b.emit("session:create", map[string]string{"roomCode": "band-room", "name": "Ben"})
	b.wantError(relay.CodeSessionExists)
	b.join("BAND-ROOM", "Ben")
	c.emit("session:join", map[string]string{"roomCode": "BAND-ROOM", "name": "Cleo"})
	c.wantError(relay.CodeSessionFull)
	// Ben leaves: his place is free on every node.
	b.emit("session:leave", map[string]string{})
	b.next("session:left")
	a.next("session:user-left")
	if got := c.join("BAND-ROOM", "Cleo"); len(got) != 2 {
		t.Errorf("Cleo sees %+v, want Ana and Cleo", got)
	}
	// Everyone gone: the code is free again.
	a.Close()
	c.Close()
	d := connect(t, nodes[1])
	waitUntil(t, "the code freed", func() bool {
		d.emit("session:create", map[string]string{"roomCode": "BAND-ROOM", "name": "Dee"})
		for {
			ev := d.nextAny() // bounded: a lost reply fails rather than hangs
			switch ev.Name {
			case "session:created":
				return true
			case "error":
				return false
			}
		}
	})
}

// 1,000 events from three senders on three nodes reach every other
// member exactly once and in each sender's order; none comes back.
func TestThousandEventsExactlyOnceInOrder(t *testing.T) {
	nodes := cluster(t, redistest.Start(t), 3, relay.Config{})
	var all []*member
	for i := range 6 {
		all = append(all, connect(t, nodes[i%3]))
	}
	code := all[0].create("", "m0")
	for i, m := range all[1:] {
		m.join(code, "m"+string(rune('1'+i)))
	}
	senders := all[:3]
	const total = 1000
	per := map[string]int{}
	for i := range total {
		s := senders[i%3]
		per[s.ID()]++
		s.broadcast(code, "piano_note", int64(per[s.ID()]), map[string]any{"note": i})
		if i%100 == 99 {
			s.sync() // paces the clients' own send queues
		}
	}
	for _, m := range all {
		want := total - per[m.ID()]
		last := map[string]int64{}
		for n := range want {
			var ev relayed
			m.decode("event:broadcast", &ev)
			if ev.SenderID == m.ID() {
				t.Fatalf("%s got its own event back", m.ID())
			}
			if ev.Seq != last[ev.SenderID]+1 {
				t.Fatalf("%s: event %d from %s has seq %d after %d", m.ID(), n, ev.SenderID, ev.Seq, last[ev.SenderID])
			}
			last[ev.SenderID] = ev.Seq
		}
		for id, n := range last {
			if int(n) != per[id] {
				t.Errorf("%s got %d of %s's %d events", m.ID(), n, id, per[id])
			}
		}
	}
	// Nothing more: a final event of each sender is the next each sees.
	for _, s := range senders {
		s.broadcast(code, "end", int64(per[s.ID()]+1), nil)
	}
	for _, m := range all {
		got := []string{}
		for range len(senders) - boolInt(slices.Contains(senders, m)) {
			var ev relayed
			m.decode("event:broadcast", &ev)
			got = append(got, ev.EventName)
		}
		for _, name := range got {
			if name != "end" {
				t.Errorf("%s got %q after the last event: a duplicate", m.ID(), name)
			}
		}
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// A node shut down cleanly announces its members' leaves at once.
func TestCleanShutdownAnnouncesLeavers(t *testing.T) {
	nodes, a, b, code := anaAndBen(t, redistest.Start(t))
	nodes[1].stop()
	var ul struct{ UserID string }
	a.decode("session:user-left", &ul)
	if ul.UserID != b.ID() {
		t.Errorf("user-left %q, want Ben %q", ul.UserID, b.ID())
	}
	c := connect(t, nodes[0])
	if got := c.join(code, "Cleo"); len(got) != 2 {
		t.Errorf("after the shutdown Cleo sees %d participants, want Ana and Cleo: %s", len(got), mustJSON(got))
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// A member moving from one session to another, across nodes: the old
// session sees it leave, the new one join, and Redis's index of the
// node's members points at the new session (what a sweep would clear).
func TestMemberMovesBetweenSessions(t *testing.T) {
	redis := redistest.Start(t)
	nodes := cluster(t, redis, 2, relay.Config{})
	a, b, c := connect(t, nodes[0]), connect(t, nodes[1]), connect(t, nodes[0])
	x := a.create("", "Ana")
	b.join(x, "Ben")
	a.next("session:user-joined")
	y := c.create("", "Cleo")
	if got := b.join(y, "Ben"); len(got) != 2 {
		t.Errorf("Ben sees %s in the new session, want Cleo and Ben", mustJSON(got))
	}
	a.next("session:user-left")
	c.next("session:user-joined")
	b.sync() // Ben's node has queued the leave of x
	rdb := goredis.NewClient(&goredis.Options{Addr: redis.Addr})
	defer rdb.Close()
	waitUntil(t, "the index to settle", func() bool {
		return !rdb.HExists(context.Background(), "jam:s:"+x, b.ID()).Val()
	})
	if got := rdb.HGet(context.Background(), "jam:nm:"+nodes[1].broker.Node(), b.ID()).Val(); got != y {
		t.Errorf("the node's index has Ben in %q, want %q", got, y)
	}
}
