//go:build browser

package e2e_test

import (
	"bufio"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jambridge/jambridge/bridge"
	"github.com/jambridge/jambridge/bridge/miditest"
	"github.com/jambridge/jambridge/relay"
	"github.com/jambridge/jambridge/web"
)

// wait bounds every wait of the control API; never a speed assertion.
const wait = 10 * time.Second

// goRoom is the session the Go bridge plays in.
const goRoom = "GO-JAM"

// goBridge is a jambridge participant on a fake MIDI system: keys in,
// a synth out.
type goBridge struct {
	keys  *miditest.In
	synth *miditest.Out
}

func startBridge(t *testing.T, url string) *goBridge {
	t.Helper()
	sys := &miditest.System{}
	g := &goBridge{keys: sys.PlugIn("Go Keys"), synth: sys.PlugOut("Go Synth")}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	var b *bridge.Bridge
	sess, err := relay.NewSession(relay.SessionConfig{
		URL: url, Room: goRoom, Name: "gobridge", Kind: "bridge", Logger: log,
		OnEvent: func(ev relay.Broadcast) {
			b.Remote(bridge.Remote{SenderID: ev.SenderID, EventName: ev.EventName, Payload: ev.Payload, Received: ev.Received})
		},
		OnPresence: func(p relay.Presence) {
			switch p.Kind {
			case relay.PresenceLeft:
				b.Left(p.UserID)
			case relay.PresenceDisconnected:
				b.ReleaseAll()
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	b, err = bridge.New(bridge.Config{Output: bridge.MustMatch("synth"), DrumGate: time.Hour,
		Rescan: 10 * time.Millisecond, RelayTime: sess.RelayTime, Logger: log}, sys, sess)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); sess.Run(ctx) }()
	go func() { defer wg.Done(); b.Run(ctx) }()
	t.Cleanup(func() { cancel(); wg.Wait() })
	return g
}

// control is the API the node scripts use: relay counters, and the
// bridge's keys and synth.
func control(srv *relay.Server, g *goBridge) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /e2e/stats", func(w http.ResponseWriter, _ *http.Request) {
		json.NewEncoder(w).Encode(srv.Stats())
	})
	mux.HandleFunc("GET /e2e/bridge/ready", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, g.keys.Listening() && g.synth.IsOpen())
	})
	// POST /e2e/bridge/play?msg=903c64 plays one message on the keys.
	mux.HandleFunc("POST /e2e/bridge/play", func(w http.ResponseWriter, r *http.Request) {
		b, err := hex.DecodeString(r.URL.Query().Get("msg"))
		if err != nil || !g.keys.Play(b) {
			http.Error(w, "cannot play "+r.URL.Query().Get("msg"), http.StatusBadRequest)
		}
	})
	// GET /e2e/bridge/synth?n=2: the next n messages the synth got, in
	// hex, or fewer after a wait of 10 s.
	mux.HandleFunc("GET /e2e/bridge/synth", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		got := []string{}
		timeout := time.After(wait)
		for len(got) < n {
			select {
			case b := <-g.synth.Sent:
				got = append(got, hex.EncodeToString(b))
			case <-timeout:
				n = 0
			case <-r.Context().Done():
				return
			}
		}
		json.NewEncoder(w).Encode(got)
	})
	return mux
}

// spa serves a directory as the page is served: index.html for the
// page's routes. For the development build (React's StrictMode double
// mount happens only there).
func spa(dir string) http.Handler {
	files := http.FileServer(http.Dir(dir))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/assets/") {
			http.ServeFile(w, r, filepath.Join(dir, "index.html"))
			return
		}
		files.ServeHTTP(w, r)
	})
}

func TestJamPageInChromium(t *testing.T) {
	if !web.Built() {
		t.Fatal("the jam page is not built: run make build (or cd web && npm ci && npm run build) first")
	}
	if _, err := os.Stat("../dist-dev/index.html"); err != nil {
		t.Fatal("the development build of the jam page is missing: run make web-e2e (or cd web && npm run build:dev) first")
	}
	srv, err := relay.NewServer(relay.Config{})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", srv)
	mux.Handle("/", web.Handler())
	hs := httptest.NewServer(mux)
	dev := http.NewServeMux()
	dev.Handle("/socket.io/", srv)
	dev.Handle("/", spa("../dist-dev"))
	devs := httptest.NewServer(dev)
	t.Cleanup(func() { srv.Close(); hs.Close(); devs.Close() })
	g := startBridge(t, hs.URL)
	mux.Handle("/e2e/", control(srv, g))

	args := []string{"--test", "--test-concurrency=1"}
	if only := os.Getenv("JAM_E2E_ONLY"); only != "" { // a test name pattern, while working on one
		args = append(args, "--test-name-pattern="+only)
	}
	cmd := exec.Command("node", append(args, "e2e/")...)
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(), "JAM_URL="+hs.URL, "JAM_DEV_URL="+devs.URL, "JAM_GO_ROOM="+goRoom)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatalf("start node: %v", err)
	}
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		t.Log(sc.Text())
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("the browser tests failed: %v", err)
	}
}
