package mapping

import (
	"math"
	"time"
)

// UnixMillis is t as the wire's timestamps are: unix milliseconds, with
// microseconds as the fraction (payload timestamp, serverTime, clock:sync).
func UnixMillis(t time.Time) float64 {
	return float64(t.UnixMicro()) / 1000
}

// TimeOfUnixMillis is the time of a wire timestamp, UnixMillis' inverse
// to the microsecond.
func TimeOfUnixMillis(ms float64) time.Time {
	return time.UnixMicro(int64(math.Round(ms * 1000)))
}
