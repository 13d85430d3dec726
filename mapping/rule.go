package mapping

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Role says what an input port plays.
type Role int

// Input roles. The zero value is Auto.
const (
	Auto  Role = iota // drums on InputRule.DrumChannels, keys elsewhere
	Drums             // every note is a drum_hit
	Keys              // every note is a piano_note
)

var roleNames = [...]string{Auto: "auto", Drums: "drums", Keys: "keys"}

// String returns the role as ParseRole reads it.
func (r Role) String() string {
	if r < Auto || r > Keys {
		return fmt.Sprintf("role(%d)", int(r))
	}
	return roleNames[r]
}

// ParseRole reads "auto", "drums" or "keys", without regard to case.
func ParseRole(s string) (Role, error) {
	for r, n := range roleNames {
		if strings.EqualFold(s, n) {
			return Role(r), nil
		}
	}
	return Auto, fmt.Errorf("input role %q: want auto, drums or keys", clip(s))
}

// MarshalText implements encoding.TextMarshaler with String's form.
func (r Role) MarshalText() ([]byte, error) {
	if r < Auto || r > Keys {
		return nil, fmt.Errorf("input role %d: unknown", int(r))
	}
	return []byte(r.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler with ParseRole.
func (r *Role) UnmarshalText(text []byte) error {
	v, err := ParseRole(string(text))
	if err != nil {
		return err
	}
	*r = v
	return nil
}

// Defaults of InputRule, also used when the matching field is empty.
const (
	defaultDrumChannel = 10 // General MIDI percussion
	sustainPedal       = 64
)

// InputRule says how the notes and controllers of one input port become
// events. Start from DefaultInputRule; in the zero value SendControl is
// false. Channels are 1-16 as on the wire (gomidi's are 0-15).
type InputRule struct {
	Role Role
	// Channels the port listens to; empty means all 16.
	Channels []int
	// DrumChannels are the channels whose notes are drum hits under
	// Role Auto; empty means [10].
	DrumChannels []int
	// Transpose shifts piano notes by semitones (-127 to 127); a note
	// shifted outside 0-127 is dropped. Drums are never transposed.
	Transpose int
	// Curve maps the played velocity to the sent one.
	Curve Curve
	// MinVelocity drops notes played softer than this (0-127); the
	// note-off of a dropped note is dropped too.
	MinVelocity int
	// PadMinVelocity is a further MinVelocity per drum key (the key as
	// played), against e-drum crosstalk: {38: 20} drops snare ghosts
	// below 20 that a hard kick set off.
	PadMinVelocity map[int]int
	// SendControl sends the Controllers as control_change events.
	SendControl bool
	// Controllers are the controller numbers sent; empty means [64], the
	// sustain pedal.
	Controllers []int
}

// DefaultInputRule works for a keyboard, a pad controller or a GM drum
// kit without configuration: drums on channel 10, keys elsewhere, linear
// velocity, the sustain pedal sent.
func DefaultInputRule() InputRule {
	return InputRule{
		Role:         Auto,
		DrumChannels: []int{defaultDrumChannel},
		SendControl:  true,
		Controllers:  []int{sustainPedal},
	}
}

// Validate reports the first field out of range, as a *FieldError
// naming the field as config files spell it. NewInput calls it.
func (r InputRule) Validate() error {
	if r.Role < Auto || r.Role > Keys {
		return &FieldError{"role", fmt.Sprintf("%d is not auto, drums or keys", int(r.Role))}
	}
	if err := r.Curve.validate(); err != nil {
		return err
	}
	checks := []rangeCheck{
		{"channels", "", r.Channels, 1, 16},
		{"drum-channels", "", r.DrumChannels, 1, 16},
		{"controllers", "", r.Controllers, 0, maxKey},
		{"transpose", "", []int{r.Transpose}, -maxKey, maxKey},
		{"min-velocity", "", []int{r.MinVelocity}, 0, maxKey},
	}
	for _, key := range slices.Sorted(maps.Keys(r.PadMinVelocity)) {
		checks = append(checks,
			rangeCheck{"pad-min-velocity", "key ", []int{key}, 0, maxKey},
			rangeCheck{"pad-min-velocity", padName(key) + ": ", []int{r.PadMinVelocity[key]}, 0, maxKey})
	}
	for _, c := range checks {
		if err := c.check(); err != nil {
			return err
		}
	}
	return nil
}

// padName names a drum key for an error: "snare (38)", or "key 22".
func padName(key int) string {
	if name, ok := DrumName(key); ok {
		return fmt.Sprintf("%s (%d)", name, key)
	}
	return fmt.Sprintf("key %d", key)
}

// FieldError is a rule field with a value out of range. Field is the
// field as config files and flags spell it ("min-velocity",
// "drum-channels", "pad-min-velocity", "drum-map"), so a caller can say
// where it was written: inputs[0].min-velocity.
type FieldError struct {
	Field string
	Msg   string // what is wrong with the value, e.g. "200 is not in 0-127"
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

// rangeCheck is one rule of a Validate method: every value in lo-hi.
type rangeCheck struct {
	field  string
	what   string // said before the value: "key ", "snare (38): "
	values []int
	lo, hi int
}

func (c rangeCheck) check() error {
	for _, v := range c.values {
		switch {
		case (v < c.lo || v > c.hi) && c.lo < 0:
			return &FieldError{c.field, fmt.Sprintf("%s%d is not between %d and %d", c.what, v, c.lo, c.hi)}
		case v < c.lo || v > c.hi:
			return &FieldError{c.field, fmt.Sprintf("%s%d is not in %d-%d", c.what, v, c.lo, c.hi)}
		}
	}
	return nil
}
