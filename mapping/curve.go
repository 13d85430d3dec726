package mapping

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// CurveKind selects the shape of a velocity Curve.
type CurveKind int

// Velocity curve shapes. The zero value is Linear.
const (
	Linear CurveKind = iota // velocity as played
	Soft                    // boosts quiet playing (gamma softGamma)
	Hard                    // quiet playing gets quieter (gamma hardGamma)
	Fixed                   // every hit at Curve.Fixed
)

// Exponents of the Soft and Hard curves: out = 127 * (in/127)^gamma.
const (
	softGamma = 0.6
	hardGamma = 1.6
)

// Curve maps played velocities to sent velocities. The zero value is the
// Linear curve. Fixed is the velocity of the Fixed kind (1-127) and is
// ignored by the others.
type Curve struct {
	Kind  CurveKind
	Fixed int
}

// softTable and hardTable hold Apply for every velocity. Never written.
var (
	softTable = gammaTable(softGamma)
	hardTable = gammaTable(hardGamma)
)

func gammaTable(gamma float64) (t [maxKey + 1]uint8) {
	for v := 1; v <= maxKey; v++ {
		out := math.Round(maxKey * math.Pow(float64(v)/maxKey, gamma))
		t[v] = uint8(max(1, out)) // a hit never becomes a release
	}
	return t
}

// Apply maps a velocity through the curve. 0 (a release) stays 0, every
// velocity from 1 to 127 maps to 1-127, and the mapping never decreases.
// Inputs outside 0-127 are clamped first.
func (c Curve) Apply(v int) int {
	v = min(max(v, 0), maxKey)
	if v == 0 {
		return 0
	}
	switch c.Kind {
	case Soft:
		return int(softTable[v])
	case Hard:
		return int(hardTable[v])
	case Fixed:
		return min(max(c.Fixed, 1), maxKey)
	default:
		return v
	}
}

// String returns the curve as ParseCurve reads it: "linear", "soft",
// "hard" or "fixed:100".
func (c Curve) String() string {
	switch c.Kind {
	case Linear:
		return "linear"
	case Soft:
		return "soft"
	case Hard:
		return "hard"
	case Fixed:
		return "fixed:" + strconv.Itoa(c.Fixed)
	default:
		return "curve(" + strconv.Itoa(int(c.Kind)) + ")"
	}
}

// ParseCurve reads a curve as written in flags and config files:
// "linear", "soft", "hard" or "fixed:N" with N from 1 to 127, without
// regard to case.
func ParseCurve(s string) (Curve, error) {
	switch strings.ToLower(s) {
	case "linear":
		return Curve{Kind: Linear}, nil
	case "soft":
		return Curve{Kind: Soft}, nil
	case "hard":
		return Curve{Kind: Hard}, nil
	}
	head, num, ok := strings.Cut(s, ":")
	if !ok || !strings.EqualFold(head, "fixed") {
		return Curve{}, fmt.Errorf("velocity curve %q: want linear, soft, hard or fixed:N", s)
	}
	n, err := strconv.Atoi(num)
	if err != nil || n < 1 || n > maxKey {
		return Curve{}, fmt.Errorf("velocity curve %q: fixed velocity must be 1-127", s)
	}
	return Curve{Kind: Fixed, Fixed: n}, nil
}

// validate reports a curve ParseCurve would not produce, as a
// *FieldError of the field "curve".
func (c Curve) validate() error {
	switch {
	case c.Kind < Linear || c.Kind > Fixed:
		return &FieldError{"curve", fmt.Sprintf("unknown kind %d", c.Kind)}
	case c.Kind == Fixed && (c.Fixed < 1 || c.Fixed > maxKey):
		return &FieldError{"curve", fmt.Sprintf("fixed velocity %d is not in 1-127", c.Fixed)}
	}
	return nil
}

// MarshalText implements encoding.TextMarshaler with String's form.
func (c Curve) MarshalText() ([]byte, error) {
	if err := c.validate(); err != nil {
		return nil, err
	}
	return []byte(c.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler with ParseCurve.
func (c *Curve) UnmarshalText(text []byte) error {
	v, err := ParseCurve(string(text))
	if err != nil {
		return err
	}
	*c = v
	return nil
}
