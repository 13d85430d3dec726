package redisbroker_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"github.com/jambridge/jambridge/internal/redistest"
	"github.com/jambridge/jambridge/relay"
	"github.com/jambridge/jambridge/relay/redisbroker"
)

// Members join, leave and create on a node after it took its snapshot of
// members for a re-assertion and before it counts as up again (a hook
// holds it there): once up, Redis holds exactly the members the node
// has, so the other node's members hear the joiner and the leaver, and
// its new members see the right lists and sessions.
func TestChangesDuringReassertionAreReasserted(t *testing.T) {
	redis := redistest.Start(t)
	ana, ben := namedNode(t, redis, "ana-node"), namedNode(t, redis, "ben-node")
	waitUp(t, ana)
	waitUp(t, ben)
	a, ada, b := connect(t, ana), connect(t, ana), connect(t, ben)
	code := a.create("", "Ana")
	ada.join(code, "Ada")
	b.join(code, "Ben")
	a.wantJoined("Ada")
	a.wantJoined("Ben")
	ada.wantJoined("Ben")

	window := holdReassertion(t, ana)
	before := ana.broker.Reassertions()
	killSubscriptions(t, redis, "ana-node") // only Ana's node counts down; Ben's listens on
	window.wait(t)
	cleo := connect(t, ana)
	if got := cleo.join(code, "Cleo"); len(got) != 3 {
		t.Errorf("in the window Cleo sees %s, want Ana, Ada and Cleo (served locally)", mustJSON(got))
	}
	ada.emit("session:leave", map[string]string{})
	ada.next("session:left")
	ana.broker.Flush() // Ada's leave reached the publisher, which dropped it: the node is down
	eve := connect(t, ana)
	eveCode := eve.create("", "Eve")
	window.release()
	waitUntil(t, "Ana's node to re-assert", func() bool { return ana.broker.Reassertions() > before && ana.broker.Up() })

	checkStored(t, redis, code, a.ID(), b.ID(), cleo.ID())
	checkStored(t, redis, eveCode, eve.ID())
	b.wantPresence(map[string]bool{"joined Cleo": true, "left " + ada.ID(): true})
	dee := connect(t, ben)
	if got := dee.join(eveCode, "Dee"); len(got) != 2 {
		t.Errorf("Dee sees %s in Eve's session, want Eve and Dee", mustJSON(got))
	}
}

// namedNode starts a node named name whose connections to Redis carry
// that name (CLIENT SETNAME), so a test can cut them alone.
func namedNode(t *testing.T, redis *redistest.Server, name string) *node {
	t.Helper()
	return startNodeWith(t, redisbroker.Options{URL: redis.URL() + "?client_name=" + name, Node: name}, relay.Config{})
}

// killSubscriptions cuts the subscriptions' connection of the node named
// name (namedNode), as a restart of Redis between two beats would.
func killSubscriptions(t *testing.T, redis *redistest.Server, name string) {
	t.Helper()
	rdb := goredis.NewClient(&goredis.Options{Addr: redis.Addr})
	defer rdb.Close()
	ctx := context.Background()
	list, err := rdb.ClientList(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	killed := 0
	for line := range strings.Lines(list) {
		f := fields(line)
		if f["name"] == name && f["flags"] == "P" {
			if err := rdb.ClientKillByFilter(ctx, "ID", f["id"]).Err(); err != nil {
				t.Fatal(err)
			}
			killed++
		}
	}
	if killed != 1 {
		t.Fatalf("killed %d subscriptions' connections of %s, want 1:\n%s", killed, name, list)
	}
}

// fields splits a line of CLIENT LIST into its key=value fields.
func fields(line string) map[string]string {
	out := map[string]string{}
	for kv := range strings.FieldsSeq(line) {
		k, v, _ := strings.Cut(kv, "=")
		out[k] = v
	}
	return out
}

// window holds a node's re-assertion in its first round, once the node
// took its snapshot of members and before it wrote them.
type window struct {
	entered, proceed chan struct{}
	done             sync.Once
}

func holdReassertion(t *testing.T, n *node) *window {
	w := &window{entered: make(chan struct{}), proceed: make(chan struct{})}
	var first sync.Once
	n.broker.OnReassert(func() {
		first.Do(func() {
			close(w.entered)
			<-w.proceed
		})
	})
	t.Cleanup(w.release) // before the node's Close, registered earlier
	return w
}

func (w *window) wait(t *testing.T) {
	t.Helper()
	select {
	case <-w.entered:
	case <-timeAfterWait():
		t.Fatalf("no re-assertion within %v", wait)
	}
}

func (w *window) release() { w.done.Do(func() { close(w.proceed) }) }

// checkStored checks that Redis holds exactly the members ids in code.
func checkStored(t *testing.T, redis *redistest.Server, code string, ids ...string) {
	t.Helper()
	rdb := goredis.NewClient(&goredis.Options{Addr: redis.Addr})
	defer rdb.Close()
	got, err := rdb.HKeys(context.Background(), "jam:s:"+code).Result()
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	ids = slices.Sorted(slices.Values(ids))
	if !slices.Equal(got, ids) {
		t.Errorf("redis holds %v in session %s, want %v", got, code, ids)
	}
}

// wantPresence wants the next things m hears to be want's joins ("joined
// NAME") and leaves ("left ID"), in any order.
func (m *member) wantPresence(want map[string]bool) {
	m.T.Helper()
	for range len(want) {
		ev := m.nextAny()
		var p struct {
			User   relay.Participant
			UserID string
		}
		decodeArg(m.T, ev, &p)
		got := map[string]string{"session:user-joined": "joined " + p.User.Name, "session:user-left": "left " + p.UserID}[ev.Name]
		if !want[got] {
			m.T.Errorf("%s heard %s %s, want one of %v", m.ID(), ev.Name, arg0(ev), want)
		}
		delete(want, got)
	}
}

// A member whose join found the node down (Redis out of reach, its
// re-assertion held in its window), and which returns only after the
// re-assertion's last look counted the node up, is written to Redis all
// the same: the other node hears it.
func TestJoinReturningAfterReassertionIsWritten(t *testing.T) {
	redis := redistest.Start(t)
	ana, ben := namedNode(t, redis, "ana-node"), namedNode(t, redis, "ben-node")
	waitUp(t, ana)
	waitUp(t, ben)
	a, b := connect(t, ana), connect(t, ben)
	code := a.create("", "Ana")
	b.join(code, "Ben")
	a.wantJoined("Ben")

	found, proceed := make(chan struct{}), make(chan struct{})
	var once, released sync.Once
	release := func() { released.Do(func() { close(proceed) }) }
	t.Cleanup(release)
	ana.broker.OnJoinDown(func() { once.Do(func() { close(found); <-proceed }) })
	window := holdReassertion(t, ana)
	before := ana.broker.Reassertions()
	killSubscriptions(t, redis, "ana-node")
	window.wait(t)
	cleo := connect(t, ana)
	joined := make(chan []relay.Participant, 1)
	go func() { joined <- cleo.join(code, "Cleo") }()
	<-found // Cleo recorded, Redis found down, her join not returned
	window.release()
	waitUntil(t, "Ana's node to re-assert", func() bool { return ana.broker.Reassertions() > before && ana.broker.Up() })
	release()
	if got := <-joined; len(got) != 2 {
		t.Errorf("Cleo sees %s, want Ana and Cleo (served locally)", mustJSON(got))
	}
	checkStored(t, redis, code, a.ID(), b.ID(), cleo.ID())
	b.wantPresence(map[string]bool{"joined Cleo": true})
}
