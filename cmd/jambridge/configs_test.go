package main

import (
	"bufio"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"

	"github.com/jambridge/jambridge/bridge"
	"github.com/jambridge/jambridge/bridge/miditest"
	"github.com/jambridge/jambridge/mapping"
	"github.com/jambridge/jambridge/relay"
)

// configsDir holds the example configs shipped with jambridge.
const configsDir = "../../configs"

// configRun runs `jambridge run args...` as far as runAction goes before it
// touches the network or MIDI: load the settings, build the logger, build
// the bridge config. It returns what runAction would use.
func configRun(t *testing.T, args ...string) (settings, bridge.Config, error) {
	t.Helper()
	var st settings
	var bcfg bridge.Config
	cmd := runCommand()
	cmd.Action = func(c *cli.Context) error {
		p, err := planRun(c)
		st, bcfg = p.st, p.bridge
		return err
	}
	app := &cli.App{Name: "jambridge", Commands: []*cli.Command{cmd}, Writer: io.Discard, ErrWriter: io.Discard}
	err := app.Run(append([]string{"jambridge", "run"}, args...))
	return st, bcfg, err
}

// configCleanEnv hides the JAMBRIDGE_* variables of whoever runs the tests,
// which would win over the files under test.
func configCleanEnv(t *testing.T) {
	for _, kv := range os.Environ() {
		name, val, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "JAMBRIDGE_") {
			os.Unsetenv(name)
			t.Cleanup(func() { os.Setenv(name, val) })
		}
	}
}

// Every example in configs/ loads, builds its rules, and makes a bridge
// and a session, exactly as `jambridge run --config` would, so the
// examples cannot rot.
func TestConfigExamplesLoad(t *testing.T) {
	configCleanEnv(t)
	paths, err := filepath.Glob(filepath.Join(configsDir, "*.yaml"))
	if err != nil || len(paths) < 4 {
		t.Fatalf("configs/*.yaml: %v, %d files; want the 4 examples at least", err, len(paths))
	}
	for _, path := range paths {
		t.Run(filepath.Base(path), func(t *testing.T) {
			fc, err := loadFile(path)
			if err != nil {
				t.Fatalf("loadFile: %v", err)
			}
			specs, out, err := bridgeRules(fc, nil)
			if err != nil {
				t.Fatalf("bridgeRules: %v", err)
			}
			if len(specs) != len(fc.Inputs) {
				t.Errorf("bridgeRules: %d input specs from %d inputs", len(specs), len(fc.Inputs))
			}
			for i, s := range specs {
				if _, err := mapping.NewInput(s.Rule); err != nil {
					t.Errorf("inputs[%d]: %v", i, err)
				}
			}
			if err := out.Validate(); err != nil {
				t.Errorf("output: %v", err)
			}

			st, bcfg, err := configRun(t, "--config", path)
			if err != nil {
				t.Fatalf("run --config: %v", err)
			}
			if _, err := bridge.New(bcfg, &miditest.System{}, nil); err != nil {
				t.Errorf("bridge.New: %v", err)
			}
			if url := st.str("relay", fc.Relay); url != "" {
				if _, err := relay.NewSession(relay.SessionConfig{URL: url}); err != nil {
					t.Errorf("relay %q: %v", url, err)
				}
			}
			if room := st.str("room", fc.Room); room != "" && !relay.ValidRoomCode(room) {
				t.Errorf("room %q: the relay wants 3 to 32 letters, digits or '-'", room)
			}
		})
	}
}

// The examples keep saying what their comments and README say they do.
func TestConfigExamplesMeanWhatTheySay(t *testing.T) {
	configCleanEnv(t)
	load := func(name string) (fileConfig, bridge.Config) {
		t.Helper()
		path := filepath.Join(configsDir, name)
		fc, err := loadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		_, bcfg, err := configRun(t, "--config", path)
		if err != nil {
			t.Fatal(err)
		}
		return fc, bcfg
	}

	fc, b := load("drumpad.yaml")
	if r := b.Inputs[0].Rule; r.Role != mapping.Drums || r.PadMinVelocity[42] == 0 || r.PadMinVelocity[51] == 0 || r.MinVelocity == 0 {
		t.Errorf("drumpad: inputs[0] = %+v; want role drums, min-velocity, hi-hat (42) and ride (51) pad limits", r)
	}
	if !b.Inputs[0].Match.Matches("TD-17:TD-17 MIDI 1 24:0") || !b.Inputs[0].Match.Matches("Nitro Max:Nitro Max MIDI 1 20:0") {
		t.Errorf("drumpad: match %q misses a TD-17 or a Nitro", b.Inputs[0].Match)
	}
	if len(fc.Output.DrumMap) == 0 || b.DrumGate == 0 {
		t.Errorf("drumpad: no drum-map or drum-gate example")
	}

	_, b = load("keyboard.yaml")
	if r := b.Inputs[0].Rule; r.Role != mapping.Keys || r.Curve.Kind != mapping.Soft || r.Transpose == 0 || !r.SendControl || !containsInt(r.Controllers, 64) {
		t.Errorf("keyboard: inputs[0] = %+v; want keys, soft, a transpose and the sustain pedal", r)
	}
	if b.Output.Empty() {
		t.Error("keyboard: no out synth")
	}

	_, b = load("daw.yaml")
	if !b.Virtual || !b.Output.Empty() {
		t.Errorf("daw: virtual %v, out %q; want virtual ports and no hardware output", b.Virtual, b.Output)
	}
	for _, port := range []string{"Keystation 49:Keystation 49 MIDI 1 20:0", "TD-17:TD-17 MIDI 1 24:0", "VirMIDI 2-0:VirMIDI 2-0 28:0"} {
		for _, in := range b.Inputs {
			if in.Match.Matches(port) {
				t.Errorf("daw: reads hardware port %q directly; the DAW forwards it", port)
			}
		}
	}

	fc, b = load("raspberry-pi.yaml")
	if fc.Relay != "" || fc.Listen != ":3001" || fc.Room == "" || fc.LogFormat != "json" {
		t.Errorf("raspberry-pi: relay %q listen %q room %q log-format %q; want hosting on :3001 with a fixed room and json logs",
			fc.Relay, fc.Listen, fc.Room, fc.LogFormat)
	}
	if last := b.Inputs[len(b.Inputs)-1]; !last.Match.Empty() {
		t.Errorf("raspberry-pi: last input %q; want a catch-all so every keyboard is bridged", last.Match)
	}
	if !b.Output.Matches("FLUID Synth (1234):Synth input port (1234:0) 128:0") {
		t.Errorf("raspberry-pi: out %q does not find FluidSynth", b.Output)
	}
}

func containsInt(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// A bad config file stops `run` with one line that names the file, the
// key and what is wrong.
//
// Every bad config gets one line naming the file, the key and what is
// wrong.
func TestConfigErrorsNameFileKeyAndProblem(t *testing.T) {
	configCleanEnv(t)
	for _, tc := range []struct {
		name, yaml string
		key, what  string // both must appear in the message
	}{
		{name: "unknown top-level key", yaml: "room: X-1\nrelya: http://pi:3001\n",
			key: `"relya"`, what: "unknown key"},
		{name: "unknown key in inputs[1]", yaml: "inputs:\n  - match: TD-17\n  - match: Keystation\n    curev: soft\n",
			key: `inputs[1]`, what: `unknown key "curev"`},
		{name: "unknown key in output", yaml: "output:\n  drum_channel: 10\n",
			key: `"drum_channel"`, what: "output: unknown key"},
		{name: "bad role", yaml: "inputs:\n  - match: TD-17\n    role: drum\n",
			key: "inputs[0].role", what: "want auto, drums or keys"},
		{name: "bad curve", yaml: "inputs:\n  - curve: medium\n",
			key: "inputs[0].curve", what: `"medium"`},
		{name: "bad fixed curve", yaml: "inputs:\n  - curve: fixed:200\n",
			key: "inputs[0].curve", what: "1-127"},
		{name: "bad regexp in match", yaml: "inputs:\n  - match: /Launchkey[/\n",
			key: "inputs[0].match", what: "missing closing ]"},
		{name: "unknown drum in pad-min-velocity", yaml: "inputs:\n  - role: drums\n    pad-min-velocity:\n      cowbel: 20\n",
			key: "inputs[0].pad-min-velocity", what: `"cowbel"`},
		{name: "bad rescan duration", yaml: "rescan: 5\n",
			key: "rescan", what: "not a duration"},
		{name: "bad drum-gate duration", yaml: "output:\n  drum-gate: short\n",
			key: "output.drum-gate", what: "not a duration"},
		{name: "min-velocity out of range", yaml: "inputs:\n  - min-velocity: 200\n",
			key: "inputs[0].min-velocity", what: "200 is not in 0-127"},
		{name: "pad-min-velocity out of range", yaml: "inputs:\n  - pad-min-velocity:\n      hihat: 300\n",
			key: "inputs[0].pad-min-velocity", what: "hihat_closed (42): 300 is not in 0-127"},
		{name: "channel out of range", yaml: "inputs:\n  - channels: [0]\n",
			key: "inputs[0].channels", what: "0 is not in 1-16"},
		{name: "drum channel out of range", yaml: "inputs:\n  - match: a\n  - drum-channels: [10, 17]\n",
			key: "inputs[1].drum-channels", what: "17 is not in 1-16"},
		{name: "controller out of range", yaml: "inputs:\n  - controllers: [64, 128]\n",
			key: "inputs[0].controllers", what: "128 is not in 0-127"},
		{name: "input transpose out of range", yaml: "inputs:\n  - transpose: -200\n",
			key: "inputs[0].transpose", what: "-200 is not between -127 and 127"},
		{name: "output drum-channel out of range", yaml: "output:\n  drum-channel: 17\n",
			key: "output.drum-channel", what: "17 is not in 1-16"},
		{name: "output keys-channel out of range", yaml: "output:\n  keys-channel: -1\n",
			key: "output.keys-channel", what: "-1 is not in 1-16"},
		{name: "output transpose out of range", yaml: "output:\n  transpose: 300\n",
			key: "output.transpose", what: "300 is not between -127 and 127"},
		{name: "drum-map key out of range", yaml: "output:\n  drum-map: {kick: 200}\n",
			key: "output.drum-map", what: "kick: 200 is not in 0-127"},
		{name: "drum-map names for one key", yaml: "output:\n  drum-map: {hihat: 22, hihat_closed: 23}\n",
			key: "output.drum-map", what: "both mean key 42"},
		{name: "wrong type", yaml: "inputs:\n  - min-velocity: loud\n",
			key: "min-velocity", what: "loud"},
		{name: "wrong type for a switch", yaml: "virtual: maybe\n",
			key: "virtual", what: `"maybe" is not true or false`},
		{name: "room code the relay would refuse", yaml: "room: my room\n",
			key: "room", what: "not a room code"},
		{name: "rescan too short", yaml: "rescan: 1ns\n",
			key: "rescan", what: "too short"},
		{name: "the same pad twice", yaml: "inputs:\n  - pad-min-velocity:\n      hihat: 10\n      hihat_closed: 50\n",
			key: "inputs[0].pad-min-velocity", what: "same pad"},
		{name: "bad log-format", yaml: "log-format: xml\n",
			key: "log-format", what: `"xml"`},
		{name: "bad out regexp", yaml: "out: /[/\n",
			key: "out", what: "missing closing ]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "jambridge.yaml")
			if err := os.WriteFile(path, []byte(tc.yaml), 0o644); err != nil {
				t.Fatal(err)
			}
			_, _, err := configRun(t, "--config", path)
			if err == nil {
				t.Fatalf("no error for\n%s", tc.yaml)
			}
			msg := err.Error()
			if strings.ContainsAny(msg, "\r\n") {
				t.Errorf("message is not one line: %q", msg)
			}
			// Key and problem must be in the message itself, not in the
			// path (t.TempDir's names come from the test's).
			rest := strings.Replace(msg, path, "", 1)
			if !strings.Contains(rest, tc.what) {
				t.Errorf("message %q does not say what is wrong (%q)", msg, tc.what)
			}
			switch {
			case !strings.Contains(msg, path):
				t.Errorf("message %q does not name the file %s", msg, path)
			case !hasKey(rest, tc.key):
				t.Errorf("message %q does not name the key %s", msg, tc.key)
			}
		})
	}
}

// hasKey reports whether msg names key as a whole word: "in" is not in
// "into", nor "channel" in "drum-channel".
func hasKey(msg, key string) bool {
	return regexp.MustCompile(`(^|[^\w.\[\]-])` + regexp.QuoteMeta(key) + `($|[^\w.-])`).MatchString(msg)
}

// The config file loses to environment variables, which lose to flags.
func TestConfigPrecedence(t *testing.T) {
	configCleanEnv(t)
	path := filepath.Join(t.TempDir(), "jambridge.yaml")
	if err := os.WriteFile(path, []byte("room: FROM-FILE\nname: file\nvirtual: true\nin: [file-port]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	st, b, err := configRun(t, "--config", path)
	if err != nil {
		t.Fatal(err)
	}
	if st.str("room", st.file.Room) != "FROM-FILE" || st.str("name", st.file.Name) != "file" || !b.Virtual ||
		len(b.Inputs) != 1 || b.Inputs[0].Match.String() != "file-port" {
		t.Errorf("file values not used: room %q name %q virtual %v inputs %v", st.str("room", st.file.Room), st.str("name", st.file.Name), b.Virtual, b.Inputs)
	}
	if st.str("listen", st.file.Listen) != ":3001" {
		t.Errorf("listen default = %q, want :3001", st.str("listen", st.file.Listen))
	}

	t.Setenv("JAMBRIDGE_ROOM", "FROM-ENV")
	t.Setenv("JAMBRIDGE_VIRTUAL", "false")
	st, b, err = configRun(t, "--config", path, "--name", "flag")
	if err != nil {
		t.Fatal(err)
	}
	if got := st.str("room", st.file.Room); got != "FROM-ENV" {
		t.Errorf("room = %q, want the environment's FROM-ENV", got)
	}
	if b.Virtual {
		t.Error("virtual = true; JAMBRIDGE_VIRTUAL=false should win over the file")
	}
	if got := st.str("name", st.file.Name); got != "flag" {
		t.Errorf("name = %q, want the flag's", got)
	}
	t.Setenv("JAMBRIDGE_CONFIG", path)
	if st, _, err = configRun(t, "--room", "FROM-FLAG"); err != nil || st.str("room", st.file.Room) != "FROM-FLAG" || st.file.Name != "file" {
		t.Errorf("JAMBRIDGE_CONFIG with --room: %v, room %q, file name %q", err, st.str("room", st.file.Room), st.file.Name)
	}
}

// The systemd unit only uses flags and variables `jambridge run` has, and
// configs/README.md describes every file in configs/.
func TestConfigServiceUnitAndReadme(t *testing.T) {
	flags := map[string]bool{}
	envs := map[string]bool{}
	for _, f := range runCommand().Flags {
		for _, n := range f.Names() {
			flags["--"+n] = true
		}
		if ev, ok := f.(interface{ GetEnvVars() []string }); ok {
			for _, e := range ev.GetEnvVars() {
				envs[e] = true
			}
		}
	}
	f, err := os.Open(filepath.Join(configsDir, "jambridge.service"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var sawExec bool
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if v, ok := strings.CutPrefix(line, "ExecStart="); ok {
			sawExec = true
			words := strings.Fields(v)
			if len(words) < 2 || words[1] != "run" {
				t.Errorf("ExecStart %q: want jambridge run", v)
			}
			for _, w := range words {
				if name, _, _ := strings.Cut(w, "="); strings.HasPrefix(name, "--") && !flags[name] {
					t.Errorf("ExecStart uses %s, which run does not have", name)
				}
			}
		}
		if v, ok := strings.CutPrefix(line, "Environment="); ok {
			for _, kv := range strings.Fields(v) {
				if name, _, _ := strings.Cut(kv, "="); !envs[name] {
					t.Errorf("Environment sets %s, which run does not read", name)
				}
			}
		}
	}
	if !sawExec {
		t.Error("no ExecStart in jambridge.service")
	}

	readme, err := os.ReadFile(filepath.Join(configsDir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(configsDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() != "README.md" && !strings.Contains(string(readme), e.Name()) {
			t.Errorf("configs/README.md does not describe %s", e.Name())
		}
	}
}
