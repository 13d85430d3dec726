package redisbroker_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/jambridge/jambridge/internal/redistest"
	"github.com/jambridge/jambridge/relay"
	"github.com/jambridge/jambridge/relay/redisbroker"
)

// A private session made on one node is private on every node: the
// right secret gets in anywhere and everyone hears it; a wrong or
// missing one gets forbidden on any node, and no member on any node
// hears anything of it. After Redis restarts empty and the nodes
// re-assert, the secret still holds, on a node with no member there.
func TestPrivateSessionAcrossNodes(t *testing.T) {
	redis := redistest.Start(t)
	nodes := cluster(t, redis, 3, relay.Config{})
	a, b := connect(t, nodes[0]), connect(t, nodes[1])
	code := a.createPrivate("Ana", "open sesame")
	if got := b.joinWith(code, "Ben", "open sesame"); len(got) != 2 {
		t.Errorf("Ben sees %s, want Ana and Ben", mustJSON(got))
	}
	a.wantJoined("Ben")

	refuse := func(n *node, secret string) {
		t.Helper()
		m := connect(t, n)
		m.joinRefused(code, secret, relay.CodeForbidden)
	}
	for _, n := range nodes {
		refuse(n, "")
		refuse(n, "open sesame!")
	}
	// Dee joins from the third node after every refusal: her join is the
	// next thing each member hears, which it would hear after anything a
	// refused join had made Redis or a node publish.
	d := connect(t, nodes[2])
	if got := d.joinWith(code, "Dee", "open sesame"); len(got) != 3 {
		t.Errorf("Dee sees %s, want Ana, Ben and Dee", mustJSON(got))
	}
	a.wantJoined("Dee")
	b.wantJoined("Dee")

	d.emit("session:leave", map[string]string{})
	d.next("session:left")
	a.wantLeft(d.ID())
	b.wantLeft(d.ID())
	checkStoredKey(t, redis, code, "open sesame")

	before := reassertions(nodes)
	redis.Stop()
	for _, n := range nodes {
		waitUntil(t, "node "+n.broker.Node()+" to see Redis down", func() bool { return !n.broker.Up() })
	}
	redis.Start()
	waitReasserted(t, nodes, before)
	checkStoredKey(t, redis, code, "open sesame")
	refuse(nodes[2], "")
	refuse(nodes[2], "sesame")
	e := connect(t, nodes[2])
	if got := e.joinWith(code, "Eve", "open sesame"); len(got) != 3 {
		t.Errorf("after the restart Eve sees %s, want Ana, Ben and Eve", mustJSON(got))
	}
	a.wantJoined("Eve")
	b.wantJoined("Eve")
}

// The failed-join limit is per node, and a member's address is known on
// every node: over one node's limit, a join there from an address a
// member came from (the creator's, on another node) still gets in.
func TestFailedJoinLimitPerNode(t *testing.T) {
	nodes := cluster(t, redistest.Start(t), 3, relay.Config{FailedJoins: 3})
	a := connect(t, nodes[0])
	code := a.createPrivate("Ana", "pw")
	g := connect(t, nodes[1])
	for range 3 {
		g.joinRefused(code, "guess", relay.CodeForbidden)
	}
	g.joinRefused("NOPE-0000", "", relay.CodeRateLimited)
	g.joinRefused(code, "guess", relay.CodeRateLimited)
	connect(t, nodes[2]).joinRefused("NOPE-0000", "", relay.CodeSessionNotFound)
	if got := g.joinWith(code, "Gus", "pw"); len(got) != 2 {
		t.Errorf("a member's address over node 2's limit: Gus sees %s, want Ana and Gus", mustJSON(got))
	}
	a.wantJoined("Gus")
}

// Over a node's limit, Join admits only an address a member of the
// session came from, on any node; the check and the add are one step.
func TestJoinLimitedKnowsMembersAddresses(t *testing.T) {
	redis := redistest.Start(t)
	b1, b2 := startBroker(t, redis), startBroker(t, redis)
	ctx := context.Background()
	p := func(id string) relay.Participant { return relay.Participant{ID: id, Name: id, JoinedAt: 1} }
	if err := b1.Create(ctx, "ADDR-TEST", p("a"), relay.Entry{Addr: "192.0.2.1"}); err != nil {
		t.Fatal(err)
	}
	join := func(id, addr string, limited bool) error {
		_, _, err := b2.Join(ctx, "ADDR-TEST", p(id), relay.Entry{Addr: addr, Limited: limited}, 64)
		return err
	}
	if err := join("b", "192.0.2.2", true); !errors.Is(err, relay.ErrClusterLimited) {
		t.Errorf("a limited unknown address: %v, want %v", err, relay.ErrClusterLimited)
	}
	if err := join("c", "192.0.2.1", true); err != nil {
		t.Errorf("a limited address of the creator: %v, want in", err)
	}
	if err := join("d", "192.0.2.2", false); err != nil {
		t.Errorf("an address within the limit: %v, want in", err)
	}
	if err := join("e", "192.0.2.2", true); err != nil {
		t.Errorf("a limited address a member came from: %v, want in", err)
	}
}

// nopPeer is a relay side that ignores what the cluster delivers.
type nopPeer struct{}

func (nopPeer) RemoteEvent(string, []byte, bool)       {}
func (nopPeer) RemoteJoined(string, relay.Participant) {}
func (nopPeer) RemoteLeft(string, string)              {}

func startBroker(t testing.TB, redis *redistest.Server) *redisbroker.Broker {
	t.Helper()
	b, err := redisbroker.New(redisbroker.Options{URL: redis.URL()})
	if err != nil {
		t.Fatal(err)
	}
	b.Bind(nopPeer{})
	t.Cleanup(func() { b.Close() })
	waitUntil(t, "broker up", b.Up)
	return b
}

// checkStoredKey checks that Redis holds session code's key, and never
// the secret.
func checkStoredKey(t *testing.T, redis *redistest.Server, code, secret string) {
	t.Helper()
	rdb := goredis.NewClient(&goredis.Options{Addr: redis.Addr})
	defer rdb.Close()
	key, err := rdb.HGetAll(context.Background(), "jam:k:"+code).Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(key["salt"]) != 32 || len(key["sum"]) != 64 {
		t.Errorf("stored key %v, want a hex salt of 16 bytes and sum of 32", key)
	}
	for f, v := range key {
		if strings.Contains(v, secret) || strings.Contains(f, secret) {
			t.Errorf("redis holds the secret in the key's %s", f)
		}
	}
}

func (m *member) createPrivate(name, secret string) string {
	m.T.Helper()
	m.emit("session:create", map[string]string{"name": name, "secret": secret})
	var j joined
	m.decode("session:created", &j)
	return j.RoomCode
}

func (m *member) joinWith(code, name, secret string) []relay.Participant {
	m.T.Helper()
	m.emit("session:join", map[string]string{"roomCode": code, "name": name, "secret": secret})
	var j joined
	m.decode("session:joined", &j)
	return j.Participants
}

// joinRefused joins code offering secret ("": none) and wants the error
// code want.
func (m *member) joinRefused(code, secret, want string) {
	m.T.Helper()
	arg := map[string]string{"roomCode": code, "name": "Mallory"}
	if secret != "" {
		arg["secret"] = secret
	}
	m.emit("session:join", arg)
	m.wantError(want)
}

// nextAny returns the next event m got, whatever its name.
func (m *member) nextAny() relay.Event {
	m.T.Helper()
	if len(m.Kept) > 0 {
		ev := m.Kept[0]
		m.Kept = m.Kept[1:]
		return ev
	}
	select {
	case ev := <-m.Inbox:
		return ev
	case <-timeAfterWait():
		m.T.Fatalf("%s: nothing within %v", m.ID(), wait)
		return relay.Event{}
	}
}

// wantJoined wants the next thing m hears to be name joining.
func (m *member) wantJoined(name string) {
	m.T.Helper()
	ev := m.nextAny()
	var uj struct{ User relay.Participant }
	if ev.Name == "session:user-joined" {
		decodeArg(m.T, ev, &uj)
	}
	if ev.Name != "session:user-joined" || uj.User.Name != name {
		m.T.Errorf("%s heard %s %s, want %s joining", m.ID(), ev.Name, arg0(ev), name)
	}
}

// wantLeft wants the next thing m hears to be id leaving.
func (m *member) wantLeft(id string) {
	m.T.Helper()
	ev := m.nextAny()
	var ul struct{ UserID string }
	if ev.Name == "session:user-left" {
		decodeArg(m.T, ev, &ul)
	}
	if ev.Name != "session:user-left" || ul.UserID != id {
		m.T.Errorf("%s heard %s %s, want %s leaving", m.ID(), ev.Name, arg0(ev), id)
	}
}

// A token's room and name claims hold on every node: they are checked
// where the client connects, before the cluster is asked.
func TestTokenClaimsAcrossNodes(t *testing.T) {
	secret := []byte("an auth secret of at least 32 bytes, for the test")
	nodes := cluster(t, redistest.Start(t), 2, relay.Config{AuthSecret: secret})
	token := func(room, name string) string {
		t.Helper()
		tok, err := relay.SignToken(secret, relay.TokenClaims{Room: room, Name: name, Expires: time.Now().Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	a := connectToken(t, nodes[0], token("", ""))
	if code := a.create("GIG-1", "Ana"); code != "GIG-1" {
		t.Fatalf("created %q, want GIG-1", code)
	}
	other := connectToken(t, nodes[0], token("", ""))
	other.create("GIG-2", "Olga")

	b := connectToken(t, nodes[1], token("GIG-1", "Ada"))
	b.joinRefused("GIG-2", "", relay.CodeForbidden)
	b.emit("session:create", map[string]string{"roomCode": "GIG-3", "name": "Ben"})
	b.wantError(relay.CodeForbidden)
	got := b.join("GIG-1", "Ben")
	if len(got) != 2 || got[1].Name != "Ada" {
		t.Errorf("participants %s, want Ana and Ada (the token's name)", mustJSON(got))
	}
	a.wantJoined("Ada")
	// Olga hears of Cy's join next, so nothing of Ada's refused one.
	connectToken(t, nodes[1], token("", "")).join("GIG-2", "Cy")
	other.wantJoined("Cy")
}

// A private session made while Redis is down is served locally, secret
// and all, and is private on every node once Redis appears (the node
// re-asserts its key with its members).
func TestPrivateSessionMadeWhileRedisDown(t *testing.T) {
	redis := redistest.Reserve(t)
	n1, n2 := startNode(t, redis, relay.Config{}), startNode(t, redis, relay.Config{})
	a := connect(t, n1)
	code := a.createPrivate("Ana", "pw")
	connect(t, n1).joinRefused(code, "", relay.CodeForbidden)

	redis.Start()
	waitUp(t, n1)
	waitUp(t, n2)
	connect(t, n2).joinRefused(code, "", relay.CodeForbidden)
	connect(t, n2).joinRefused(code, "wp", relay.CodeForbidden)
	if got := connect(t, n2).joinWith(code, "Ben", "pw"); len(got) != 2 {
		t.Errorf("once Redis is up Ben sees %s, want Ana and Ben", mustJSON(got))
	}
	a.wantJoined("Ben")
}
