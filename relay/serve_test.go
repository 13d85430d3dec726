package relay_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/jambridge/jambridge/relay"
)

// Tests of the serving reader (serve_unix.go): messages handled inside
// the socket's RawConn.Read, and what leaves it for the blocking path.
// Each writes websocket frames itself, raw, on the client's TCP
// connection: several in one write, or one cut in two, and synchronises
// on what a peer receives.

// frameConn is a websocket client whose frames the test writes raw.
type frameConn struct {
	t  *testing.T
	ws *websocket.Conn // reads only
	c  net.Conn        // the TCP connection under ws, for raw writes
}

// dialFrames opens a websocket to r and connects to "/".
func dialFrames(t *testing.T, r *testRelay) *frameConn {
	t.Helper()
	fc := &frameConn{t: t}
	d := websocket.Dialer{NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		fc.c = c
		return c, err
	}}
	ws, _, err := d.Dial("ws"+strings.TrimPrefix(r.URL, "http")+"/socket.io/?EIO=4&transport=websocket", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	fc.ws = ws
	readPrefix(t, ws, "0{")
	fc.send(textFrame("40"))
	readPrefix(t, ws, `40{"sid":`)
	return fc
}

// join makes fc a member of the session code.
func (fc *frameConn) join(code, name string) {
	fc.t.Helper()
	fc.send(textFrame(fmt.Sprintf(`42["session:join",{"roomCode":%q,"name":%q}]`, code, name)))
	readPrefix(fc.t, fc.ws, `42["session:joined"`)
}

// send writes the frames with one write.
func (fc *frameConn) send(frames ...[]byte) {
	fc.t.Helper()
	if _, err := fc.c.Write(bytes.Join(frames, nil)); err != nil {
		fc.t.Fatal(err)
	}
}

// maskedFrame is a client's websocket frame (RFC 6455 5.2).
var maskedFrame = relay.MaskedFrame

func textFrame(s string) []byte { return maskedFrame(true, websocket.TextMessage, []byte(s)) }

func broadcastFrame(code string, payload any) []byte {
	return textFrame(fmt.Sprintf(`42["event:broadcast",{"roomCode":%q,"eventName":"drum_hit","payload":%v}]`, code, payload))
}

// servedSession is a session of alice (a relay.Client) and a frameConn
// member.
func servedSession(t *testing.T, r *testRelay) (string, *peer, *frameConn) {
	t.Helper()
	code, p := session(t, r, "alice")
	fc := dialFrames(t, r)
	fc.join(code, "frames")
	p[0].next("session:user-joined")
	return code, p[0], fc
}

// wantPayloads waits for events whose payloads are want, in order.
func wantPayloads(t *testing.T, p *peer, want ...string) {
	t.Helper()
	for _, w := range want {
		var ev struct{ Payload json_ }
		p.decode("event:broadcast", &ev)
		if string(ev.Payload) != w {
			t.Fatalf("payload %s, want %s", ev.Payload, w)
		}
	}
}

// json_ keeps a payload as its JSON text.
type json_ []byte

func (j *json_) UnmarshalJSON(b []byte) error {
	*j = append((*j)[:0], b...)
	return nil
}

// Many messages in one write (more than the read buffer, and than one
// callback handles) are all served inside RawConn.Read, in order.
func TestServingABurstKeepsOrder(t *testing.T) {
	r := newRelay(t, relay.Config{})
	code, alice, fc := servedSession(t, r)
	before := relay.BlockingReads(r.Server)
	var frames [][]byte
	var want []string
	for i := range 100 {
		frames = append(frames, broadcastFrame(code, i))
		want = append(want, fmt.Sprint(i))
	}
	fc.send(frames...)
	wantPayloads(t, alice, want...)
	if n := relay.BlockingReads(r.Server) - before; n != 0 {
		t.Errorf("%d turns of the blocking path for a burst of complete messages, want 0", n)
	}
}

// A message cut in two (in its payload, or in its header) waits in the
// buffer, parked, for the rest: no turn of the blocking path.
func TestServingAMessageSplitAcrossSegments(t *testing.T) {
	r := newRelay(t, relay.Config{})
	code, alice, fc := servedSession(t, r)
	for _, cut := range []int{1, 5, 40} {
		before := relay.BlockingReads(r.Server)
		first, second := broadcastFrame(code, `"first"`), broadcastFrame(code, cut)
		fc.send(first, second[:cut])
		wantPayloads(t, alice, `"first"`) // the relay has read the first half
		fc.send(second[cut:])
		wantPayloads(t, alice, fmt.Sprint(cut))
		if n := relay.BlockingReads(r.Server) - before; n != 0 {
			t.Errorf("cut at %d: %d turns of the blocking path, want 0", cut, n)
		}
	}
}

// errGotPong stops the client's read at the pong.
var errGotPong = errors.New("pong")

// A websocket ping alone gets its pong at once, and the connection goes
// on.
func TestServingAPingAloneGetsItsPong(t *testing.T) {
	r := newRelay(t, relay.Config{})
	code, alice, fc := servedSession(t, r)
	fc.ws.SetPongHandler(func(data string) error {
		if data != "are you there" {
			t.Errorf("pong %q", data)
		}
		return errGotPong
	})
	fc.send(maskedFrame(true, websocket.PingMessage, []byte("are you there")))
	fc.ws.SetReadDeadline(time.Now().Add(wait))
	for {
		_, _, err := fc.ws.ReadMessage()
		if errors.Is(err, errGotPong) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	fc.send(broadcastFrame(code, 1))
	wantPayloads(t, alice, "1")
}

// A message bigger than the read buffer, and fragmented ones (with a
// ping between the fragments), are relayed whole.
func TestServingBigAndFragmentedMessages(t *testing.T) {
	r := newRelay(t, relay.Config{})
	code, alice, fc := servedSession(t, r)
	big := fmt.Sprintf(`"%s"`, strings.Repeat("x", 3000))
	fc.send(broadcastFrame(code, big))
	wantPayloads(t, alice, big)

	for _, n := range []int{10, 1500} { // in the buffer, and bigger than it
		msg := fmt.Sprintf(`42["event:broadcast",{"roomCode":%q,"eventName":"drum_hit","payload":"%s"}]`, code, strings.Repeat("y", n))
		third := len(msg) / 3
		fc.send(
			maskedFrame(false, websocket.TextMessage, []byte(msg[:third])),
			maskedFrame(true, websocket.PingMessage, []byte("mid")),
			maskedFrame(false, 0, []byte(msg[third:2*third])),
			maskedFrame(true, 0, []byte(msg[2*third:])),
			broadcastFrame(code, n),
		)
		wantPayloads(t, alice, fmt.Sprintf(`"%s"`, strings.Repeat("y", n)), fmt.Sprint(n))
	}
}
