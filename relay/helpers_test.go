package relay_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/jambridge/jambridge/internal/relaytest"
	"github.com/jambridge/jambridge/relay"
)

// wait bounds every wait in these tests so a broken relay fails the test
// instead of hanging it. It is never a speed assertion.
const wait = 5 * time.Second

// logBuffer collects log output for assertions on the story's log lines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// testRelay is a relay on a real loopback socket.
type testRelay struct {
	*relay.Server
	URL  string
	Logs *logBuffer
	http *httptest.Server
}

func newRelay(t *testing.T, cfg relay.Config) *testRelay {
	t.Helper()
	logs := &logBuffer{}
	cfg.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	srv, err := relay.NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		srv.Close()
		hs.Close()
	})
	return &testRelay{Server: srv, URL: hs.URL, Logs: logs, http: hs}
}

// peer is a participant connected with relay.Client; it collects every
// event it receives (relaytest.Peer).
type peer struct{ *relaytest.Peer }

func connect(t *testing.T, r *testRelay) *peer {
	t.Helper()
	return dialPeer(t, relay.ClientConfig{URL: r.URL})
}

// dialPeer connects a peer as cfg says (its OnEvent is the peer's).
func dialPeer(t *testing.T, cfg relay.ClientConfig) *peer {
	t.Helper()
	return &peer{relaytest.Dial(t, cfg, 4096, wait)}
}

func (p *peer) emit(name string, arg any) { p.T.Helper(); p.Send(name, arg) }

// next returns the next event named name, keeping the others for later.
func (p *peer) next(name string) json.RawMessage { p.T.Helper(); return p.Next(name) }

// decode waits for the next event named name and unmarshals it into v.
func (p *peer) decode(name string, v any) { p.T.Helper(); p.Decode(name, v) }

// quiet checks that no event named name has reached p from anything p
// and the actors sent so far. No waiting for time to pass: a clock:sync
// round trip of each actor proves the relay has handled (and fanned out)
// everything that actor sent before, and one of p's own then proves all
// of that has reached p (the relay writes to p in order, and the client
// runs OnEvent before it resolves the ack).
func (p *peer) quiet(name string, actors ...*peer) {
	p.T.Helper()
	for _, a := range actors {
		a.sync()
	}
	p.sync()
	for _, ev := range p.received() {
		if ev.Name == name {
			p.T.Fatalf("%s: unexpected %q: %s", p.ID(), name, arg0(ev))
		}
	}
}

// received moves what has arrived into kept, and returns kept.
func (p *peer) received() []relay.Event {
	for {
		select {
		case ev := <-p.Inbox:
			p.Kept = append(p.Kept, ev)
		default:
			return p.Kept
		}
	}
}

// count returns how many events named name have arrived by now, consuming
// them; call it after a sync.
func (p *peer) count(name string) int {
	n := 0
	kept := p.Kept[:0]
	for _, ev := range p.received() {
		if ev.Name == name {
			n++
		} else {
			kept = append(kept, ev)
		}
	}
	p.Kept = kept
	return n
}

// sync makes a clock:sync round trip, proving the connection is alive
// and that everything sent to p before it has been delivered.
func (p *peer) sync() {
	p.T.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if _, err := p.Call(ctx, "clock:sync", map[string]any{"t0": 1}); err != nil {
		p.T.Fatalf("%s: clock:sync: %v", p.ID(), err)
	}
}

// wantError waits for an error event and checks its code.
func (p *peer) wantError(code string) string {
	p.T.Helper()
	var e struct{ Message, Code string }
	p.decode("error", &e)
	if e.Code != code || e.Message == "" {
		p.T.Fatalf("error = %+v, want code %q and a message", e, code)
	}
	return e.Message
}

var (
	arg0  = relaytest.Arg0
	names = relaytest.Names
)

type created struct {
	RoomCode     string
	UserID       string
	Participants []relay.Participant
}

// session makes a session of len(names) peers; the first creates it.
func session(t *testing.T, r *testRelay, names ...string) (string, []*peer) {
	t.Helper()
	var code string
	peers := make([]*peer, len(names))
	for i, n := range names {
		p := connect(t, r)
		peers[i] = p
		var c created
		if i == 0 {
			p.emit("session:create", map[string]any{"name": n})
			p.decode("session:created", &c)
			code = c.RoomCode
		} else {
			p.emit("session:join", map[string]any{"roomCode": code, "name": n})
			p.decode("session:joined", &c)
		}
		for _, o := range peers[:i] {
			o.next("session:user-joined")
		}
	}
	return code, peers
}

// rawWSNoConnect opens a bare Engine.IO websocket and reads its open
// packet; the test sends the CONNECT.
func rawWSNoConnect(t *testing.T, r *testRelay) *websocket.Conn {
	t.Helper()
	u := "ws" + strings.TrimPrefix(r.URL, "http") + "/socket.io/?EIO=4&transport=websocket"
	ws, _, err := websocket.DefaultDialer.Dial(u, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	readPrefix(t, ws, "0{")
	return ws
}

// rawWS opens a bare Engine.IO websocket and connects to "/"; it does not
// answer pings unless the test does.
func rawWS(t *testing.T, r *testRelay) *websocket.Conn {
	t.Helper()
	ws := rawWSNoConnect(t, r)
	write(t, ws, "40")
	readPrefix(t, ws, `40{"sid":`)
	return ws
}

func write(t *testing.T, ws *websocket.Conn, s string) {
	t.Helper()
	if err := ws.WriteMessage(websocket.TextMessage, []byte(s)); err != nil {
		t.Fatal(err)
	}
}

// readPrefix reads packets, skipping pings, until one that starts with
// prefix.
func readPrefix(t *testing.T, ws *websocket.Conn, prefix string) string {
	t.Helper()
	ws.SetReadDeadline(time.Now().Add(wait))
	for {
		_, msg, err := ws.ReadMessage()
		if err != nil {
			t.Fatalf("waiting for %q: %v", prefix, err)
		}
		if strings.HasPrefix(string(msg), prefix) {
			return string(msg)
		}
	}
}

// readClosed reads until the relay closes ws, failing if it does not.
func readClosed(t *testing.T, ws *websocket.Conn) {
	t.Helper()
	ws.SetReadDeadline(time.Now().Add(wait))
	for {
		if _, _, err := ws.ReadMessage(); err != nil {
			if ne, ok := err.(interface{ Timeout() bool }); ok && ne.Timeout() {
				t.Fatalf("relay did not close the connection within %v", wait)
			}
			return
		}
	}
}

func contextWithWait() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), wait)
}

// fakeClock is a relay clock (Config.Now) that moves only when told:
// token buckets and the stuck rule then follow the test, not the
// machine's speed.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Unix(1_764_097_200, 0)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// rawMember joins the session code as a raw websocket whose TCP receive
// buffer is fixed at readBuffer bytes (no autotuning), so a test controls
// when the relay's writes to it fill up; it reads nothing by itself.
func rawMember(t *testing.T, r *testRelay, code, name string, readBuffer int) *websocket.Conn {
	t.Helper()
	d := websocket.Dialer{NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err == nil {
			c.(*net.TCPConn).SetReadBuffer(readBuffer)
		}
		return c, err
	}}
	ws, _, err := d.Dial("ws"+strings.TrimPrefix(r.URL, "http")+"/socket.io/?EIO=4&transport=websocket", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	readPrefix(t, ws, "0{")
	write(t, ws, "40")
	readPrefix(t, ws, "40")
	write(t, ws, fmt.Sprintf(`42["session:join",{"roomCode":%q,"name":%q}]`, code, name))
	readPrefix(t, ws, `42["session:joined"`)
	return ws
}

// waitUntil polls cond until it holds, failing the test after wait. It
// waits for something to happen, never for time to pass.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s", wait, what)
		}
		time.Sleep(time.Millisecond)
	}
}
