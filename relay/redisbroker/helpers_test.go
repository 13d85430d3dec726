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
	"github.com/jambridge/jambridge/relay"
	"github.com/jambridge/jambridge/relay/redisbroker"
)

// wait bounds every wait for something that must happen, so a broken
// cluster fails instead of hanging; it is not a speed assertion.
const wait = 15 * time.Second

// node is one relay of the cluster, in process.
type node struct {
	srv    *relay.Server
	broker *redisbroker.Broker
	URL    string
	closed bool
}

func startNode(t *testing.T, redis *redistest.Server, cfg relay.Config) *node {
	t.Helper()
	b, err := redisbroker.New(redisbroker.Options{URL: redis.URL()})
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
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %s", wait, what)
		}
		time.Sleep(5 * time.Millisecond) // polling a condition that must become true
	}
}

// member is one musician connected with relay.Client.
type member struct {
	t *testing.T
	*relay.Client
	inbox chan relay.Event
	kept  []relay.Event
}

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
	m := &member{t: t, inbox: make(chan relay.Event, 8192)}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	c, err := relay.Dial(ctx, relay.ClientConfig{URL: n.URL, Token: token, OnEvent: func(ev relay.Event) { m.inbox <- ev }})
	if err != nil {
		t.Fatal(err)
	}
	m.Client = c
	t.Cleanup(func() { c.Close() })
	return m
}

func (m *member) emit(name string, arg any) {
	m.t.Helper()
	if err := m.Emit(name, arg); err != nil {
		m.t.Fatalf("emit %s: %v", name, err)
	}
}

// next returns the argument of the next event named name, keeping the
// others for later.
func (m *member) next(name string) json.RawMessage {
	m.t.Helper()
	for i, ev := range m.kept {
		if ev.Name == name {
			m.kept = append(m.kept[:i], m.kept[i+1:]...)
			return arg0(ev)
		}
	}
	timeout := time.After(wait)
	for {
		select {
		case ev := <-m.inbox:
			if ev.Name == name {
				return arg0(ev)
			}
			m.kept = append(m.kept, ev)
		case <-timeout:
			m.t.Fatalf("%s: no %q within %v (kept %d others)", m.ID(), name, wait, len(m.kept))
			return nil
		}
	}
}

func (m *member) decode(name string, v any) {
	m.t.Helper()
	if err := json.Unmarshal(m.next(name), v); err != nil {
		m.t.Fatalf("%s: %v", name, err)
	}
}

func arg0(ev relay.Event) json.RawMessage {
	if len(ev.Args) == 0 {
		return nil
	}
	return ev.Args[0]
}

type joined struct {
	RoomCode     string              `json:"roomCode"`
	UserID       string              `json:"userId"`
	Participants []relay.Participant `json:"participants"`
}

// create makes a session on m's node and returns its code.
func (m *member) create(code, name string) string {
	m.t.Helper()
	m.emit("session:create", map[string]string{"roomCode": code, "name": name, "kind": "bridge"})
	var j joined
	m.decode("session:created", &j)
	return j.RoomCode
}

// join joins code and returns the participants the relay listed.
func (m *member) join(code, name string) []relay.Participant {
	m.t.Helper()
	m.emit("session:join", map[string]string{"roomCode": code, "name": name, "kind": "browser"})
	var j joined
	m.decode("session:joined", &j)
	return j.Participants
}

// wantError waits for an error and checks its code.
func (m *member) wantError(code string) {
	m.t.Helper()
	var e struct{ Code, Message string }
	m.decode("error", &e)
	if e.Code != code {
		m.t.Errorf("error code %q (%s), want %q", e.Code, e.Message, code)
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
	m.t.Helper()
	m.emit("event:broadcast", map[string]any{"roomCode": code, "eventName": name, "payload": payload, "seq": seq})
}

// sync waits for a clock:sync round trip: everything m sent before has
// been handled by its node.
func (m *member) sync() {
	m.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if _, err := m.Call(ctx, "clock:sync", map[string]int{"t0": 1}); err != nil {
		m.t.Fatal(err)
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

func decodeArg(t *testing.T, ev relay.Event, v any) {
	t.Helper()
	if err := json.Unmarshal(arg0(ev), v); err != nil {
		t.Fatalf("%s: %v", ev.Name, err)
	}
}
