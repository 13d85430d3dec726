package bridge

import (
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/jambridge/jambridge/mapping"
)

// Config is everything a Bridge needs; cmd/jambridge fills it from flags,
// environment and the config file. Zero fields take their defaults.
type Config struct {
	// Inputs selects input ports by name and gives each its mapping
	// rule. Empty means every hardware input with the default rule.
	Inputs []InputSpec
	// Output selects the synth output port by name ("" means none, or
	// the virtual port when Virtual is set).
	Output Match
	// OutputRule maps remote events to MIDI.
	OutputRule mapping.OutputRule
	// Virtual opens "<VirtualName> in" and "<VirtualName> out" ports
	// for a DAW, when the MIDI system can.
	Virtual     bool
	VirtualName string
	// VirtualRule maps what a DAW sends to the virtual input.
	VirtualRule mapping.InputRule

	// Rescan is how often ports are listed for hotplug (each listing
	// opens an ALSA client, so not too often).
	Rescan time.Duration
	// DrumGate is how long a remote drum hit sounds before its note-off.
	DrumGate time.Duration
	// EchoWindow is how long a message played out is remembered, so an
	// identical message arriving at an input (a DAW routing our output
	// back in) is dropped instead of echoed to the session.
	EchoWindow time.Duration

	// Playout says when remote events play: at once (the default), or
	// on a schedule that keeps the spacing they were played with.
	Playout PlayoutMode
	// RelayTime converts a local time to the session's clock (unix ms),
	// for event timestamps and playout; nil means the local clock.
	RelayTime func(time.Time) float64

	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// InputSpec is one rule for input ports whose name matches.
type InputSpec struct {
	Match Match
	Rule  mapping.InputRule
}

// Match selects ports by name: a case-insensitive substring, or a regular
// expression written between slashes ("/^Launchkey.*MIDI 1/").
type Match struct {
	text string
	re   *regexp.Regexp
}

// ParseMatch compiles a port name pattern.
func ParseMatch(s string) (Match, error) {
	if len(s) >= 2 && strings.HasPrefix(s, "/") && strings.HasSuffix(s, "/") {
		re, err := regexp.Compile(s[1 : len(s)-1])
		if err != nil {
			return Match{}, fmt.Errorf("port pattern %s: %w", s, err)
		}
		return Match{text: s, re: re}, nil
	}
	return Match{text: s}, nil
}

// MustMatch is ParseMatch for patterns known to be valid.
func MustMatch(s string) Match {
	m, err := ParseMatch(s)
	if err != nil {
		panic(err)
	}
	return m
}

// Empty reports whether m selects nothing in particular.
func (m Match) Empty() bool { return m.text == "" }

// String returns the pattern as written.
func (m Match) String() string { return m.text }

// Matches reports whether a port name matches.
func (m Match) Matches(name string) bool {
	if m.re != nil {
		return m.re.MatchString(name)
	}
	return strings.Contains(strings.ToLower(name), strings.ToLower(m.text))
}

// Defaults.
const (
	DefaultRescan      = time.Second
	DefaultDrumGate    = 100 * time.Millisecond
	DefaultEchoWindow  = 50 * time.Millisecond
	DefaultVirtualName = "jambridge"
)

func (c Config) withDefaults() Config {
	if c.Rescan <= 0 {
		c.Rescan = DefaultRescan
	}
	if c.DrumGate <= 0 {
		c.DrumGate = DefaultDrumGate
	}
	if c.EchoWindow <= 0 {
		c.EchoWindow = DefaultEchoWindow
	}
	if c.VirtualName == "" {
		c.VirtualName = DefaultVirtualName
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.RelayTime == nil {
		c.RelayTime = unixMillis
	}
	if len(c.Inputs) == 0 {
		c.Inputs = []InputSpec{{Rule: mapping.DefaultInputRule()}}
	}
	if reflect.DeepEqual(c.VirtualRule, mapping.InputRule{}) {
		c.VirtualRule = mapping.DefaultInputRule()
	}
	return c
}

// Validate reports the first rule that cannot work.
func (c Config) Validate() error {
	for i, in := range c.Inputs {
		if err := in.Rule.Validate(); err != nil {
			return fmt.Errorf("input %d (%q): %w", i+1, in.Match, err)
		}
	}
	if err := c.OutputRule.Validate(); err != nil {
		return fmt.Errorf("output: %w", err)
	}
	if c.Virtual {
		if err := c.VirtualRule.Validate(); err != nil {
			return fmt.Errorf("virtual input: %w", err)
		}
	}
	if strings.ContainsAny(c.VirtualName, "\x00\n") {
		return errors.New("virtual port name must be one line")
	}
	return nil
}

// ownPort reports whether a port is one of our virtual ports, as other
// programs (and our own listings) see them.
func (c Config) ownPort(name string) bool {
	return strings.Contains(strings.ToLower(name), strings.ToLower(c.VirtualName))
}

// notByDefault are name fragments (lowercase) of ports a catch-all input
// spec never reads: ALSA's "Midi Through", and the client rtmidi opens
// for each output the bridge plays to, whose port is readable and would
// hand the bridge back what it plays ("RtMidi Output Client:...").
var notByDefault = []string{"midi through", "rtmidi output client"}

// ruleFor returns the rule of the first input spec matching name, and
// whether any matched. A port named like our own virtual ports, or one of
// notByDefault, is never used unless a spec names it.
func (c Config) ruleFor(name string) (mapping.InputRule, bool) {
	own := c.ownPort(name)
	lower := strings.ToLower(name)
	skip := slices.ContainsFunc(notByDefault, func(f string) bool { return strings.Contains(lower, f) })
	for _, in := range c.Inputs {
		if in.Match.Empty() {
			if own || skip {
				continue
			}
			return in.Rule, true
		}
		if in.Match.Matches(name) && !own {
			return in.Rule, true
		}
	}
	return mapping.InputRule{}, false
}
