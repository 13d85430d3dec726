package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/jambridge/jambridge/bridge"
	"github.com/jambridge/jambridge/mapping"
)

// fileConfig is the YAML config file. Its top-level keys are the flag
// names; inputs and output hold the mapping rules flags cannot express.
type fileConfig struct {
	Relay     string         `yaml:"relay"`
	Listen    string         `yaml:"listen"`
	Room      string         `yaml:"room"`
	Name      string         `yaml:"name"`
	In        stringList     `yaml:"in"`
	Out       string         `yaml:"out"`
	Virtual   bool           `yaml:"virtual"`
	LogLevel  string         `yaml:"log-level"`
	LogFormat string         `yaml:"log-format"`
	Rescan    string         `yaml:"rescan"`
	Playout   string         `yaml:"playout"`
	Metrics   string         `yaml:"metrics-listen"`
	Secret    string         `yaml:"secret"`           // a private session's secret
	Token     string         `yaml:"token"`            // the relay's access token
	AuthFile  string         `yaml:"auth-secret-file"` // run, hosting: the secret that signs access tokens
	CA        string         `yaml:"ca"`
	TLSCert   string         `yaml:"tls-cert"`
	TLSKey    string         `yaml:"tls-key"`
	Inputs    []inputConfig  `yaml:"inputs"`
	Output    outputConfig   `yaml:"output"`
	Extra     map[string]any `yaml:",inline"` // unknown keys, reported
}

type inputConfig struct {
	Match          string         `yaml:"match"`
	Role           string         `yaml:"role"`
	Channels       []int          `yaml:"channels"`
	DrumChannels   []int          `yaml:"drum-channels"`
	Transpose      int            `yaml:"transpose"`
	Curve          string         `yaml:"curve"`
	MinVelocity    int            `yaml:"min-velocity"`
	PadMinVelocity map[string]int `yaml:"pad-min-velocity"` // drum name or key
	Controllers    []int          `yaml:"controllers"`
	SendControl    *bool          `yaml:"send-control"`
	Extra          map[string]any `yaml:",inline"`
}

type outputConfig struct {
	DrumChannel int            `yaml:"drum-channel"`
	KeysChannel int            `yaml:"keys-channel"`
	Transpose   int            `yaml:"transpose"`
	DrumMap     map[string]int `yaml:"drum-map"`
	DrumGate    string         `yaml:"drum-gate"`
	Extra       map[string]any `yaml:",inline"`
}

// stringList reads a list of strings, or one string.
type stringList []string

func (l *stringList) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*l = stringList{n.Value}
		return nil
	}
	var s []string
	err := n.Decode(&s)
	*l = s
	return err
}

// parseDuration reads a duration setting such as "100ms" or "2s"; "" is
// zero (the default).
func parseDuration(key, s string, least time.Duration) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%s: %q is not a duration like 100ms or 2s", key, s)
	}
	if d < least {
		return 0, fmt.Errorf("%s: %v is too short: use at least %v", key, d, least)
	}
	return d, nil
}

// maxConfigSize bounds a config file: the examples are 2 KB, and a
// path such as /dev/zero must not be read until memory runs out.
const maxConfigSize = 1 << 20

// loadFile reads a config file; every error names the file, the key and
// what is wrong.
func loadFile(path string) (fileConfig, error) {
	b, err := readConfig(path)
	if err != nil {
		return fileConfig{}, fmt.Errorf("config %s: %w", path, err)
	}
	fc, err := parseConfig(b)
	if err != nil {
		return fc, fmt.Errorf("config %s: %w", path, err)
	}
	return fc, nil
}

// readConfig reads at most maxConfigSize bytes of the file at path.
func readConfig(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, withoutPath(err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxConfigSize+1))
	switch {
	case err != nil:
		return nil, withoutPath(err)
	case len(b) > maxConfigSize:
		return nil, fmt.Errorf("larger than %d KiB: not a config file", maxConfigSize>>10)
	}
	return b, nil
}

// withoutPath is a *fs.PathError's cause: the caller names the file once.
func withoutPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// parseConfig decodes a config file's contents and refuses unknown keys.
func parseConfig(b []byte) (fileConfig, error) {
	var fc fileConfig
	dec := yaml.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&fc); err != nil && !errors.Is(err, io.EOF) {
		return fc, errors.New(yamlMessage(err, b))
	}
	return fc, fc.unknownKeys()
}

var (
	yamlPrefix    = regexp.MustCompile(`^yaml: (unmarshal errors:\s*)?`)
	yamlTypeError = regexp.MustCompile(`line (\d+): cannot unmarshal !!\w+ ` + "`" + `([^` + "`" + `]*)` + "`" + ` into (\S+)`)
)

// yamlMessage turns a YAML decoding error into one line that names the
// key: yaml.v3 only gives the line, so the key is read off that line.
func yamlMessage(err error, src []byte) string {
	msg := yamlPrefix.ReplaceAllString(err.Error(), "")
	if m := yamlTypeError.FindStringSubmatch(msg); m != nil {
		n, _ := strconv.Atoi(m[1])
		return fmt.Sprintf("line %d: %s: %q is not %s", n, keyOnLine(src, n), m[2], goTypeWords(m[3]))
	}
	return strings.Join(strings.Fields(msg), " ")
}

// keyOnLine returns the YAML key written on line n (1-based).
func keyOnLine(src []byte, n int) string {
	lines := strings.Split(string(src), "\n")
	if n < 1 || n > len(lines) {
		return "value"
	}
	line := strings.TrimLeft(strings.TrimSpace(lines[n-1]), "- ")
	if k, _, ok := strings.Cut(line, ":"); ok {
		return strings.TrimSpace(k)
	}
	return "value"
}

func goTypeWords(t string) string {
	switch {
	case t == "int":
		return "a whole number"
	case t == "bool":
		return "true or false"
	case t == "string":
		return "text"
	case strings.HasPrefix(t, "[]"):
		return "a list"
	case strings.HasPrefix(t, "map["):
		return "a mapping of names to values"
	}
	return "the right kind of value here"
}

func (fc fileConfig) unknownKeys() error {
	if k := firstKey(fc.Extra); k != "" {
		return fmt.Errorf("unknown key %q", k)
	}
	for i, in := range fc.Inputs {
		if k := firstKey(in.Extra); k != "" {
			return fmt.Errorf("inputs[%d]: unknown key %q", i, k)
		}
	}
	if k := firstKey(fc.Output.Extra); k != "" {
		return fmt.Errorf("output: unknown key %q", k)
	}
	return nil
}

func firstKey(m map[string]any) string {
	for k := range m {
		return k
	}
	return ""
}

// rule turns one inputs[] entry into a mapping rule. The rule's Validate
// checks the numbers; its errors name the key.
func (ic inputConfig) rule() (mapping.InputRule, error) {
	r := mapping.DefaultInputRule()
	var err error
	if ic.Role != "" {
		if r.Role, err = mapping.ParseRole(ic.Role); err != nil {
			return r, fmt.Errorf("role: %w", err)
		}
	}
	if ic.Curve != "" {
		if r.Curve, err = mapping.ParseCurve(ic.Curve); err != nil {
			return r, fmt.Errorf("curve: %w", err)
		}
	}
	r.Channels, r.DrumChannels, r.Transpose, r.MinVelocity = ic.Channels, ic.DrumChannels, ic.Transpose, ic.MinVelocity
	if len(ic.Controllers) > 0 {
		r.Controllers = ic.Controllers
	}
	if ic.SendControl != nil {
		r.SendControl = *ic.SendControl
	}
	if r.PadMinVelocity, err = ic.padMins(); err != nil {
		return r, err
	}
	return r, r.Validate()
}

// padMins resolves pad-min-velocity, keyed by drum name or key number.
func (ic inputConfig) padMins() (map[int]int, error) {
	if len(ic.PadMinVelocity) == 0 {
		return nil, nil
	}
	out, names := map[int]int{}, map[int]string{}
	for _, pad := range sortedKeys(ic.PadMinVelocity) {
		v := ic.PadMinVelocity[pad]
		key, ok := mapping.ResolveDrum(pad)
		if n, err := strconv.Atoi(pad); err == nil {
			key, ok = n, n >= 0 && n <= 127
		}
		if !ok {
			return nil, fmt.Errorf("pad-min-velocity: %q is not a drum name or key number", pad)
		}
		if other, dup := names[key]; dup {
			return nil, fmt.Errorf("pad-min-velocity: %q and %q are the same pad (key %d): keep one", other, pad, key)
		}
		out[key], names[key] = v, pad
	}
	return out, nil
}

func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// bridgeRules builds the bridge's inputs and output rule from the file
// and the --in patterns.
func bridgeRules(fc fileConfig, in []string) ([]bridge.InputSpec, mapping.OutputRule, error) {
	var specs []bridge.InputSpec
	for i, ic := range fc.Inputs {
		m, err := parseMatch(ic.Match)
		if err != nil {
			return nil, mapping.OutputRule{}, fmt.Errorf("inputs[%d].match: %w", i, err)
		}
		r, err := ic.rule()
		if err != nil {
			return nil, mapping.OutputRule{}, fmt.Errorf("inputs[%d].%w", i, err)
		}
		specs = append(specs, bridge.InputSpec{Match: m, Rule: r})
	}
	for _, pat := range in {
		m, err := parseMatch(pat)
		if err != nil {
			return nil, mapping.OutputRule{}, fmt.Errorf("--in: %w", err)
		}
		specs = append(specs, bridge.InputSpec{Match: m, Rule: mapping.DefaultInputRule()})
	}
	out := mapping.DefaultOutputRule()
	oc := fc.Output
	if oc.DrumChannel != 0 {
		out.DrumChannel = oc.DrumChannel
	}
	if oc.KeysChannel != 0 {
		out.KeysChannel = oc.KeysChannel
	}
	out.Transpose, out.DrumMap = oc.Transpose, oc.DrumMap
	if err := out.Validate(); err != nil {
		return nil, out, fmt.Errorf("output.%w", err)
	}
	return specs, out, nil
}

// parseMatch is bridge.ParseMatch with an error on one line: a pattern
// may hold a line break, and the regexp's message repeats the pattern.
func parseMatch(pattern string) (bridge.Match, error) {
	m, err := bridge.ParseMatch(pattern)
	if err != nil {
		return m, errors.New(controlEscaper.Replace(err.Error()))
	}
	return m, nil
}

// controlEscaper writes line breaks and tabs as Go escapes.
var controlEscaper = strings.NewReplacer("\n", `\n`, "\r", `\r`, "\t", `\t`)
