package redisbroker

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/jambridge/jambridge/relay"
)

// Options configure a Broker.
type Options struct {
	// URL is the Redis server: redis://HOST:PORT/DB, rediss:// for TLS.
	URL string
	// Node names this relay in the cluster; empty: a random id. It must
	// be unique among the nodes, and hold no '|'.
	Node string
	// Prefix starts every key and channel; empty: "jam:".
	Prefix string
	// Logger receives the broker's logs; nil discards them.
	Logger *slog.Logger
}

// Timing of the cluster's liveness, named.
const (
	// heartbeatEvery refreshes the node's heartbeat, which expires after
	// heartbeatTTL: a node killed is noticed within heartbeatTTL plus
	// sweepEvery by the other nodes' sweeps.
	heartbeatEvery = time.Second
	heartbeatTTL   = 3 * time.Second
	sweepEvery     = 500 * time.Millisecond
	// opTimeout bounds one round trip to Redis (a publish batch, a
	// heartbeat, a subscription); past it Redis counts as down.
	opTimeout = time.Second
	// backoffMin and backoffMax bound the wait between attempts to reach
	// a Redis that is down, doubling with jitter.
	backoffMin = 250 * time.Millisecond
	backoffMax = 4 * time.Second
)

// errUnavailable: Redis cannot be reached now; the relay serves locally.
var errUnavailable = errors.New("redis is unreachable")

// Broker is a relay.Cluster on one Redis server. New starts its
// goroutines; Close stops them.
type Broker struct {
	opt  Options
	node string
	log  *slog.Logger
	ro   *redis.Options // what the publisher dials (pubconn.go)
	rdb  *redis.Client
	ps   *redis.PubSub
	peer relay.ClusterPeer // set by Bind before any session exists
	m    *metrics
	pub  *publisher
	// psSubscribe is ps.Subscribe, called by a re-assertion without
	// subMu; a test replaces it with one that blocks, as a slow Redis.
	psSubscribe func(ctx context.Context, channels ...string) error

	up     atomic.Bool // Redis answered the last heartbeat and the node re-asserted
	outage atomic.Bool // an outage was logged and not yet its end
	// epoch counts the re-assertions: the publisher dials again when it
	// changed, as its connection may be to a Redis that went away.
	epoch atomic.Uint64
	// hooks, when set (tests only, export_test.go), run at the points
	// named by hookPoint, holding that goroutine until they return.
	hooks [numHooks]atomic.Pointer[func()]

	subMu sync.Mutex // serialises SUBSCRIBE/UNSUBSCRIBE with sessions' births and deaths

	mu       sync.Mutex // guards sessions, changed, settled, lost and lostFull; a leaf but for subMu above it
	sessions map[string]*session
	// changed holds, while a re-assertion runs (nil otherwise), the
	// members that joined, left or whose join settled since its last
	// round (reassert.go). Bounded by the members and leaves of the
	// node's sessions within one round trip to Redis; a re-assertion
	// that cannot keep up fails after maxReassertRounds.
	changed map[memberRef]struct{}
	// settled, while a re-assertion waits for pending members (nil
	// otherwise), is closed when one of them settles or leaves.
	settled chan struct{}
	// lost holds the leaves that may not be in Redis: made while the
	// node counted down, dropped or failed by the publisher, or marked
	// for a re-assertion that failed. The
	// next re-assertion applies them (idempotent) unless the node holds
	// the member there again (lost.go). Bounded by maxLost.
	lost map[memberRef]struct{}
	// lostFull: a leave was forgotten since lost last had room, and
	// warned of (lost.go forgetOne).
	lostFull bool

	// receiveTimeout bounds a read of the subscriptions (opTimeout; the
	// tests lengthen it): a read that times out is quiet, not an error.
	receiveTimeout time.Duration

	stop context.CancelFunc
	wg   sync.WaitGroup // the publisher, receiver and heartbeat goroutines
}

// session is what the node knows of one session it has members in.
type session struct {
	key    storedKey           // the session's key, kept for re-assertion
	local  map[string]string   // member id -> stored value, this node's members
	addrs  map[string]string   // member id -> its address's hash, re-asserted
	remote map[string]string   // member id -> node, other nodes' members
	left   map[string]struct{} // remote members gone: a stale snapshot must not bring them back
	// pending holds the local members whose Create or Join found Redis
	// up and has not returned: a re-assertion does not write them, and
	// waits for them to settle before it counts up (reassert.go).
	pending map[string]struct{}
	ready   chan struct{} // closed once Redis confirmed the subscription
}

// has reports whether id is a local member of s (nil: none is).
func (s *session) has(id string) bool {
	if s == nil {
		return false
	}
	_, ok := s.local[id]
	return ok
}

// isPending reports whether local member id's Create or Join is on its
// way.
func (s *session) isPending(id string) bool {
	_, p := s.pending[id]
	return p
}

// maxLeft bounds a session's remembered leavers; past it they are
// forgotten (ids are random, so forgetting risks only a stale snapshot).
const maxLeft = 4096

// New connects to Redis in the background and returns at once: a Redis
// that is down is reached later, with backoff, while the relay serves
// locally.
func New(opt Options) (*Broker, error) {
	ro, err := redis.ParseURL(opt.URL)
	if err != nil {
		return nil, fmt.Errorf("redis url %q: %w", opt.URL, err)
	}
	ro.DialTimeout, ro.ReadTimeout, ro.WriteTimeout = opTimeout, opTimeout, opTimeout
	ro.MaxRetries = -1 // no retry hidden in the client: the broker decides
	ro.DialerRetries = 1
	ro.Protocol = 2
	ro.Dialer = func(ctx context.Context, network, addr string) (net.Conn, error) {
		return dialRedis(ctx, ro, network, addr)
	}
	if opt.Node == "" {
		opt.Node = randomNode()
	}
	if strings.ContainsAny(opt.Node, "|") {
		return nil, fmt.Errorf("cluster node id %q must not hold '|'", opt.Node)
	}
	if opt.Prefix == "" {
		opt.Prefix = "jam:"
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	b := &Broker{opt: opt, node: opt.Node, log: opt.Logger.With("node", opt.Node), m: newMetrics(), sessions: make(map[string]*session),
		lost: make(map[memberRef]struct{})}
	b.ro = ro
	b.receiveTimeout = opTimeout
	b.rdb = redis.NewClient(ro)
	b.ps = b.rdb.Subscribe(context.Background())
	b.psSubscribe = b.ps.Subscribe
	b.pub = newPublisher(b)
	return b, nil
}

func randomNode() string {
	var r [6]byte
	rand.Read(r[:])
	return hex.EncodeToString(r[:])
}

// Node returns the node's id in the cluster.
func (b *Broker) Node() string { return b.node }

// Bind implements relay.Cluster and starts the broker's goroutines.
func (b *Broker) Bind(peer relay.ClusterPeer) {
	b.peer = peer
	ctx, cancel := context.WithCancel(context.Background())
	b.stop = cancel
	b.wg.Add(3)
	go func() { defer b.wg.Done(); b.pub.run(ctx) }()
	go func() { defer b.wg.Done(); b.receive(ctx) }()
	go func() { defer b.wg.Done(); b.heartbeat(ctx) }()
}

// Close publishes what is queued (the leaves of a clean shutdown, once
// the relay has closed its connections), stops the broker's goroutines,
// waiting for them, and deletes the node's heartbeat: the next sweep of
// another node then removes what the leaves did not (nothing, unless
// Redis was out of reach) and the node's keys. Closing the PubSub, after
// the goroutines' context ended, ends the receiver's blocking read at
// once: Close does not wait for it to time out.
func (b *Broker) Close() error {
	if b.stop == nil {
		b.ps.Close()
		return b.rdb.Close()
	}
	b.pub.drain()
	b.stop()
	b.ps.Close()
	b.wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	b.rdb.Del(ctx, b.key("hb:", b.node))
	cancel()
	return b.rdb.Close()
}

func (b *Broker) key(kind, name string) string { return b.opt.Prefix + kind + name }

// Create implements relay.Cluster.
func (b *Broker) Create(ctx context.Context, code string, p relay.Participant, e relay.Entry) error {
	defer b.settle(code, p.ID)
	j := joining{code: code, p: p, mode: "create", key: keyOf(e.Key), addr: addrHash(e.Addr)}
	_, err := b.add(ctx, &j)
	return err
}

// Join implements relay.Cluster. A private session's salt is learnt from
// a first try of the script, which then refuses before writing anything;
// the second try carries the proof.
func (b *Broker) Join(ctx context.Context, code string, p relay.Participant, e relay.Entry, maxMembers int) ([]relay.Participant, relay.SessionKey, error) {
	defer b.settle(code, p.ID)
	j := joining{code: code, p: p, mode: "join", max: maxMembers, addr: addrHash(e.Addr), limited: e.Limited}
	if salt := b.salt(code); salt != "" && e.Proof != nil {
		j.key = proved(salt, e.Proof) // a session the node has members in: one round trip
	}
	for range 2 {
		res, err := b.add(ctx, &j)
		switch {
		case errors.Is(err, errSalt) && e.Proof != nil:
			j.key = proved(res[1], e.Proof)
			continue
		case errors.Is(err, errSalt):
			b.forget(code, p.ID)
			return nil, relay.SessionKey{}, relay.ErrClusterForbidden
		case err != nil:
			return nil, relay.SessionKey{}, err
		}
		key, err := storedKey{res[1], res[2]}.sessionKey()
		if err != nil { // never written by a node: refuse rather than open the session
			b.log.Error("refused a join", "room", code, "err", err)
			b.Leave(code, p.ID) // added already: its leave is heard
			return nil, relay.SessionKey{}, relay.ErrClusterForbidden
		}
		b.setKey(code, storedKey{res[1], res[2]})
		return b.snapshot(code, res[3:]), key, nil
	}
	b.forget(code, p.ID)
	return nil, relay.SessionKey{}, relay.ErrClusterForbidden // the salt changed twice: the session was made anew meanwhile
}

// joining is one create or join on its way to joinScript.
type joining struct {
	code    string
	p       relay.Participant
	mode    string    // "create", "join" or "assert" (see joinScript)
	max     int       // the members limit of a join
	key     storedKey // create: the new key; join: the salt and proof
	addr    string    // the client address's hash
	limited bool      // the address is over this node's failed-join limit
}

// errSalt: the session is private and the join's proof was made with
// another salt (or none); add's result holds the stored salt.
var errSalt = errors.New("the session's salt is needed")

// add records j's member as local (kept for re-assertion even when Redis
// is down), subscribes to the session and runs joinScript; it returns
// the script's result.
func (b *Broker) add(ctx context.Context, j *joining) ([]string, error) {
	pj, _ := json.Marshal(j.p)
	stored := storedMember(b.node, pj)
	ready, up := b.addLocal(ctx, j, stored)
	if !up {
		b.hook(hookJoinDown)
		return nil, errUnavailable
	}
	select {
	case <-ready:
	case <-ctx.Done():
		// Redis answers too slowly: count it down, so the heartbeat
		// re-asserts this member once it answers again.
		err := fmt.Errorf("subscribe to session %s: %w", j.code, errUnavailable)
		b.markDown(err)
		return nil, err
	}
	res, err := b.runJoin(ctx, b.rdb, j, stored).StringSlice()
	if err != nil {
		b.markDown(err)
		return nil, errUnavailable
	}
	refused := map[string]error{"taken": relay.ErrClusterCodeTaken, "notfound": relay.ErrClusterNotFound, "full": relay.ErrClusterFull,
		"forbidden": relay.ErrClusterForbidden, "limited": relay.ErrClusterLimited, "salt": errSalt}[res[0]]
	if refused != nil {
		if refused != errSalt {
			b.forget(j.code, j.p.ID)
		}
		return res, refused
	}
	return res, nil
}

// runJoin runs joinScript for j's member, stored as stored, on c (the
// client, or a pipeline for a re-assertion: EVAL, as a pipeline cannot
// fall back from EVALSHA).
func (b *Broker) runJoin(ctx context.Context, c redis.Scripter, j *joining, stored string) *redis.Cmd {
	_, pj, _ := splitStored(stored)
	limited := "0"
	if j.limited {
		limited = "1"
	}
	args := []any{j.p.ID, stored, j.code, b.key("ev:", j.code), presence(kindJoin, b.node, pj), j.max, j.mode,
		j.key.salt, j.key.sum, j.addr, limited, maxKnownAddrs}
	if j.mode == "assert" {
		return joinScript.Eval(ctx, c, b.sessionKeys(j.code), args...)
	}
	return joinScript.Run(ctx, c, b.sessionKeys(j.code), args...)
}

// sessionKeys are the KEYS of joinScript and leaveScript for code.
func (b *Broker) sessionKeys(code string) []string {
	return []string{b.key("s:", code), b.key("nm:", b.node), b.key("k:", code), b.key("a:", code)}
}

// addLocal records j's member as local, subscribing to its session when
// it is the node's first there; the channel closes once subscribed. It
// reports whether Redis counted up as it recorded the member: then the
// member is pending until its Create or Join settles; else it is served
// locally, and a re-assertion writes it (doc.go, Concurrency).
func (b *Broker) addLocal(ctx context.Context, j *joining, stored string) (ready chan struct{}, up bool) {
	code, id := j.code, j.p.ID
	b.subMu.Lock()
	defer b.subMu.Unlock()
	b.mu.Lock()
	s := b.sessions[code]
	fresh := s == nil
	if fresh {
		s = &session{local: map[string]string{}, addrs: map[string]string{}, remote: map[string]string{}, left: map[string]struct{}{},
			pending: map[string]struct{}{}, ready: make(chan struct{})}
		b.sessions[code] = s
	}
	if fresh && j.mode == "create" {
		s.key = j.key // a join learns it from Redis (setKey)
	}
	s.local[id] = stored
	s.addrs[id] = j.addr
	up = b.up.Load() // under mu, as a re-assertion counts the node up
	if up {
		s.pending[id] = struct{}{} // until settle
	} else {
		b.unpend(s, id) // a Join's second try may find Redis gone
		b.noteChange(code, id)
	}
	b.mu.Unlock()
	if fresh && up {
		// An error leaves the channel to the PubSub's reconnection,
		// which subscribes to every channel asked for; while Redis is
		// down the re-assertion subscribes.
		_ = b.ps.Subscribe(ctx, b.key("ev:", code))
	}
	return s.ready, up
}

// snapshot turns the stored members into participants, in joining
// order, and learns the remote ones.
func (b *Broker) snapshot(code string, values []string) []relay.Participant {
	out := make([]relay.Participant, 0, len(values))
	b.mu.Lock()
	s := b.sessions[code]
	for _, v := range values {
		node, pj, ok := splitStored(v)
		var p relay.Participant
		if !ok || json.Unmarshal([]byte(pj), &p) != nil {
			continue
		}
		if s != nil && node != b.node {
			if _, gone := s.left[p.ID]; gone {
				continue
			}
			s.remote[p.ID] = node
		}
		out = append(out, p)
	}
	b.mu.Unlock()
	slices.SortStableFunc(out, func(a, b relay.Participant) int {
		if a.JoinedAt != b.JoinedAt {
			return int(a.JoinedAt - b.JoinedAt)
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
}

// Leave implements relay.Cluster: the leave is published after the
// member's events, by the publisher.
func (b *Broker) Leave(code, id string) { b.drop(code, id, false) }

// forget drops a local member that the cluster refused: it is in no
// session, so nothing is written or published for it; the publisher
// only unsubscribes when it was the node's last there.
func (b *Broker) forget(code, id string) { b.drop(code, id, true) }

func (b *Broker) drop(code, id string, quiet bool) {
	b.mu.Lock()
	s := b.sessions[code]
	last := false
	if s != nil {
		delete(s.local, id)
		delete(s.addrs, id)
		b.unpend(s, id)
		if len(s.local) == 0 {
			delete(b.sessions, code)
			last = true
		}
	}
	// A leave made while the node counts down (read under mu, as a
	// re-assertion takes the lost leaves) is lost now: the publisher
	// would keep it only when it gets to it, maybe after the next
	// re-assertion took them.
	kept := !quiet && !b.up.Load()
	if kept {
		b.keepLostLocked([]memberRef{{code, id}})
	}
	if !quiet { // a member forgotten was never written
		b.noteChange(code, id)
	}
	b.mu.Unlock()
	b.pub.pushLeave(code, id, last, quiet, kept)
}

// settle ends the pending state of member id of code, once its Create
// or Join returns: a running re-assertion then writes it, if the node
// still has it (its join met Redis down, or was written before a
// restart the re-assertion is for).
func (b *Broker) settle(code, id string) {
	b.hook(hookSettle)
	b.mu.Lock()
	defer b.mu.Unlock()
	if s := b.sessions[code]; s.has(id) {
		b.unpend(s, id)
		b.noteChange(code, id)
	}
}

// unpend ends the pending state of member id of s, telling a
// re-assertion that waits for it (settled); b.mu is held.
func (b *Broker) unpend(s *session, id string) {
	if _, ok := s.pending[id]; !ok {
		return
	}
	delete(s.pending, id)
	if b.settled != nil {
		close(b.settled)
		b.settled = nil
	}
}

// salt returns the salt of session code as the node knows it, "" when
// it knows none.
func (b *Broker) salt(code string) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if s := b.sessions[code]; s != nil {
		return s.key.salt
	}
	return ""
}

// setKey records the key of session code, as Redis holds it, for the
// re-assertion.
func (b *Broker) setKey(code string, k storedKey) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if s := b.sessions[code]; s != nil {
		s.key = k
	}
}

// Publish implements relay.Cluster.
func (b *Broker) Publish(code string, packet []byte, release bool) {
	if !b.up.Load() {
		b.m.dropped.WithLabelValues(dropRedisDown).Inc()
		return
	}
	b.pub.pushEvent(code, time.Now().UnixMicro(), release, packet)
}

// markDown notes Redis failing: logged once per outage.
func (b *Broker) markDown(err error) {
	b.up.Store(false)
	b.m.up.Set(0)
	if !b.outage.Swap(true) {
		b.log.Warn("redis unreachable: sessions go on with this node's members; events to other nodes are dropped and counted until it is back", "err", err)
	}
}

// Up reports whether Redis answers and the node's sessions are asserted
// there.
func (b *Broker) Up() bool { return b.up.Load() }

// upPoll is how often WaitUp looks.
const upPoll = 10 * time.Millisecond

// WaitUp waits until Up or ctx ends, and reports Up: a node about to
// serve gives Redis a moment, so its first clients already see the
// cluster.
func (b *Broker) WaitUp(ctx context.Context) bool {
	t := time.NewTicker(upPoll)
	defer t.Stop()
	for !b.Up() {
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
		}
	}
	return true
}
