package relay_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/jambridge/jambridge/relay"
)

// poller is a bare long-polling Engine.IO client.
type poller struct {
	t   *testing.T
	url string // .../socket.io/?EIO=4&transport=polling&sid=...
	sid string
}

func openPolling(t *testing.T, r *testRelay) *poller {
	t.Helper()
	body := httpDo(t, "GET", r.URL+"/socket.io/?EIO=4&transport=polling", "", 200)
	if !strings.HasPrefix(body, `0{"sid":"`) || !strings.Contains(body, `"upgrades":["websocket"]`) {
		t.Fatalf("handshake = %q", body)
	}
	sid := strings.SplitN(body[len(`0{"sid":"`):], `"`, 2)[0]
	return &poller{t: t, url: r.URL + "/socket.io/?EIO=4&transport=polling&sid=" + sid, sid: sid}
}

// pollingMember connects a long-polling client and joins it to code,
// whose first member, first, is told of it.
func pollingMember(t *testing.T, r *testRelay, code string, first *peer) *poller {
	t.Helper()
	pl := openPolling(t, r)
	pl.post("40")
	pl.get()
	pl.post(fmt.Sprintf(`42["session:join",{"roomCode":%q}]`, code))
	pl.get()
	first.next("session:user-joined")
	return pl
}

func (p *poller) post(packets ...string) {
	p.t.Helper()
	if got := httpDo(p.t, "POST", p.url, strings.Join(packets, "\x1e"), 200); got != "ok" {
		p.t.Fatalf("post answered %q, want ok", got)
	}
}

func (p *poller) get() []string {
	p.t.Helper()
	return strings.Split(httpDo(p.t, "GET", p.url, "", 200), "\x1e")
}

func httpDo(t *testing.T, method, url, body string, want int) string {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Timeout: wait}
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != want {
		t.Fatalf("%s %s: status %d %s, want %d", method, url, res.StatusCode, b, want)
	}
	return string(b)
}

func TestPollingSessionAndBroadcast(t *testing.T) {
	r := newRelay(t, relay.Config{})
	code, p := session(t, r, "alice")
	pl := openPolling(t, r)
	pl.post("40")
	if got := pl.get(); len(got) != 1 || !strings.HasPrefix(got[0], `40{"sid":"`) {
		t.Fatalf("connect reply = %q", got)
	}
	// Two packets in one POST: join, then an event.
	pl.post(fmt.Sprintf(`42["session:join",{"roomCode":%q,"name":"poll"}]`, code),
		fmt.Sprintf(`42["event:broadcast",{"roomCode":%q,"eventName":"piano_note","payload":{"note":"C4"}}]`, code))
	if got := pl.get(); len(got) != 1 || !strings.HasPrefix(got[0], `42["session:joined"`) {
		t.Fatalf("join reply = %q", got)
	}
	p[0].next("session:user-joined")
	var ev relayed
	p[0].decode("event:broadcast", &ev)
	if ev.EventName != "piano_note" || string(ev.Payload) != `{"note":"C4"}` {
		t.Errorf("relayed = %+v", ev)
	}
	// And back: alice's event reaches the long-polling member.
	p[0].emit("event:broadcast", map[string]any{"roomCode": code, "eventName": "drum_hit", "payload": 7})
	got := pl.get()
	if len(got) != 1 || !strings.HasPrefix(got[0], `42["event:broadcast",{"eventName":"drum_hit","payload":7,"senderId":"`+p[0].ID()) {
		t.Errorf("poll = %q", got)
	}
}

func TestPollingErrors(t *testing.T) {
	r := newRelay(t, relay.Config{MaxPayload: 200, MaxEventPayload: 100})
	for _, c := range []struct{ url, want string }{
		{"/socket.io/?EIO=3&transport=polling", `{"code":5,"message":"Unsupported protocol version"}`},
		{"/socket.io/?EIO=4&transport=carrier-pigeon", `{"code":0,"message":"Transport unknown"}`},
		{"/socket.io/?EIO=4&transport=polling&sid=nope", `{"code":1,"message":"Session ID unknown"}`},
	} {
		if got := httpDo(t, "GET", r.URL+c.url, "", 400); got != c.want {
			t.Errorf("GET %s = %s, want %s", c.url, got, c.want)
		}
	}
	pl := openPolling(t, r)
	httpDo(t, "POST", pl.url, strings.Repeat("4", 201), http.StatusRequestEntityTooLarge)
	// The oversized body closed that session.
	httpDo(t, "GET", pl.url, "", 400)
}

// The upgrade exactly as socket.io-client does it: probe over websocket,
// a noop for the pending poll, then upgrade.
func TestPollingUpgradesToWebsocket(t *testing.T) {
	r := newRelay(t, relay.Config{})
	code, p := session(t, r, "alice")
	pl := pollingMember(t, r, code, p[0])

	pending := make(chan []string, 1)
	go func() { pending <- pl.get() }()
	u := "ws" + strings.TrimPrefix(strings.Replace(pl.url, "transport=polling", "transport=websocket", 1), "http")
	ws, _, err := websocket.DefaultDialer.Dial(u, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	write(t, ws, "2probe")
	readPrefix(t, ws, "3probe")
	select {
	case got := <-pending:
		if len(got) != 1 || got[0] != "6" {
			t.Fatalf("pending poll = %q, want a noop", got)
		}
	case <-time.After(wait):
		t.Fatal("pending poll not released by the probe")
	}
	write(t, ws, "5")
	p[0].emit("event:broadcast", map[string]any{"roomCode": code, "eventName": "drum_hit", "payload": 1})
	readPrefix(t, ws, `42["event:broadcast"`)
	write(t, ws, fmt.Sprintf(`42["event:broadcast",{"roomCode":%q,"eventName":"x","payload":2}]`, code))
	p[0].next("event:broadcast")
	// Polling is over for this session: a late GET is refused, and the
	// websocket carries on.
	httpDo(t, "GET", pl.url, "", 400)
	p[0].emit("event:broadcast", map[string]any{"roomCode": code, "eventName": "drum_hit", "payload": 2})
	readPrefix(t, ws, `42["event:broadcast"`)
}

func TestHeartbeat(t *testing.T) {
	// A pong may take PingTimeout: generous, so a loaded machine (-race)
	// does not drop the clients that answer. The exact timing is
	// TestHeartbeatInFakeTime's.
	r := newRelay(t, relay.Config{PingInterval: 50 * time.Millisecond, PingTimeout: 500 * time.Millisecond})
	// A client that answers pings stays (relay.Client pongs).
	code, p := session(t, r, "alice")
	// A client that never answers is dropped, and its session hears it.
	silent := rawWS(t, r)
	write(t, silent, fmt.Sprintf(`42["session:join",{"roomCode":%q}]`, code))
	readPrefix(t, silent, "2") // the relay pings...
	readClosed(t, silent)      // ...and hangs up on silence.
	p[0].next("session:user-joined")
	p[0].next("session:user-left")
	// One that answers stays past several intervals.
	ws := rawWS(t, r)
	for range 4 {
		readPrefix(t, ws, "2")
		write(t, ws, "3")
	}
	write(t, ws, `421["clock:sync",{"t0":1}]`)
	readPrefix(t, ws, `431[{"t0":1,`)
}

func TestMalformedPacketClosesOnlyThatConnection(t *testing.T) {
	// A client ping is a protocol error in EIO 4 ("invalid heartbeat
	// direction" in the reference server), like the rest.
	for _, bad := range []string{"", "9", "4", "4x", "42not json", `42{"not":"array"}`, "42[1]", "42[]", "45-", "4/admin", "2", "5"} {
		t.Run(fmt.Sprintf("%q", bad), func(t *testing.T) {
			r := newRelay(t, relay.Config{})
			code, p := session(t, r, "alice", "bob")
			ws := rawWS(t, r)
			write(t, ws, fmt.Sprintf(`42["session:join",{"roomCode":%q}]`, code))
			readPrefix(t, ws, `42["session:joined"`)
			write(t, ws, bad)
			readClosed(t, ws)
			for _, o := range p {
				o.next("session:user-joined")
				o.next("session:user-left")
				o.sync()
			}
			o := p[0]
			o.emit("event:broadcast", map[string]any{"roomCode": code, "eventName": "drum_hit", "payload": 1})
			p[1].next("event:broadcast")
		})
	}
}

func TestUnknownNamespaceGetsConnectError(t *testing.T) {
	r := newRelay(t, relay.Config{})
	ws := rawWS(t, r)
	write(t, ws, "40/admin,")
	if got := readPrefix(t, ws, "44"); got != `44/admin,{"message":"Invalid namespace"}` {
		t.Errorf("got %s", got)
	}
}

func TestBinaryIsRefusedWithoutHarm(t *testing.T) {
	r := newRelay(t, relay.Config{})
	code, p := session(t, r, "alice")
	ws := rawWS(t, r)
	write(t, ws, fmt.Sprintf(`451-["event:broadcast",{"roomCode":%q,"eventName":"x","payload":{"_placeholder":true,"num":0}}]`, code))
	readPrefix(t, ws, `42["error",{"message":"binary attachments are not supported`)
	if err := ws.WriteMessage(websocket.BinaryMessage, []byte{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	readPrefix(t, ws, `42["error"`)
	write(t, ws, "421[\"clock:sync\",{\"t0\":1}]")
	readPrefix(t, ws, `431[{"t0":1,`) // still alive
	p[0].quiet("event:broadcast")
}

func TestOversizedWebsocketPacketClosesOnlyThatConnection(t *testing.T) {
	r := newRelay(t, relay.Config{MaxPayload: 1000, MaxEventPayload: 500})
	code, p := session(t, r, "alice", "bob")
	ws := rawWS(t, r)
	write(t, ws, fmt.Sprintf(`42["event:broadcast",{"roomCode":%q,"eventName":"x","payload":"%s"}]`, code, strings.Repeat("x", 1000)))
	readClosed(t, ws)
	p[0].emit("event:broadcast", map[string]any{"roomCode": code, "eventName": "drum_hit", "payload": 1})
	p[1].next("event:broadcast")
}

func TestOriginPolicy(t *testing.T) {
	cases := []struct {
		allow  []string
		origin string
		ok     bool
	}{
		{nil, "", true},                     // the bridge sends none
		{nil, "http://evil.example", false}, // foreign page
		{[]string{"http://localhost:5173"}, "http://localhost:5173", true},
		{[]string{"http://localhost:5173"}, "http://localhost:5174", false},
		{[]string{"*"}, "http://anything.example", true},
	}
	for _, c := range cases {
		r := newRelay(t, relay.Config{AllowOrigins: c.allow})
		u := "ws" + strings.TrimPrefix(r.URL, "http") + "/socket.io/?EIO=4&transport=websocket"
		h := http.Header{}
		if c.origin != "" {
			h.Set("Origin", c.origin)
		}
		ws, res, err := websocket.DefaultDialer.Dial(u, h)
		if (err == nil) != c.ok {
			t.Errorf("allow %v origin %q: err %v, want ok=%v", c.allow, c.origin, err, c.ok)
		}
		if ws != nil {
			ws.Close()
		}
		if err != nil && res != nil && res.StatusCode != http.StatusForbidden {
			t.Errorf("refused with %d, want 403", res.StatusCode)
		}
		// Same origin is always allowed.
		h.Set("Origin", r.URL)
		if ws, _, err := websocket.DefaultDialer.Dial(u, h); err != nil {
			t.Errorf("same origin refused: %v", err)
		} else {
			ws.Close()
		}
	}
	// Long-polling from an allowed page gets CORS headers.
	r := newRelay(t, relay.Config{AllowOrigins: []string{"http://localhost:5173"}})
	req, _ := http.NewRequest("GET", r.URL+"/socket.io/?EIO=4&transport=polling", nil)
	req.Header.Set("Origin", "http://localhost:5173")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if got := res.Header.Get("Access-Control-Allow-Origin"); got != "http://localhost:5173" {
		t.Errorf("Access-Control-Allow-Origin = %q", got)
	}
}

func TestCloseDisconnectsEveryClient(t *testing.T) {
	r := newRelay(t, relay.Config{})
	_, p := session(t, r, "alice", "bob")
	ws := rawWS(t, r)
	pl := openPolling(t, r)
	pl.post("40")
	pl.get()
	pending := make(chan []string, 1)
	go func() { pending <- pl.get() }()
	waitUntil(t, "the poll to reach the relay", func() bool { return relay.PollPending(r.Server, pl.sid) })
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	for _, o := range p {
		select {
		case <-o.Done():
		case <-time.After(wait):
			t.Fatalf("client %s not disconnected", o.ID())
		}
	}
	readClosed(t, ws)
	if got := <-pending; len(got) != 1 || got[0] != "1" {
		t.Errorf("pending poll = %q, want a close packet", got)
	}
	if st := r.Stats(); st.Connections != 0 || st.Sessions != 0 {
		t.Errorf("after Close: %+v", st)
	}
	// New clients are turned away.
	httpDo(t, "GET", r.URL+"/socket.io/?EIO=4&transport=polling", "", http.StatusServiceUnavailable)
}

// Connect and disconnect packets cost a token too: a 40/41 loop is a
// flood like any other.
func TestConnectDisconnectLoopIsRateLimited(t *testing.T) {
	r := newRelay(t, relay.Config{EventRate: 1, EventBurst: 5})
	ws := rawWS(t, r) // its CONNECT took one token
	for range 10 {
		write(t, ws, "41")
		write(t, ws, "40")
	}
	readPrefix(t, ws, `42["error",{"message":"too many events`)
	// The relay may still be working through the packets: wait for it.
	deadline := time.Now().Add(wait)
	for r.Stats().RateLimited < 10 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if st := r.Stats(); st.RateLimited < 10 || st.Connects > 3 {
		t.Errorf("stats = %+v, want the loop limited", st)
	}
}

func TestMaxConnections(t *testing.T) {
	r := newRelay(t, relay.Config{MaxConnections: 2})
	connect(t, r)
	openPolling(t, r)
	httpDo(t, "GET", r.URL+"/socket.io/?EIO=4&transport=polling", "", http.StatusServiceUnavailable)
	u := "ws" + strings.TrimPrefix(r.URL, "http") + "/socket.io/?EIO=4&transport=websocket"
	if _, res, err := websocket.DefaultDialer.Dial(u, nil); err == nil || res.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("third websocket: err %v, want 503", err)
	}
}

// A second upgrade of the same session is refused and harms nothing, and
// Close does not wait on an upgrade that is half done.
func TestUpgradeRaces(t *testing.T) {
	r := newRelay(t, relay.Config{PingTimeout: time.Minute})
	pl := openPolling(t, r)
	pl.post("40")
	pl.get()
	u := "ws" + strings.TrimPrefix(strings.Replace(pl.url, "transport=polling", "transport=websocket", 1), "http")
	first, _, err := websocket.DefaultDialer.Dial(u, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	write(t, first, "2probe")
	readPrefix(t, first, "3probe")
	second, _, err := websocket.DefaultDialer.Dial(u, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	write(t, second, "2probe")
	readClosed(t, second) // refused while the first probe is under way
	closed := make(chan struct{})
	go func() { r.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(wait): // PingTimeout is a minute: Close must not wait for it
		t.Fatal("Close waited on a half-done upgrade")
	}
	readClosed(t, first)
}
