package redisbroker_test

import (
	"context"
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"github.com/jambridge/jambridge/internal/redistest"
	"github.com/jambridge/jambridge/relay"
)

// Redis restarts empty: each node's members keep playing with each other
// meanwhile; then the nodes re-assert the session (code and presence)
// and events cross again.
func TestRedisRestartedEmpty(t *testing.T) {
	redis := redistest.Start(t)
	nodes := cluster(t, redis, 3, relay.Config{})
	a, a2, b := connect(t, nodes[0]), connect(t, nodes[0]), connect(t, nodes[1])
	code := a.create("", "Ana")
	a2.join(code, "Ada")
	b.join(code, "Ben")
	a.next("session:user-joined")
	a.next("session:user-joined")
	a2.next("session:user-joined")

	before := reassertions(nodes)
	redis.Stop()
	waitUntil(t, "node 1 to see Redis down", func() bool { return !nodes[0].broker.Up() })
	a.broadcast(code, "drum_hit", 1, map[string]string{"drum": "kick"})
	var ev relayed
	a2.decode("event:broadcast", &ev)
	if ev.SenderID != a.ID() {
		t.Errorf("during the outage Ada got %+v, want Ana's kick", ev)
	}
	// Ada may have the kick before Ana's node offered it to the cluster
	// (the relay sends to its own members first): Ana's clock:sync round
	// trip comes after her node handled the kick, Publish included.
	a.sync()
	if got := nodes[0].metric(t, "jamrelay_redis_dropped_total", "redis_down"); got != 1 {
		t.Errorf("events dropped for Redis down = %v, want 1 (the kick, for Ben's node)", got)
	}
	// The gauge is set just after the flag waitUntil saw above.
	waitUntil(t, "jamrelay_redis_up 0 during the outage", func() bool {
		return nodes[0].metric(t, "jamrelay_redis_up", "") == 0
	})

	redis.Start()
	waitReasserted(t, nodes, before)
	a.broadcast(code, "drum_hit", 2, map[string]string{"drum": "snare"})
	b.decode("event:broadcast", &ev)
	if ev.Seq != 2 || ev.SenderID != a.ID() {
		t.Errorf("after the restart Ben got %+v, want Ana's snare (seq 2): the kick could not cross", ev)
	}
	b.broadcast(code, "drum_hit", 1, map[string]string{"drum": "tom"})
	a.decode("event:broadcast", &ev)
	a2.decode("event:broadcast", &ev)
	c := connect(t, nodes[2])
	c.emit("session:create", map[string]string{"roomCode": code, "name": "Cleo"})
	c.wantError(relay.CodeSessionExists)
	if got := c.join(code, "Cleo"); len(got) != 4 {
		t.Errorf("after the restart Cleo sees %s, want Ana, Ada, Ben and Cleo", mustJSON(got))
	}
	for _, m := range []*member{a, a2, b} {
		var uj struct{ User relay.Participant }
		m.decode("session:user-joined", &uj)
		if uj.User.Name != "Cleo" {
			t.Errorf("%s saw %q join, want Cleo (re-assertions are not announced twice)", m.ID(), uj.User.Name)
		}
	}
}

// A Redis down when the nodes start: a node serves its own sessions, and
// joins the cluster when Redis appears.
func TestRedisDownAtStart(t *testing.T) {
	redis := redistest.Reserve(t)
	n1, n2 := startNode(t, redis, relay.Config{}), startNode(t, redis, relay.Config{})
	a, a2 := connect(t, n1), connect(t, n1)
	code := a.create("", "Ana")
	if got := a2.join(code, "Ada"); len(got) != 2 {
		t.Errorf("without Redis Ada sees %s, want Ana and Ada", mustJSON(got))
	}
	a.next("session:user-joined")
	a2.broadcast(code, "drum_hit", 1, map[string]string{"drum": "kick"})
	a.next("event:broadcast")
	b := connect(t, n2)
	b.emit("session:join", map[string]string{"roomCode": code, "name": "Ben"})
	b.wantError(relay.CodeSessionNotFound)

	redis.Start()
	waitUp(t, n1)
	waitUp(t, n2)
	if got := b.join(code, "Ben"); len(got) != 3 {
		t.Errorf("once Redis is up Ben sees %s, want Ana, Ada and Ben", mustJSON(got))
	}
	a.broadcast(code, "drum_hit", 2, map[string]string{"drum": "snare"})
	var ev relayed
	b.decode("event:broadcast", &ev)
	if ev.SenderID != a.ID() || ev.Seq != 2 {
		t.Errorf("Ben got %+v, want Ana's snare", ev)
	}
}

// A node gone while Redis was down, and Redis restarted empty: nothing in
// Redis remembers that node, yet the other nodes' members see its member
// leave once Redis is back (sweepRemote).
func TestNodeGoneDuringOutageLeavesAfterIt(t *testing.T) {
	redis := redistest.Start(t)
	nodes, a, b, _ := anaAndBen(t, redis)

	redis.Stop()
	waitUntil(t, "both nodes to see Redis down", func() bool { return !nodes[0].broker.Up() && !nodes[1].broker.Up() })
	nodes[1].stop() // its leave cannot reach Redis
	redis.Start()
	var ul struct{ UserID string }
	a.decode("session:user-left", &ul)
	if ul.UserID != b.ID() {
		t.Errorf("user-left %q, want Ben %q", ul.UserID, b.ID())
	}
}

// Events cross again after Redis restarted: the publisher's connection,
// which hears nothing from Redis (replies off), is dialled anew once the
// node re-asserted, not written into while dead.
func TestEventsCrossAfterRedisRestart(t *testing.T) {
	redis := redistest.Start(t)
	nodes, a, b, code := anaAndBen(t, redis)
	var ev relayed
	for seq := int64(1); seq <= 2; seq++ {
		if seq == 2 {
			before := reassertions(nodes)
			redis.Stop()
			waitUntil(t, "node 1 to see Redis down", func() bool { return !nodes[0].broker.Up() })
			redis.Start()
			waitReasserted(t, nodes, before)
		}
		a.broadcast(code, "drum_hit", seq, map[string]string{"drum": "kick"})
		b.decode("event:broadcast", &ev)
		if ev.SenderID != a.ID() || ev.Seq != seq {
			t.Fatalf("Ben got %+v, want Ana's kick %d", ev, seq)
		}
	}
}

// The nodes' subscriptions cut while Redis stays up (CLIENT KILL, as a
// restart too brief for the heartbeats would): Redis still holds each
// node's heartbeat, so only the receiver can tell. A node counts as down
// until it has re-asserted and subscribed again; then events cross. (A
// node that stayed up meanwhile missed what was published until its
// PubSub happened to dial again: TestEventsCrossAfterRedisRestart failed
// so when Ben's node missed the outage.)
func TestSubscriptionsCutNodeDownUntilSubscribedAgain(t *testing.T) {
	redis := redistest.Start(t)
	nodes, a, b, code := anaAndBen(t, redis)
	before := reassertions(nodes)
	rdb := goredis.NewClient(&goredis.Options{Addr: redis.Addr})
	defer rdb.Close()
	if err := rdb.ClientKillByFilter(context.Background(), "TYPE", "pubsub").Err(); err != nil {
		t.Fatal(err)
	}
	waitReasserted(t, nodes, before)
	a.broadcast(code, "drum_hit", 1, map[string]string{"drum": "kick"})
	var ev relayed
	b.decode("event:broadcast", &ev)
	if ev.SenderID != a.ID() || ev.Seq != 1 {
		t.Errorf("Ben got %+v, want Ana's kick", ev)
	}
}
