package relay_test

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/jambridge/jambridge/relay"
)

// seq, when given, is a non-negative integer of at most 2^53 (PROTOCOL.md);
// anything else is a bad_request for the sender and reaches nobody.
func TestSeqMustBeAnInteger(t *testing.T) {
	r := newRelay(t, relay.Config{EventRate: 1e6, EventBurst: 1e6})
	code, p := session(t, r, "alice", "bob")
	bad := []string{
		`"7"`, `"a-1"`, `1.5`, `1.0`, `1e3`, `-1`, `-0`, `9007199254740993`, `18446744073709551616`,
		`true`, `[1]`, `{"n":1}`, strings.Repeat("9", 900_000), // the 900 KB seq of the issue
	}
	for _, seq := range bad {
		arg := fmt.Sprintf(`{"roomCode":%q,"eventName":"drum_hit","payload":1,"seq":%s}`, code, seq)
		if err := p[0].EmitRaw("event:broadcast", []byte(arg)); err != nil {
			t.Fatal(err)
		}
		if msg := p[0].wantError(relay.CodeBadRequest); !strings.Contains(msg, "seq") {
			t.Errorf("seq %.20s: error %q does not name seq", seq, msg)
		}
	}
	p[1].quiet("event:broadcast", p[0])
	for _, c := range []struct{ seq, want string }{{`0`, `0`}, {`9007199254740992`, `9007199254740992`}, {`null`, ``}} {
		arg := fmt.Sprintf(`{"roomCode":%q,"eventName":"drum_hit","payload":1,"seq":%s}`, code, c.seq)
		if err := p[0].EmitRaw("event:broadcast", []byte(arg)); err != nil {
			t.Fatal(err)
		}
		var got relayed
		p[1].decode("event:broadcast", &got)
		if string(got.Seq) != c.want {
			t.Errorf("seq %s relayed as %q, want %q", c.seq, got.Seq, c.want)
		}
	}
	p[0].quiet("error")
}

// A member that never reads, sent big but legal events: its send queue
// stays within its byte bound, the oldest are dropped and counted, and
// the others get everything.
func TestSlowMemberQueueIsBoundedInBytes(t *testing.T) {
	const bound = 128 << 10
	r := newRelay(t, relay.Config{MaxEventPayload: 30 << 10, SendQueueBytes: bound, SendQueue: 1024,
		WriteTimeout: time.Minute, EventRate: 1e6, EventBurst: 1e6})
	code, p := session(t, r, "alice", "bob")
	rawMember(t, r, code, "never-reads", 4096)
	p[0].next("session:user-joined")
	p[1].next("session:user-joined")
	pad := strings.Repeat("x", 25<<10)
	const n = 400 // 10 MB for the member that never reads
	for i := range n {
		p[0].emit("event:broadcast", map[string]any{"roomCode": code, "eventName": "piano_note", "payload": map[string]any{"i": i, "pad": pad}})
		var ev struct{ Payload struct{ I int } }
		p[1].decode("event:broadcast", &ev) // bob keeps up, so alice is paced by him
		if ev.Payload.I != i {
			t.Fatalf("bob got event %d at position %d", ev.Payload.I, i)
		}
		if most, _ := relay.QueuedBytes(r.Server); most > bound {
			t.Fatalf("after event %d a send queue holds %d bytes, bound %d", i, most, bound)
		}
	}
	p[0].sync()
	most, dropped := relay.QueuedBytes(r.Server)
	st := r.Stats()
	// The kernel's buffers take at most 4 MB (tcp_wmem's usual maximum:
	// 160 events), the queue 5; the rest is dropped.
	if most > bound || dropped < n/2 || st.Dropped != dropped || st.Stuck != 0 {
		t.Errorf("queue holds %d bytes (bound %d), %d dropped, stats %+v: want most of %d dropped, counted, none stuck",
			most, bound, dropped, st, n)
	}
}

// A long-polling client that posts a close packet: its pending GET gets
// a noop, as engine.io answers, and the session is gone.
func TestPollingClientCloseAnswersThePendingGetWithNoop(t *testing.T) {
	r := newRelay(t, relay.Config{})
	pl := openPolling(t, r)
	pl.post("40")
	pl.get()
	pending := make(chan string, 1)
	go func() { pending <- getRaw(pl.url) }()
	waitUntil(t, "the poll to reach the relay", func() bool { return relay.PollPending(r.Server, pl.sid) })
	pl.post("1")
	if got := <-pending; got != "200 6" {
		t.Errorf("pending GET answered %q, want 200 6", got)
	}
	httpDo(t, "GET", pl.url, "", http.StatusBadRequest)
}

// getRaw does a GET and returns "status body", for a goroutine (no t).
func getRaw(url string) string {
	res, err := (&http.Client{Timeout: wait}).Get(url)
	if err != nil {
		return err.Error()
	}
	defer res.Body.Close()
	var b strings.Builder
	bufio.NewReader(res.Body).WriteTo(&b)
	return fmt.Sprintf("%d %s", res.StatusCode, b.String())
}

// A connection that never sends the Socket.IO CONNECT is closed after
// ConnectTimeout, over either transport. (That a connected one is kept
// is TestConnectTimeoutSparesConnectedSockets, in fake time.)
func TestConnectTimeoutClosesSilentConnections(t *testing.T) {
	r := newRelay(t, relay.Config{ConnectTimeout: 50 * time.Millisecond})
	u := "ws" + strings.TrimPrefix(r.URL, "http") + "/socket.io/?EIO=4&transport=websocket"
	ws, _, err := websocket.DefaultDialer.Dial(u, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	readPrefix(t, ws, "0{")
	readClosed(t, ws) // it answers nothing, and is closed
	pl := openPolling(t, r)
	// A GET pending at the timeout gets a close packet; one that comes
	// later finds the session gone. Either way it ends.
	if got := getRaw(pl.url); got != "200 1" && !strings.HasPrefix(got, "400 ") {
		t.Errorf("poll of a silent polling session = %q, want a close packet or 400", got)
	}
	waitUntil(t, "the polling session to time out", func() bool { return r.Stats().ConnectTimeouts == 2 })
	httpDo(t, "GET", pl.url, "", http.StatusBadRequest)
	if st := r.Stats(); st.Connections != 0 {
		t.Errorf("stats %+v: want nothing open", st)
	}
}

// After the upgrade, a long-poll GET with the session's id is refused,
// every time: a GET that comes once polling has paused waits for the
// upgrade's outcome instead of racing it.
func TestUpgradedSessionRefusesPolling(t *testing.T) {
	r := newRelay(t, relay.Config{})
	for i := range 20 {
		pl := openPolling(t, r)
		pl.post("40")
		pl.get()
		pending := make(chan string, 1)
		go func() { pending <- getRaw(pl.url) }()
		waitUntil(t, "the poll to reach the relay", func() bool { return relay.PollPending(r.Server, pl.sid) })
		u := "ws" + strings.TrimPrefix(strings.Replace(pl.url, "transport=polling", "transport=websocket", 1), "http")
		ws, _, err := websocket.DefaultDialer.Dial(u, nil)
		if err != nil {
			t.Fatal(err)
		}
		write(t, ws, "2probe")
		readPrefix(t, ws, "3probe")
		if got := <-pending; got != "200 6" {
			t.Fatalf("round %d: pending poll = %q, want a noop", i, got)
		}
		write(t, ws, "5")
		httpDo(t, "GET", pl.url, "", http.StatusBadRequest) // at once: the relay may not have read "5" yet
		write(t, ws, `421["clock:sync",{"t0":1}]`)
		readPrefix(t, ws, `431[`) // the websocket carries on
		ws.Close()
	}
}

// A long-polling POST whose body does not arrive within the read
// deadline is answered 400, as engine.io does, and closes its session.
func TestPollingPostCutShortIsRefusedAndCloses(t *testing.T) {
	r := newRelay(t, relay.Config{WriteTimeout: 100 * time.Millisecond})
	pl := openPolling(t, r)
	c, err := net.Dial("tcp", strings.TrimPrefix(r.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	path := strings.TrimPrefix(pl.url, r.URL)
	fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: relay\r\nContent-Length: 100\r\n\r\n40", path) // 98 bytes short
	c.SetReadDeadline(time.Now().Add(wait))
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no answer to a POST cut short: %v", err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusBadRequest {
		t.Errorf("POST cut short answered %d, want 400", res.StatusCode)
	}
	httpDo(t, "GET", pl.url, "", http.StatusBadRequest) // the session is closed
}
