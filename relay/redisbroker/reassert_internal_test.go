package redisbroker

import (
	"context"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/jambridge/jambridge/internal/redistest"
	"github.com/jambridge/jambridge/relay"
)

// A member that leaves session XXXX and joins YYYY while Redis is out of
// reach (before the node's re-assertion takes its snapshot) is, once the
// node is up again, in YYYY only: its leave of XXXX is applied, though
// the member's id is the same.
func TestMoveDuringOutageLeavesNoGhost(t *testing.T) {
	b := startBroker(t, redistest.Start(t))
	ctx := t.Context()
	create(t, b, "XXXX", "m")
	create(t, b, "YYYY", "c")
	var once sync.Once
	b.setHook(hookReassert, func() {
		once.Do(func() {
			b.Leave("XXXX", "m")
			b.Flush() // the publisher dropped the leave: the node is down
			if _, _, err := b.Join(ctx, "YYYY", relay.Participant{ID: "m"}, relay.Entry{}, 10); err == nil {
				t.Errorf("m joined YYYY in Redis while the node counted down")
			}
		})
	})
	before := b.Reassertions()
	b.markDown(errUnavailable) // as the receiver does when its connection breaks
	awaitReasserted(t, b, before)
	wantMovedToYYYY(t, b)
}

// A member written by its Create, whose Create has not returned when
// Redis restarts empty, is written again by the re-assertion that
// follows, though the member settles only after that re-assertion took
// its snapshot and looked for changes.
func TestCreateSettlingDuringReassertionIsWritten(t *testing.T) {
	b := startBroker(t, redistest.Start(t))
	create(t, b, "XXXX", "a")
	held, proceed := make(chan struct{}), make(chan struct{})
	var once, released, waited sync.Once
	release := func() { released.Do(func() { close(proceed) }) }
	t.Cleanup(release)
	b.setHook(hookSettle, func() { once.Do(func() { close(held); <-proceed }) })
	waiting := make(chan struct{})
	b.setHook(hookWait, func() { waited.Do(func() { close(waiting) }) })
	created := make(chan error, 1)
	go func() { created <- b.Create(t.Context(), "YYYY", relay.Participant{ID: "m"}, relay.Entry{}) }()
	<-held // m is in Redis, its Create not returned
	before := b.Reassertions()
	if err := b.rdb.FlushAll(t.Context()).Err(); err != nil { // as a restart of Redis, empty, would
		t.Fatal(err)
	}
	WaitUntil(t, "the re-assertion to wait for m, or to end", func() bool {
		select {
		case <-waiting:
			return true
		default:
			return b.Reassertions() > before && b.Up()
		}
	})
	release()
	if err := <-created; err != nil {
		t.Fatalf("create m: %v", err)
	}
	awaitReasserted(t, b, before)
	wantMembers(t, b, "XXXX", "a")
	wantMembers(t, b, "YYYY", "m")
}

// nobody is a ClusterPeer that hears nothing.
type nobody struct{}

func (nobody) RemoteEvent(string, []byte, bool)       {}
func (nobody) RemoteJoined(string, relay.Participant) {}
func (nobody) RemoteLeft(string, string)              {}

// startBroker starts a node on redis, without a relay, and waits until
// it is up.
func startBroker(t *testing.T, redis *redistest.Server) *Broker {
	t.Helper()
	b, err := New(Options{URL: redis.URL(), Node: "ana"})
	if err != nil {
		t.Fatal(err)
	}
	b.Bind(nobody{})
	t.Cleanup(func() { b.Close() })
	WaitUntil(t, "the node to be up", b.Up)
	return b
}

// create makes session code with member id, in Redis.
func create(t *testing.T, b *Broker, code, id string) {
	t.Helper()
	if err := b.Create(t.Context(), code, relay.Participant{ID: id}, relay.Entry{}); err != nil {
		t.Fatalf("create %s with %s: %v", code, id, err)
	}
}

// awaitReasserted waits until b re-asserted since before and is up.
func awaitReasserted(t *testing.T, b *Broker, before uint64) {
	t.Helper()
	WaitUntil(t, "the node to re-assert", func() bool { return b.Reassertions() > before && b.Up() })
}

// wantMembers checks that Redis holds exactly ids in session code.
func wantMembers(t *testing.T, b *Broker, code string, ids ...string) {
	t.Helper()
	got, err := b.rdb.HKeys(context.Background(), b.key("s:", code)).Result()
	if err != nil && err != goredis.Nil {
		t.Fatal(err)
	}
	if !sameSet(got, ids) {
		t.Errorf("redis holds %v in session %s, want %v", got, code, ids)
	}
}

func sameSet(a, b []string) bool {
	seen := map[string]int{}
	for _, s := range a {
		seen[s]++
	}
	for _, s := range b {
		seen[s]--
	}
	for _, n := range seen {
		if n != 0 {
			return false
		}
	}
	return true
}

// While a re-assertion subscribes, a join into a session goes on, and a
// session whose last member leaves meanwhile ends unsubscribed.
func TestJoinsGoOnWhileReassertionSubscribes(t *testing.T) {
	b := startBroker(t, redistest.Start(t))
	create(t, b, "XXXX", "x")
	create(t, b, "YYYY", "y")
	var once sync.Once
	subscribe := b.psSubscribe
	// The re-assertion's SUBSCRIBE blocks, as on a slow Redis, until a
	// join and a leave (its unsubscription under subMu) completed.
	b.psSubscribe = func(ctx context.Context, channels ...string) error {
		once.Do(func() {
			joined := make(chan error, 1)
			go func() {
				_, _, err := b.Join(t.Context(), "YYYY", relay.Participant{ID: "m"}, relay.Entry{}, 10)
				joined <- err
			}()
			left := make(chan struct{})
			go func() { b.Leave("XXXX", "x"); b.Flush(); close(left) }()
			for _, done := range []<-chan struct{}{chanOf(joined), left} {
				select {
				case <-done:
				case <-time.After(WaitBound): // a bound on a blocked join, not a speed assertion
					t.Errorf("a join or a leave waited %v on the re-assertion's subscription", WaitBound)
					return
				}
			}
		})
		return subscribe(ctx, channels...)
	}
	before := b.Reassertions()
	b.markDown(errUnavailable)
	awaitReasserted(t, b, before)
	wantMembers(t, b, "XXXX")
	wantMembers(t, b, "YYYY", "y", "m")
	got, err := b.rdb.PubSubChannels(t.Context(), b.key("ev:", "*")).Result()
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{b.key("ev:", "YYYY")}; !sameSet(got, want) {
		t.Errorf("the node is subscribed to %v, want %v", got, want)
	}
}

// chanOf returns a channel closed once c yields a value.
func chanOf(c <-chan error) <-chan struct{} {
	done := make(chan struct{})
	go func() { <-c; close(done) }()
	return done
}
