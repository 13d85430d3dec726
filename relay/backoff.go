package relay

import (
	"math/rand/v2"
	"time"
)

// Backoff is capped exponential backoff with full jitter: the delay
// before retry n (counting from 0) is uniform in [0, min(Max, Min·2ⁿ)).
type Backoff struct {
	Min time.Duration // default 250ms
	Max time.Duration // default 10s
	// Rand returns a uniform number in [0, 1); nil means math/rand/v2.
	Rand func() float64
}

func (b Backoff) withDefaults() Backoff {
	if b.Min <= 0 {
		b.Min = defaultMinBackoff
	}
	if b.Max <= 0 {
		b.Max = defaultMaxBackoff
	}
	b.Max = max(b.Max, b.Min)
	if b.Rand == nil {
		b.Rand = rand.Float64
	}
	return b
}

// Delay returns how long to wait before retry attempt (0 for the first).
func (b Backoff) Delay(attempt int) time.Duration {
	b = b.withDefaults()
	ceil := b.Min
	for i := 0; i < attempt && ceil < b.Max; i++ {
		if ceil > b.Max/2 {
			ceil = b.Max
			break
		}
		ceil *= 2
	}
	ceil = min(ceil, b.Max)
	r := b.Rand()
	if !(r >= 0 && r < 1) {
		r = 0 // a broken source must not stretch the delay
	}
	return time.Duration(r * float64(ceil))
}
