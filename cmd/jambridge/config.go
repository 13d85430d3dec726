package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"regexp"
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
	In        []string       `yaml:"in"`
	Out       string         `yaml:"out"`
	Virtual   bool           `yaml:"virtual"`
	LogLevel  string         `yaml:"log-level"`
	LogFormat string         `yaml:"log-format"`
	Rescan    duration       `yaml:"rescan"`
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
	DrumGate    duration       `yaml:"drum-gate"`
	Extra       map[string]any `yaml:",inline"`
}

// duration reads "100ms", "2s".
type duration time.Duration

func (d *duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %q is not a duration like 100ms or 2s", n.Line, n.Value)
	}
	*d = duration(v)
	return nil
}

// loadFile reads a config file; every error names the file, the key and
// what is wrong.
func loadFile(path string) (fileConfig, error) {
	var fc fileConfig
	b, err := os.ReadFile(path)
	if err != nil {
		return fc, fmt.Errorf("config %s: %w", path, errors.Unwrap(err))
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&fc); err != nil && err.Error() != "EOF" {
		return fc, fmt.Errorf("config %s: %s", path, yamlMessage(err))
	}
	if err := fc.unknownKeys(); err != nil {
		return fc, fmt.Errorf("config %s: %w", path, err)
	}
	return fc, nil
}

var yamlLine = regexp.MustCompile(`^yaml: (unmarshal errors:\s*)?`)

func yamlMessage(err error) string {
	msg := yamlLine.ReplaceAllString(err.Error(), "")
	return strings.Join(strings.Fields(msg), " ")
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

// inputRule turns one inputs[] entry into a mapping rule.
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
	if len(ic.PadMinVelocity) > 0 {
		r.PadMinVelocity = map[int]int{}
		for pad, v := range ic.PadMinVelocity {
			key, ok := mapping.ResolveDrum(pad)
			if n, err := strconv.Atoi(pad); err == nil {
				key, ok = n, n >= 0 && n <= 127
			}
			if !ok {
				return r, fmt.Errorf("pad-min-velocity: %q is not a drum name or key number", pad)
			}
			r.PadMinVelocity[key] = v
		}
	}
	return r, r.Validate()
}

// bridgeRules builds the bridge's inputs and output rule from the file
// and the --in patterns.
func bridgeRules(fc fileConfig, in []string) ([]bridge.InputSpec, mapping.OutputRule, error) {
	var specs []bridge.InputSpec
	for i, ic := range fc.Inputs {
		m, err := bridge.ParseMatch(ic.Match)
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
		m, err := bridge.ParseMatch(pat)
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
		return nil, out, fmt.Errorf("output: %w", err)
	}
	return specs, out, nil
}
