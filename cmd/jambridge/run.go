package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/jambridge/jambridge/bridge"
	"github.com/jambridge/jambridge/cmd/internal/relayhost"
	"github.com/jambridge/jambridge/relay"
	"github.com/jambridge/jambridge/rtmidiport"
)

func runCommand() *cli.Command {
	return &cli.Command{
		Name:  "run",
		Usage: "bridge your MIDI gear to a jam session (hosting it unless --relay is given)",
		Flags: append([]cli.Flag{
			configFlag(),
			relayFlag("relay to join, e.g. http://192.168.1.20:3001 (default: host the session here)"),
			caFlag(),
			&cli.StringFlag{Name: "listen", Value: ":3001", EnvVars: []string{"JAMBRIDGE_LISTEN"}, Usage: "where the embedded relay listens when hosting"},
			roomFlag("session to join, created when it does not exist (default: a new session)"),
			nameFlag(),
			&cli.StringSliceFlag{Name: "in", EnvVars: []string{"JAMBRIDGE_IN"}, Usage: "input ports to use, by name: substring or /regexp/ (repeat; default: every hardware input)"},
			&cli.StringFlag{Name: "out", EnvVars: []string{"JAMBRIDGE_OUT"}, Usage: "output port to play the others on, by name: substring or /regexp/"},
			&cli.StringFlag{Name: "playout", Value: "immediate", EnvVars: []string{"JAMBRIDGE_PLAYOUT"}, Usage: "when the others' notes play: immediate (lowest latency), fixed:20ms, or auto (keeps their timing through network jitter)"},
			&cli.DurationFlag{Name: "rescan", Value: bridge.DefaultRescan, EnvVars: []string{"JAMBRIDGE_RESCAN"}, Usage: "how often to list the ports for devices plugged in and out, besides the look at once on a change in /dev/snd (each listing opens an ALSA client)"},
			&cli.BoolFlag{Name: "virtual", EnvVars: []string{"JAMBRIDGE_VIRTUAL"}, Usage: `open virtual ports "jambridge in" and "jambridge out" for a DAW`},
			metricsFlag(),
			&cli.StringFlag{Name: "auth-secret-file", EnvVars: []string{"JAMBRIDGE_AUTH_SECRET_FILE"}, Usage: "when hosting: file holding the secret that signs access tokens (see `jamrelay token`); every other client must then present one"},
		}, append(accessFlags(), append(tlsFlags(), logFlags()...)...)...),
		Action: runAction,
	}
}

// minRescan keeps hotplug scans, each an ALSA client, from spinning.
const minRescan = 100 * time.Millisecond

// bridgeConfig builds the bridge's config from the settings. Each error
// names the flag, or the config file and key, and what is wrong.
func bridgeConfig(st settings, log *slog.Logger) (bridge.Config, error) {
	specs, outRule, err := bridgeRules(st.file, st.list("in", st.file.In))
	if err != nil {
		return bridge.Config{}, configError(st, err)
	}
	out, err := parseMatch(st.str("out", st.file.Out))
	if err != nil {
		return bridge.Config{}, fmt.Errorf("%s: %w", st.where("out", st.file.Out), err)
	}
	rescan := st.c.Duration("rescan")
	if !st.c.IsSet("rescan") && st.file.Rescan != "" {
		if rescan, err = parseDuration("rescan", st.file.Rescan, minRescan); err != nil {
			return bridge.Config{}, configError(st, err)
		}
	} else if rescan < minRescan {
		return bridge.Config{}, fmt.Errorf("--rescan: %v is too short: use at least %v", rescan, minRescan)
	}
	gate, err := parseDuration("output.drum-gate", st.file.Output.DrumGate, time.Millisecond)
	if err != nil {
		return bridge.Config{}, configError(st, err)
	}
	playout, err := bridge.ParsePlayout(st.str("playout", st.file.Playout))
	if err != nil {
		return bridge.Config{}, fmt.Errorf("%s: %w", st.where("playout", st.file.Playout), err)
	}
	return bridge.Config{
		Inputs: specs, Output: out, OutputRule: outRule,
		Virtual: st.boolean("virtual", st.file.Virtual),
		Rescan:  rescan, DrumGate: gate, Playout: playout, Logger: log,
	}, nil
}

// checkRoom refuses a room code the relay would refuse, before joining.
func checkRoom(st settings, room string) error {
	if room == "" {
		return nil
	}
	if !relay.ValidRoomCode(room) {
		return fmt.Errorf("%s: %q is not a room code: use %d to %d letters, digits or '-', like MUSIC-42",
			st.where("room", st.file.Room), room, relay.MinRoomCode, relay.MaxRoomCode)
	}
	return nil
}

// configError puts the config file's name in front of an error about one
// of its keys.
func configError(st settings, err error) error {
	if path := st.c.String("config"); path != "" && !strings.HasPrefix(err.Error(), "--") {
		return fmt.Errorf("config %s: %w", path, err)
	}
	return err
}

// runPlan is a `jambridge run` whose settings all checked out.
type runPlan struct {
	st     settings
	log    *slog.Logger
	bridge bridge.Config
	room   string
	url    string                 // "" means host the session here
	tls    *tls.Config            // the relay's: nil means the system's roots
	cert   *relayhost.Certificate // when hosting over TLS; nil: plain HTTP
	// secret and token go with the join; authSecret signs the tokens
	// of the relay we host (nil: none wanted).
	secret, token string
	authSecret    []byte
}

// planRun reads and checks every setting of `run` before anything starts.
func planRun(c *cli.Context) (runPlan, error) {
	var p runPlan
	var err error
	if p.st, err = loadSettings(c); err != nil {
		return p, err
	}
	if p.log, err = p.st.logger(); err != nil {
		return p, err
	}
	if p.bridge, err = bridgeConfig(p.st, p.log); err != nil {
		return p, err
	}
	p.room = p.st.str("room", p.st.file.Room)
	if err := checkRoom(p.st, p.room); err != nil {
		return p, err
	}
	p.url = p.st.str("relay", p.st.file.Relay)
	p.secret, p.token = p.st.access()
	if path := p.st.str("auth-secret-file", p.st.file.AuthFile); path != "" {
		if p.url != "" {
			return p, fmt.Errorf("%s: only a hosted session has an auth secret; with --relay give --token", p.st.where("auth-secret-file", p.st.file.AuthFile))
		}
		if p.authSecret, err = relay.ReadAuthSecret(path); err != nil {
			return p, err
		}
	}
	if p.tls, err = relayTLS(p.st); err != nil {
		return p, err
	}
	if p.url == "" {
		p.cert, err = hostCertificate(p.st, p.log)
	}
	return p, err
}

func runAction(c *cli.Context) error {
	p, err := planRun(c)
	if err != nil {
		return err
	}
	url := p.url
	var host *hostedRelay
	if url == "" {
		if host, err = hostRelayTLS(p.st.str("listen", p.st.file.Listen), p.authSecret, p.log, p.cert); err != nil {
			return err
		}
		defer host.Close()
		url = host.localURL
		if p.token == "" && p.authSecret != nil {
			if p.token, err = ownToken(p.authSecret, p.room); err != nil {
				return err
			}
		}
		if p.cert != nil {
			p.tls = pinnedTLS(p.cert)
		}
	}
	midi := rtmidiport.New()
	defer midi.Close()
	return runJam(c.Context, jamSetup{
		Session: relay.SessionConfig{URL: url, TLS: p.tls, Room: p.room, Name: p.st.str("name", p.st.file.Name), Secret: p.secret, Token: p.token, Logger: p.log},
		Bridge:  p.bridge, MIDI: midi, Host: host, Out: c.App.Writer, Log: p.log, Metrics: metricsAddr(p.st),
	})
}

// jamSetup is everything a jam needs, made: runAction builds it from the
// settings, tests from fakes.
type jamSetup struct {
	Session relay.SessionConfig // URL, Room, Name, Logger
	Bridge  bridge.Config
	MIDI    bridge.Lister
	Host    *hostedRelay // nil when joining a remote relay
	Out     io.Writer    // where the session's code and join URL are printed
	Log     *slog.Logger
	Metrics string // where to serve Prometheus /metrics; "" means off
}

// runJam bridges js.MIDI to the session until ctx ends.
func runJam(ctx context.Context, js jamSetup) error {
	j := &jam{log: js.Log, host: js.Host, out: js.Out, private: js.Session.Secret != ""}
	scfg := js.Session
	scfg.Kind, scfg.OnEvent, scfg.OnPresence = "bridge", j.onEvent, j.onPresence
	sess, err := relay.NewSession(scfg)
	if err != nil {
		return err
	}
	bcfg := js.Bridge
	bcfg.RelayTime = sess.RelayTime // stamp and schedule in the session's clock
	if j.b, err = bridge.New(bcfg, js.MIDI, sess); err != nil {
		return err
	}
	stopMetrics, err := serveMetrics(js, j.b)
	if err != nil {
		return err
	}
	defer stopMetrics() // after the bridge and the session have stopped
	return j.run(ctx, sess)
}

// jam wires one Session to one Bridge.
type jam struct {
	log       *slog.Logger
	host      *hostedRelay
	out       io.Writer
	b         *bridge.Bridge
	announced sync.Once
	private   bool // the session has a secret, which others need too
}

func (j *jam) onEvent(ev relay.Broadcast) {
	j.b.Remote(bridge.Remote{SenderID: ev.SenderID, EventName: ev.EventName, Payload: ev.Payload,
		Seq: seqOf(ev.Seq), Received: ev.Received})
}

func (j *jam) onPresence(p relay.Presence) {
	switch p.Kind {
	case relay.PresenceLeft:
		j.b.Left(p.UserID)
	case relay.PresenceDisconnected:
		j.b.ReleaseAll()
	case relay.PresenceConnected:
		j.announced.Do(func() { j.announce(p.Room) })
	}
}

// announce tells the musician how others join, once.
func (j *jam) announce(room string) {
	if j.host == nil {
		fmt.Fprintf(j.out, "Joined jam session %s.\n", room)
		return
	}
	fmt.Fprintf(j.out, "Jam session %s is open.\nOthers join with: jambridge run --relay %s --room %s\nIn a browser: %s/jam/%s?name=guest\n",
		room, j.host.shareURL, room, j.host.shareURL, url.PathEscape(room))
	if j.private {
		// The secret itself is not printed: stdout may be a journal.
		fmt.Fprintln(j.out, "The session is private: give others its secret (--secret SECRET, or #secret=SECRET at the end of the link).")
	}
	if j.host.tokens {
		fmt.Fprintf(j.out, "The relay wants access tokens: make one per player with `jamrelay token --auth-secret-file FILE --room %s` (--token TOKEN, or #token=TOKEN in the link).\n", room)
	}
}

// run keeps the session and the bridge up until ctx ends or the session
// fails for good, then shuts down in order: the bridge first (its last
// releases still reach the session), then the session.
func (j *jam) run(ctx context.Context, sess *relay.Session) error {
	bridgeCtx, stopBridge := context.WithCancel(ctx)
	defer stopBridge()
	sessCtx, stopSess := context.WithCancel(context.Background())
	defer stopSess()
	var sessErr error
	usr1, stopUSR1 := notifyUSR1()
	defer stopUSR1()
	done := make(chan struct{})
	go func() {
		sessErr = sess.Run(sessCtx)
		close(done)
		stopBridge() // a session that cannot go on ends the bridge
	}()
	sumCtx, stopSum := context.WithCancel(ctx)
	summed := make(chan struct{})
	go func() { defer close(summed); summarize(sumCtx, j.log, sess, j.b, usr1) }()
	j.b.Run(bridgeCtx)
	stopSum()
	<-summed
	stopSess()
	<-done
	if sessErr != nil {
		return sessErr
	}
	j.log.Info("stopped")
	return nil
}

// seqOf reads a relayed seq; 0 when absent or not a whole number.
func seqOf(raw []byte) int64 {
	n, err := strconv.ParseInt(string(raw), 10, 64)
	if err != nil {
		return 0
	}
	return n
}
