package mapping_test

import (
	"testing"
	"time"

	"github.com/jambridge/jambridge/mapping"
)

func TestUnixMillisRoundTrip(t *testing.T) {
	for _, tm := range []time.Time{
		time.Date(2026, 11, 27, 8, 30, 0, 123456789, time.UTC),
		time.UnixMicro(1),
		time.Date(1969, 12, 31, 23, 59, 59, 999_999_000, time.UTC),
	} {
		ms := mapping.UnixMillis(tm)
		if want := float64(tm.UnixMicro()) / 1000; ms != want {
			t.Errorf("UnixMillis(%v) = %v, want %v", tm, ms, want)
		}
		if back := mapping.TimeOfUnixMillis(ms); back.UnixMicro() != tm.UnixMicro() {
			t.Errorf("TimeOfUnixMillis(%v) = %v, want %v to the microsecond", ms, back, tm)
		}
	}
}
