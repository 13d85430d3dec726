package redisbroker_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/jambridge/jambridge/internal/redistest"
	"github.com/jambridge/jambridge/internal/relaytest"
	"github.com/jambridge/jambridge/relay"
	"github.com/jambridge/jambridge/relay/redisbroker"
)

// wait bounds every wait for something that must happen, so a broken
// cluster fails instead of hanging; it is not a speed assertion.
const wait = redisbroker.WaitBound

// node is one relay of the cluster, in process.
type node struct {
	srv    *relay.Server
	broker *redisbroker.Broker
	URL    string
	closed bool
}

func startNode(t *testing.T, redis *redistest.Server, cfg relay.Config) *node {
	t.Helper()
	return startNodeWith(t, redisbroker.Options{URL: redis.URL()}, cfg)
}

// startNodeWith starts a node whose broker has the options opt.
func startNodeWith(t *testing.T, opt redisbroker.Options, cfg relay.Config) *node {
	t.Helper()
	b, err := redisbroker.New(opt)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Cluster = b
	if cfg.EventRate == 0 {
		cfg.EventRate, cfg.EventBurst = 1e6, 1e6 // the tests send bursts
	}
	srv, err := relay.NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", srv)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte(`{"status":"ok"}`)) })
	hs := httptest.NewServer(mux)
	n := &node{srv: srv, broker: b, URL: hs.URL}
	t.Cleanup(func() {
		n.stop()
		hs.Close()
	})
	return n
}

// stop shuts the node down cleanly: the relay closes its connections
// (its members leave), then the broker publishes that and stops.
func (n *node) stop() {
	if !n.closed {
		n.closed = true
		n.srv.Close()
		n.broker.Close()
	}
}

// cluster starts count nodes on one Redis and waits until each is up.
func cluster(t *testing.T, redis *redistest.Server, count int, cfg relay.Config) []*node {
	t.Helper()
	nodes := make([]*node, count)
	for i := range nodes {
		nodes[i] = startNode(t, redis, cfg)
	}
	for _, n := range nodes {
		waitUp(t, n)
	}
	return nodes
}

func waitUp(t *testing.T, n *node) {
	t.Helper()
	waitUntil(t, "node "+n.broker.Node()+" up in Redis", n.broker.Up)
}

func waitUntil(t testing.TB, what string, cond func() bool) {
	t.Helper()
	redisbroker.WaitUntil(t, what, cond)
}

// member is one musician connected with relay.Client (relaytest.Peer).
type member struct{ *relaytest.Peer }

// anaAndBen is a session of two nodes on redis: Ana created it on the
// first, Ben joined on the second, and Ana heard him join.
func anaAndBen(t *testing.T, redis *redistest.Server) (nodes []*node, a, b *member, code string) {
	t.Helper()
	nodes = cluster(t, redis, 2, relay.Config{})
	a, b = connect(t, nodes[0]), connect(t, nodes[1])
	code = a.create("", "Ana")
	b.join(code, "Ben")
	a.next("session:user-joined")
	return nodes, a, b, code
}

func connect(t *testing.T, n *node) *member {
	t.Helper()
	return connectToken(t, n, "")
}

// connectToken connects to n presenting the access token ("": none).
func connectToken(t *testing.T, n *node, token string) *member {
	t.Helper()
	return &member{relaytest.Dial(t, relay.ClientConfig{URL: n.URL, Token: token}, 8192, wait)}
}

func (m *member) emit(name string, arg any) { m.T.Helper(); m.Send(name, arg) }

// next returns the argument of the next event named name, keeping the
// others for later.
func (m *member) next(name string) json.RawMessage { m.T.Helper(); return m.Next(name) }

func (m *member) decode(name string, v any) { m.T.Helper(); m.Decode(name, v) }

var arg0 = relaytest.Arg0

type joined struct {
	RoomCode     string              `json:"roomCode"`
	UserID       string              `json:"userId"`
	Participants []relay.Participant `json:"participants"`
}

// create makes a session on m's node and returns its code.
func (m *member) create(code, name string) string {
	m.T.Helper()
	m.emit("session:create", map[string]string{"roomCode": code, "name": name, "kind": "bridge"})
	var j joined
	m.decode("session:created", &j)
	return j.RoomCode
}

// join joins code and returns the participants the relay listed.
func (m *member) join(code, name string) []relay.Participant {
	m.T.Helper()
	m.emit("session:join", map[string]string{"roomCode": code, "name": name, "kind": "browser"})
	var j joined
	m.decode("session:joined", &j)
	return j.Participants
}

// wantError waits for an error and checks its code.
func (m *member) wantError(code string) {
	m.T.Helper()
	var e struct{ Code, Message string }
	m.decode("error", &e)
	if e.Code != code {
		m.T.Errorf("error code %q (%s), want %q", e.Code, e.Message, code)
	}
}

// relayed is a received event:broadcast.
type relayed struct {
	EventName  string          `json:"eventName"`
	Payload    json.RawMessage `json:"payload"`
	SenderID   string          `json:"senderId"`
	Seq        int64           `json:"seq"`
	ServerTime float64         `json:"serverTime"`
}

func (m *member) broadcast(code, name string, seq int64, payload any) {
	m.T.Helper()
	m.emit("event:broadcast", map[string]any{"roomCode": code, "eventName": name, "payload": payload, "seq": seq})
}

// sync waits for a clock:sync round trip: everything m sent before has
// been handled by its node.
func (m *member) sync() {
	m.T.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if _, err := m.Call(ctx, "clock:sync", map[string]int{"t0": 1}); err != nil {
		m.T.Fatal(err)
	}
}

// metric returns the value of the broker's metric name (a counter or a
// gauge), for the label value reason when given.
func (n *node) metric(t *testing.T, name, reason string) float64 {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(n.broker)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if reason != "" && (len(m.GetLabel()) == 0 || m.GetLabel()[0].GetValue() != reason) {
				continue
			}
			if c := m.GetCounter(); c != nil {
				return c.GetValue()
			}
			if h := m.GetHistogram(); h != nil {
				return float64(h.GetSampleCount())
			}
			return m.GetGauge().GetValue()
		}
	}
	t.Fatalf("no metric %s %s", name, reason)
	return 0
}

func timeAfterWait() <-chan time.Time { return time.After(wait) }

func decodeArg(t testing.TB, ev relay.Event, v any) {
	t.Helper()
	if err := json.Unmarshal(arg0(ev), v); err != nil {
		t.Fatalf("%s: %v", ev.Name, err)
	}
}

// reassertions returns each node's count of re-assertions.
func reassertions(nodes []*node) []uint64 {
	out := make([]uint64, len(nodes))
	for i, n := range nodes {
		out[i] = n.broker.Reassertions()
	}
	return out
}

// waitReasserted waits until every node re-asserted since it had before
// (reassertions) and is up: it noticed the outage, put its members back
// and subscribed again. Up alone is not enough: a node can still be up
// from before an outage it has not noticed yet.
func waitReasserted(t *testing.T, nodes []*node, before []uint64) {
	t.Helper()
	for i, n := range nodes {
		waitUntil(t, "node "+n.broker.Node()+" to re-assert after the outage", func() bool {
			return n.broker.Reassertions() > before[i] && n.broker.Up()
		})
	}
}
