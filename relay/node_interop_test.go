package relay_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jambridge/jambridge/relay"
)

// nodeStart bounds the start of the Node relay, which loads socket.io
// first: slower than our waits for packets, and still only a bound.
const nodeStart = 20 * time.Second

// nodeRelay is the reference Node socket.io relay (testdata/node/server.js)
// running as a subprocess.
type nodeRelay struct {
	*testRelay // URL only: enough for connect
	port       string
	cmd        *exec.Cmd
	exited     chan struct{} // closed once cmd has been waited for
	stderr     *logBuffer
}

// startNodeRelay starts server.js on port ("0" for a free one) and waits
// for its `listening <port>` line. Reusing the port of a relay just
// killed may fail for a moment: that is retried. The test's cleanup
// kills the relay. env is added to its environment.
func startNodeRelay(t *testing.T, node, port string, env ...string) *nodeRelay {
	t.Helper()
	deadline := time.Now().Add(nodeStart)
	for {
		n, err := tryNodeRelay(node, port, env)
		if err == nil {
			t.Cleanup(n.kill)
			return n
		}
		if port == "0" || time.Now().After(deadline) {
			t.Fatalf("start the node relay: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func tryNodeRelay(node, port string, env []string) (*nodeRelay, error) {
	lines := &portWriter{port: make(chan string, 1)}
	n := &nodeRelay{exited: make(chan struct{}), stderr: &logBuffer{}}
	n.cmd = exec.Command(node, "server.js")
	n.cmd.Dir = nodeDir
	n.cmd.Env = append(append(os.Environ(), "PORT="+port, "QUIET=1"), env...)
	n.cmd.Stdout, n.cmd.Stderr = lines, n.stderr
	if err := n.cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		n.cmd.Wait()
		close(n.exited)
	}()
	select {
	case n.port = <-lines.port:
		n.testRelay = &testRelay{URL: "http://127.0.0.1:" + n.port}
		return n, nil
	case <-n.exited:
		return nil, fmt.Errorf("node server.js exited: %s", n.stderr)
	case <-time.After(nodeStart):
		n.kill()
		return nil, fmt.Errorf("node server.js did not say `listening` within %v: %s", nodeStart, n.stderr)
	}
}

// kill stops the relay at once, as a crash would, and waits for it.
func (n *nodeRelay) kill() {
	n.cmd.Process.Kill()
	<-n.exited
}

// portWriter catches the `listening <port>` line of server.js.
type portWriter struct {
	mu   sync.Mutex // guards buf
	buf  []byte
	port chan string
}

func (w *portWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		line := strings.TrimSpace(string(w.buf[:i]))
		w.buf = w.buf[i+1:]
		if port, ok := strings.CutPrefix(line, "listening "); ok {
			select {
			case w.port <- port:
			default:
			}
		}
	}
}

// Our Session and Client against the stock Node socket.io relay: create,
// join, events both ways, clock:sync, presence, and a Session that finds
// its room again after the relay is killed and restarted on its port.
func TestSessionAgainstNodeRelay(t *testing.T) {
	node := requireNode(t)
	n := startNodeRelay(t, node, "0")
	ts := startSession(t, relay.SessionConfig{URL: n.URL, Name: "studio", Kind: "bridge"})
	c := ts.expect(relay.PresenceConnected)
	code := ts.Room()
	if !generatedCode.MatchString(code) || c.Room != code || len(c.Participants) != 1 ||
		c.Participants[0].ID != ts.ID() || c.Participants[0].Kind != "bridge" {
		t.Fatalf("created %+v, Room() %q; want a generated code with us alone", c, code)
	}

	web := connect(t, n.testRelay)
	if j := web.join(strings.ToLower(code), "web"); j.RoomCode != code || j.UserID != web.ID() || len(j.Participants) != 2 {
		t.Errorf("web joined %+v, want %s with 2 participants", j, code)
	}
	if j := ts.expect(relay.PresenceJoined); j.UserID != web.ID() || j.Participant.Name != "web" || j.Participant.Kind != "web" {
		t.Errorf("joined = %+v, want web", j)
	}

	ctx, cancel := contextWithWait()
	defer cancel()
	args, err := web.Call(ctx, "clock:sync", map[string]any{"t0": 1234.5})
	var ack struct{ T0, ServerTime float64 }
	if err != nil || len(args) != 1 || json.Unmarshal(args[0], &ack) != nil || ack.T0 != 1234.5 || ack.ServerTime <= 0 {
		t.Errorf("clock:sync = %s, %v; want {t0: 1234.5, serverTime}", args, err)
	}

	hit := `{"note":"snare","velocity":90,"timestamp":2}`
	web.emit("event:broadcast", map[string]any{"roomCode": code, "eventName": "drum_hit", "payload": json.RawMessage(hit), "seq": 9})
	checkReceived(t, ts.nextEvent(), web, "drum_hit", hit, "9")
	ts.broadcast("piano_note", `{"note":"C4","velocity":64}`)
	ts.broadcast("piano_note", `{"note":"C4","velocity":0}`)
	checkRelayed(t, web, ts.ID(), "piano_note", `{"note":"C4","velocity":64}`, 1)
	checkRelayed(t, web, ts.ID(), "piano_note", `{"note":"C4","velocity":0}`, 2)
	web.emit("event:broadcast", map[string]any{"roomCode": code, "eventName": "marker", "payload": 1})
	if b := ts.nextEvent(); b.EventName != "marker" {
		t.Errorf("got %s, want web's marker: the relay echoed us", b.EventName)
	}

	web.emit("session:leave", map[string]any{"roomCode": code})
	web.next("session:left")
	if l := ts.expect(relay.PresenceLeft); l.UserID != web.ID() || l.Participant.Name != "web" {
		t.Errorf("left = %+v, want web", l)
	}
	gone := connect(t, n.testRelay)
	gone.join(code, "gone")
	ts.expect(relay.PresenceJoined)
	gone.Close()
	if l := ts.expect(relay.PresenceLeft); l.UserID != gone.ID() {
		t.Errorf("left = %+v, want %s", l, gone.ID())
	}
	if got := ids(ts.Participants()); got != ts.ID() {
		t.Errorf("participants = %s, want us alone", got)
	}

	n.kill()
	if d := ts.expect(relay.PresenceDisconnected); d.Err == nil {
		t.Errorf("disconnected = %+v, want a reason", d)
	}
	if err := ts.Broadcast("drum_hit", []byte(hit)); !errors.Is(err, relay.ErrNotConnected) {
		t.Errorf("Broadcast while down = %v, want ErrNotConnected", err)
	}
	n2 := startNodeRelay(t, node, n.port)
	if c := ts.expect(relay.PresenceConnected); c.Room != code || len(c.Participants) != 1 {
		t.Errorf("reconnected = %+v, want %s recreated with us alone", c, code)
	}
	web2 := connect(t, n2.testRelay)
	web2.join(code, "web2")
	ts.expect(relay.PresenceJoined)
	web2.emit("event:broadcast", map[string]any{"roomCode": code, "eventName": "drum_hit", "payload": json.RawMessage(hit)})
	checkReceived(t, ts.nextEvent(), web2, "drum_hit", hit, "")
	ts.broadcast("drum_hit", hit)
	checkRelayed(t, web2, ts.ID(), "drum_hit", hit, 1)

	if err := ts.exit(true); err != nil {
		t.Fatalf("Run = %v, want nil", err)
	}
	ts.expect(relay.PresenceDisconnected)
	var left struct{ UserID string }
	web2.decode("session:user-left", &left)
	if n := ts.count(relay.PresenceDisconnected); n != 2 {
		t.Errorf("%d disconnected reports (%v), want one for the outage and one at the end", n, ts.kinds())
	}
}

// The Node relay answers a bad room code with session_not_found to the
// join, then bad_request to the create; Run ends with its message.
func TestSessionBadRoomAgainstNodeRelay(t *testing.T) {
	node := requireNode(t)
	n := startNodeRelay(t, node, "0")
	ts := startSession(t, relay.SessionConfig{URL: n.URL, Room: "no!"})
	ts.wantErr = true
	err := ts.exit(false)
	var re *relay.RelayError
	if !errors.As(err, &re) || re.Code != relay.CodeBadRequest || err.Error() != "roomCode must be 3 to 32 letters, digits or -" {
		t.Fatalf("Run = %v, want the relay's bad_request message", err)
	}
}
