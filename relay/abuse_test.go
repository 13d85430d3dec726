package relay_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/jambridge/jambridge/relay"
)

// handshakeFrom opens a long-polling session as the client at addr (a
// trusted proxy's X-Forwarded-For) and returns the status.
func handshakeFrom(t *testing.T, r *testRelay, addr string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", r.URL+"/socket.io/?EIO=4&transport=polling", nil)
	req.Header.Set("X-Forwarded-For", addr)
	res, err := (&http.Client{Timeout: wait}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode
}

// behindProxy is a relay whose peer, the loopback, is a trusted proxy,
// so each test client is told apart by X-Forwarded-For.
func behindProxy(t *testing.T, cfg relay.Config) *testRelay {
	cfg.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	return newRelay(t, cfg)
}

// The probe's attack at a small scale: one address floods handshakes
// that never come back. It gets MaxConnectionsPerIP and 429 after that;
// the relay is far from full, and another address gets in, by polling
// and by websocket.
func TestOneAddressCannotFillTheRelay(t *testing.T) {
	// A window longer than the test: the five sessions stay open.
	r := behindProxy(t, relay.Config{MaxConnections: 200, MaxConnectionsPerIP: 5, HandshakeWindow: time.Hour})
	reg := metricsOf(t, r)
	counts := map[int]int{}
	for range 300 {
		counts[handshakeFrom(t, r, "203.0.113.7")]++
	}
	if counts[200] != 5 || counts[429] != 295 {
		t.Fatalf("statuses %v, want 5 x 200 and 295 x 429", counts)
	}
	if got := handshakeFrom(t, r, "198.51.100.1"); got != 200 {
		t.Errorf("newcomer's handshake: %d, want 200", got)
	}
	h := http.Header{"X-Forwarded-For": {"198.51.100.2"}}
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(r.URL, "http")+"/socket.io/?EIO=4&transport=websocket", h)
	if err != nil {
		t.Fatalf("newcomer's websocket: %v", err)
	}
	ws.Close()
	want(t, reg, map[string]float64{`jamrelay_refused_total{reason="per_address_limit"}`: 295})
	if n := strings.Count(r.Logs.String(), "refused a client"); n != 1 {
		t.Errorf("%d log lines about the refusals, want 1 (once per address and minute):\n%s", n, r.Logs)
	}
}

// A fresh websocket past the address's limit is closed with 1013 and a
// sentence; a member of another address is not disturbed.
func TestWebsocketPastTheAddressLimitIsClosed(t *testing.T) {
	r := behindProxy(t, relay.Config{MaxConnectionsPerIP: 2})
	u := "ws" + strings.TrimPrefix(r.URL, "http") + "/socket.io/?EIO=4&transport=websocket"
	h := http.Header{"X-Forwarded-For": {"203.0.113.7"}}
	for range 2 {
		ws, _, err := websocket.DefaultDialer.Dial(u, h)
		if err != nil {
			t.Fatal(err)
		}
		defer ws.Close()
		readPrefix(t, ws, "0{")
	}
	ws, _, err := websocket.DefaultDialer.Dial(u, h)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	ws.SetReadDeadline(time.Now().Add(wait))
	_, _, err = ws.ReadMessage()
	if !websocket.IsCloseError(err, websocket.CloseTryAgainLater) || !strings.Contains(err.Error(), "too many connections from your address") {
		t.Errorf("third websocket: %v, want close 1013 saying too many connections from your address", err)
	}
	code, p := session(t, r, "alice", "bob") // another address: the loopback
	p[0].emit("event:broadcast", map[string]any{"roomCode": code, "eventName": "drum_hit", "payload": 1})
	p[1].next("event:broadcast")
}

// Idle HTTP connections count against the address too: the one past the
// limit is closed unanswered, those within it are served.
func TestIdleConnectionsCountAgainstTheAddress(t *testing.T) {
	srv, err := relay.NewServer(relay.Config{MaxConnectionsPerIP: 3})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewUnstartedServer(srv)
	hs.Config.ConnState = srv.ConnState
	hs.Start()
	t.Cleanup(func() { srv.Close(); hs.Close() })
	var conns []net.Conn
	for range 4 {
		c, err := net.Dial("tcp", hs.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns = append(conns, c)
	}
	conns[3].SetReadDeadline(time.Now().Add(wait))
	if n, err := conns[3].Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("fourth connection: read %d bytes, %v; want EOF", n, err)
	}
	for i, c := range conns[:3] {
		fmt.Fprintf(c, "GET /socket.io/?EIO=3 HTTP/1.1\r\nHost: x\r\n\r\n")
		c.SetReadDeadline(time.Now().Add(wait))
		res, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatalf("connection %d within the limit: %v", i, err)
		}
		res.Body.Close()
	}
	if got := srv.Refused()["per_address_limit"]; got != 1 {
		t.Errorf("refused %d, want 1", got)
	}
}

// A long-polling session that never comes back after its handshake is
// expired after HandshakeWindow; one that polls stays.
func TestHandshakeWindowExpiresSilentPollingSessions(t *testing.T) {
	// back's GET follows its handshake at once: far within the window.
	r := newRelay(t, relay.Config{HandshakeWindow: time.Second})
	back := openPolling(t, r)
	pending := make(chan []string, 1)
	go func() { pending <- back.get() }() // comes back at once: held
	waitUntil(t, "the GET held", func() bool { return relay.PollPending(r.Server, back.sid) })
	silent := openPolling(t, r) // opened after back: its window ends later
	waitUntil(t, "the silent session expired", func() bool { return r.Refused()["handshake_window"] == 1 })
	httpDo(t, "GET", silent.url, "", http.StatusBadRequest) // Session ID unknown
	back.post("40")
	if got := <-pending; !strings.HasPrefix(got[0], `40{"sid":`) {
		t.Errorf("the session that came back got %q, want its connect", got)
	}
}

// Pongs, noops and ping frames past their budget close the flooding
// connection only; the session's members relay on.
func TestControlFloodClosesOnlyTheFlooder(t *testing.T) {
	for _, flood := range []string{"pong", "noop", "ping frame"} {
		r := newRelay(t, relay.Config{})
		code, p := session(t, r, "alice", "bob")
		ws := rawWS(t, r)
		write(t, ws, fmt.Sprintf(`42["session:join",{"roomCode":%q,"name":"flood"}]`, code))
		readPrefix(t, ws, `42["session:joined"`)
		p[0].next("session:user-joined")
		p[1].next("session:user-joined")
		go func() { // until the relay hangs up
			for {
				var err error
				switch flood {
				case "pong":
					err = ws.WriteMessage(websocket.TextMessage, []byte("3"))
				case "noop":
					err = ws.WriteMessage(websocket.TextMessage, []byte("6"))
				default:
					err = ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(wait))
				}
				if err != nil {
					return
				}
			}
		}()
		readClosed(t, ws)
		p[0].next("session:user-left")
		p[0].emit("event:broadcast", map[string]any{"roomCode": code, "eventName": "drum_hit", "payload": 1})
		p[1].next("event:broadcast")
		if got := r.Refused()["control_flood"]; got != 1 {
			t.Errorf("%s flood: refused %d, want 1", flood, got)
		}
	}
}

// The DNS-rebinding request of the probe: the Host header names the
// attacker's page too, which the relay no longer looks at.
func TestDNSRebindingIsRefused(t *testing.T) {
	r := newRelay(t, relay.Config{})
	port := r.URL[strings.LastIndex(r.URL, ":")+1:]
	for _, transport := range []string{"polling", "websocket"} {
		req, _ := http.NewRequest("GET", r.URL+"/socket.io/?EIO=4&transport="+transport, nil)
		req.Host = "evil.example:" + port
		req.Header.Set("Origin", "http://evil.example:"+port)
		if transport == "websocket" {
			req.Header.Set("Connection", "Upgrade")
			req.Header.Set("Upgrade", "websocket")
			req.Header.Set("Sec-WebSocket-Version", "13")
			req.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("%s: rebinding request got %d, want 403", transport, res.StatusCode)
		}
	}
	// The relay's own origin, by address or localhost, is welcome.
	for _, o := range []string{r.URL, "http://localhost:" + port} {
		req, _ := http.NewRequest("GET", r.URL+"/socket.io/?EIO=4&transport=polling", nil)
		req.Header.Set("Origin", o)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 || res.Header.Get("Access-Control-Allow-Origin") != o {
			t.Errorf("origin %s: %d, Access-Control-Allow-Origin %q", o, res.StatusCode, res.Header.Get("Access-Control-Allow-Origin"))
		}
	}
}

// PublicOrigins and HostNames are the relay's origins besides the
// address a connection came in on; host names are never taken from the
// request.
func TestPublicOrigins(t *testing.T) {
	r := newRelay(t, relay.Config{PublicOrigins: []string{"https://jam.example"}, HostNames: []string{"jampi.local"}})
	port := r.URL[strings.LastIndex(r.URL, ":")+1:]
	for origin, status := range map[string]int{
		"https://jam.example":         200,
		"https://jam.example:443":     200,
		"http://jam.example":          403,
		r.URL:                         200, // the address it came in on
		"http://jampi.local:" + port:  200,
		"https://jampi.local:" + port: 403, // not over TLS
		"http://jampi.local:1" + port: 403,
		"http://other.local:" + port:  403,
	} {
		req, _ := http.NewRequest("GET", r.URL+"/socket.io/?EIO=4&transport=polling", nil)
		req.Header.Set("Origin", origin)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != status {
			t.Errorf("origin %s: %d, want %d", origin, res.StatusCode, status)
		}
	}
	if _, err := relay.NewServer(relay.Config{PublicOrigins: []string{"jam.example"}}); err == nil {
		t.Error("a public url without a scheme was accepted")
	}
}

// "*" lets any page in, but never with credentials.
func TestAllowAnyOriginNeverWithCredentials(t *testing.T) {
	r := newRelay(t, relay.Config{AllowOrigins: []string{"*"}})
	for _, method := range []string{"GET", "OPTIONS"} {
		req, _ := http.NewRequest(method, r.URL+"/socket.io/?EIO=4&transport=polling", nil)
		req.Header.Set("Origin", "http://anything.example")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		acao, acac := res.Header.Get("Access-Control-Allow-Origin"), res.Header.Get("Access-Control-Allow-Credentials")
		if acao != "*" || acac != "" {
			t.Errorf("%s: Access-Control-Allow-Origin %q with Allow-Credentials %q, want * without", method, acao, acac)
		}
	}
}

// The pong each ping is owed never spends the control budget, however
// short the ping interval: 60 pongs at 100 a second, twelve times the
// budget's rate and three times its burst, and the member plays on.
func TestOwedPongsNeverSpendTheControlBudget(t *testing.T) {
	r := newRelay(t, relay.Config{PingInterval: 10 * time.Millisecond, PingTimeout: wait})
	code, p := session(t, r, "alice", "bob")
	ws := rawWS(t, r)
	write(t, ws, fmt.Sprintf(`42["session:join",{"roomCode":%q,"name":"drummer"}]`, code))
	pongs := 0
	for pongs < 60 {
		_, msg, err := ws.ReadMessage()
		if err != nil {
			t.Fatalf("the relay closed the member after %d owed pongs: %v", pongs, err)
		}
		if string(msg) == "2" {
			write(t, ws, "3")
			pongs++
		}
	}
	write(t, ws, fmt.Sprintf(`42["event:broadcast",{"roomCode":%q,"eventName":"drum_hit","payload":1}]`, code))
	p[0].next("event:broadcast")
	if got := r.Refused()["control_flood"]; got != 0 {
		t.Errorf("owed pongs refused %d times, want 0", got)
	}
}
