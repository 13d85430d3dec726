package relay

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"
)

// Clock estimator defaults; see ClockConfig.
const (
	defaultClockWindow    = 32
	defaultClockMin       = 4
	defaultClockSmoothing = 0.05
	defaultStepThreshold  = 20.0 // ms
	defaultStepConfirm    = 3
	defaultMaxRTT         = 1000.0 // ms

	// driftPoints is how many past samples the drift (frequency) fit
	// spans: at one sample every 2 s, about two minutes.
	driftPoints = 64
	// minDriftSpan (ms of local time) is how long a stretch of samples
	// the fit needs at all; until then the clocks are taken to run at
	// the same rate. Short fits are shrunk towards 0 too, see slope.
	minDriftSpan = 10e3
	// maxDrift bounds the estimated drift: a quartz clock is off by tens
	// of ppm, so anything beyond this is noise.
	maxDrift = 500e-6
	// typicalDrift is the prior scale of the drift: quartz oscillators
	// are within tens of ppm.
	typicalDrift = 50e-6
	// minWeightRTT (ms) bounds a sample's weight in the drift fit.
	minWeightRTT = 0.1
)

// ClockSample is one clock:sync round trip: T0 when it was sent (local
// clock), Server from the ack (relay clock), T1 when the ack arrived
// (local clock). All in unix ms.
type ClockSample struct {
	T0, Server, T1 float64
}

// ClockConfig tunes a ClockEstimator. Zero fields take the defaults.
type ClockConfig struct {
	// Window is how many recent samples are kept; default 32 (about a
	// minute at one sample every 2 s). Each is carried along the
	// estimated drift, so a wider window costs little and finds more
	// quick round trips.
	Window int
	// Best is how many of a full window's lowest-RTT samples make each
	// measurement (their RTT-weighted mean); default Window/4. Queueing delay is rarely the same
	// both ways, so the quickest round trips say the most.
	Best int
	// MinSamples is how many samples Offset needs before it is ok;
	// default 4.
	MinSamples int
	// Smoothing is the EWMA weight of each new measurement, in (0, 1];
	// default 0.05. The drift is followed separately, so a slow EWMA
	// does not lag.
	Smoothing float64
	// StepThreshold (ms): once Offset is ok, a sample whose offset is
	// further than this from the estimate, beyond the uncertainty of
	// both (half the sample's RTT plus half the best RTT), is evidence
	// of a clock step; default 20.
	StepThreshold float64
	// StepConfirm consecutive, mutually consistent samples of evidence
	// make a step: the window starts over from them; default 3.
	StepConfirm int
	// MaxRTT (ms): samples with a longer round trip are rejected;
	// default 1000.
	MaxRTT float64
}

func (c ClockConfig) withDefaults() ClockConfig {
	if c.Window <= 0 {
		c.Window = defaultClockWindow
	}
	if c.Best <= 0 {
		c.Best = max(1, c.Window/4)
	}
	c.Best = min(c.Best, c.Window)
	if c.MinSamples <= 0 {
		c.MinSamples = defaultClockMin
	}
	if c.Smoothing <= 0 || c.Smoothing > 1 {
		c.Smoothing = defaultClockSmoothing
	}
	if c.StepThreshold <= 0 {
		c.StepThreshold = defaultStepThreshold
	}
	if c.StepConfirm <= 0 {
		c.StepConfirm = defaultStepConfirm
	}
	if c.MaxRTT <= 0 {
		c.MaxRTT = defaultMaxRTT
	}
	return c
}

// ClockStats describes a ClockEstimator.
type ClockStats struct {
	Samples  int     // samples used, those that confirmed a step included
	Rejected int     // samples refused: negative or too long round trip, not finite
	Outliers int     // samples that contradicted the estimate: spikes, or evidence of a step
	Steps    int     // clock steps detected (the window started over)
	OK       bool    // Offset is ok
	Offset   float64 // ms, relay = local + Offset
	RTT      float64 // ms, the window's best round trip
	Jitter   float64 // ms, RMS spread of the best samples' offsets
	DriftPPM float64 // how fast the offset changes, in ppm of local time
}

// clockPoint is a sample reduced to NTP terms: at is the local midpoint
// of the round trip, offset = server - at. seg numbers the stretches
// between clock steps.
type clockPoint struct {
	at, offset, rtt float64
	seg             int
}

// ClockEstimator estimates the offset of the relay's clock to ours from
// clock:sync samples, NTP style: of a window of recent samples it keeps
// the lowest round trips (queueing delay is rarely the same both ways,
// and a sample's error is at most half its round trip), takes their
// RTT-weighted mean offset, smooths it with an EWMA, follows the drift
// between the clocks with a weighted linear fit of the last couple of
// minutes, and starts the window over when consecutive samples agree on
// a large jump (a clock step). It reads no clock itself: times come in
// with the samples and go out through RelayTime.
//
// Concurrency: a ClockEstimator is not safe for concurrent use. Its
// owner, the goroutine that takes the samples (a Session's sync loop),
// calls Add; others read it through the owner or under the owner's lock.
type ClockEstimator struct {
	cfg     ClockConfig
	win     []clockPoint // the window, oldest first
	pending []clockPoint // consecutive samples that contradict the estimate
	hist    []clockPoint // the last driftPoints samples used, for the drift fit

	have   bool    // est is set
	est    float64 // smoothed offset at local time at
	at     float64
	drift  float64 // d offset / d local time
	seg    int     // steps so far, numbering the samples' segments
	jitter float64

	samples, rejected, outliers, steps int
}

// NewClockEstimator returns an estimator with no samples.
func NewClockEstimator(cfg ClockConfig) *ClockEstimator {
	return &ClockEstimator{cfg: cfg.withDefaults()}
}

// Add takes one sample. Samples must come in the order they were taken.
func (e *ClockEstimator) Add(s ClockSample) {
	rtt := s.T1 - s.T0
	if !finite(s.T0) || !finite(s.T1) || !finite(s.Server) || rtt < 0 || rtt > e.cfg.MaxRTT {
		e.rejected++
		return
	}
	mid := s.T0 + rtt/2
	p := clockPoint{at: mid, offset: s.Server - mid, rtt: rtt}
	if e.ok() && math.Abs(p.offset-e.predict(p.at))-(rtt+e.RTT())/2 > e.cfg.StepThreshold {
		e.outliers++
		e.pending = append(e.pending, p)
		if len(e.pending) < e.cfg.StepConfirm {
			return
		}
		if !e.consistent() {
			e.pending = slices.Delete(e.pending, 0, 1)
			return
		}
		e.step()
		return
	}
	e.pending = e.pending[:0]
	p.seg = e.seg
	e.push(p)
	e.win = append(e.win, p)
	if len(e.win) > e.cfg.Window {
		e.win = slices.Delete(e.win, 0, len(e.win)-e.cfg.Window)
	}
	e.update(p.at)
}

// consistent reports whether the pending samples agree with each other
// on a new offset, within the step threshold.
func (e *ClockEstimator) consistent() bool {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, p := range e.pending {
		lo = min(lo, p.offset+p.rtt/2)
		hi = max(hi, p.offset-p.rtt/2)
	}
	return hi-lo <= e.cfg.StepThreshold
}

// step starts over from the pending samples: the clock jumped. The
// drift is kept, and so are the samples it was fitted on, as an earlier
// segment: a step does not change the clocks' rates.
func (e *ClockEstimator) step() {
	e.steps++
	e.seg++
	e.win = e.win[:0]
	for _, p := range e.pending {
		p.seg = e.seg
		e.push(p)
		e.win = append(e.win, p)
	}
	e.pending = e.pending[:0]
	e.have = false
	e.update(e.win[len(e.win)-1].at)
}

// push records a sample used for the drift fit.
func (e *ClockEstimator) push(p clockPoint) {
	e.samples++
	e.hist = append(e.hist, p)
	if len(e.hist) > driftPoints {
		e.hist = slices.Delete(e.hist, 0, len(e.hist)-driftPoints)
	}
}

// update makes a measurement at local time now from the window's best
// samples, each carried to now along the drift, and smooths it in.
func (e *ClockEstimator) update(now float64) {
	best := slices.Clone(e.win)
	slices.SortStableFunc(best, func(a, b clockPoint) int { return cmp.Compare(a.rtt, b.rtt) })
	k := max(1, min(e.cfg.Best, len(best)*e.cfg.Best/e.cfg.Window))
	var sw, meas float64
	for _, p := range best[:k] {
		w := rttWeight(p.rtt)
		sw += w
		meas += w * (p.offset + e.drift*(now-p.at))
	}
	meas /= sw
	var ss float64
	for _, p := range best[:k] {
		d := p.offset + e.drift*(now-p.at) - meas
		ss += d * d
	}
	e.jitter = math.Sqrt(ss / float64(k))

	switch {
	case !e.have || len(e.win) < e.cfg.Window:
		// Filling the window: each measurement draws on every sample
		// so far, and an early one from a slow round trip must not
		// linger in the average.
		e.have, e.est, e.at = true, meas, now
	default:
		e.est = e.predict(now)
		e.at = now
		e.est += e.cfg.Smoothing * (meas - e.est)
	}
	if e.hist[len(e.hist)-1].at-e.hist[0].at >= minDriftSpan {
		if d, ok := slope(e.hist); ok {
			e.drift = math.Max(-maxDrift, math.Min(maxDrift, d))
		}
	}
}

// predict is the estimated offset at local time t.
func (e *ClockEstimator) predict(t float64) float64 {
	return e.est + e.drift*(t-e.at)
}

// Offset returns the estimated offset of the relay's clock, relay =
// local + offset, in ms, as of the last sample. ok is false until
// MinSamples samples have been used.
func (e *ClockEstimator) Offset() (offsetMs float64, ok bool) {
	if !e.ok() {
		return 0, false
	}
	return e.est, true
}

func (e *ClockEstimator) ok() bool { return e.have && e.samples >= e.cfg.MinSamples }

// RTT returns the best round trip (ms) in the window, 0 before any.
func (e *ClockEstimator) RTT() float64 {
	if len(e.win) == 0 {
		return 0
	}
	r := math.Inf(1)
	for _, p := range e.win {
		r = min(r, p.rtt)
	}
	return r
}

// RelayTime converts a local time (unix ms) to relay time, following the
// drift since the last sample. Until Offset is ok it returns localMs.
func (e *ClockEstimator) RelayTime(localMs float64) float64 {
	if !e.ok() {
		return localMs
	}
	return localMs + e.predict(localMs)
}

// Stats returns counters and the current estimate.
func (e *ClockEstimator) Stats() ClockStats {
	off, ok := e.Offset()
	return ClockStats{
		Samples: e.samples, Rejected: e.rejected, Outliers: e.outliers, Steps: e.steps,
		OK: ok, Offset: off, RTT: e.RTT(), Jitter: e.jitter, DriftPPM: e.drift * 1e6,
	}
}

// slope is the weighted least-squares slope of offset over at, with
// one intercept per segment (a step moves the offset, not its slope),
// shrunk towards 0 by how uncertain it is (the posterior mean under a
// prior of typicalDrift): a fit over a few noisy samples is mostly
// noise. A sample's error is bounded by half its RTT, so it weighs
// 1/RTT². ps is in order, so each segment is one run.
func slope(ps []clockPoint) (float64, bool) {
	var sto, stt float64
	type mean struct{ t, o float64 }
	means := make([]mean, len(ps)) // the weighted means of each point's segment
	segs := 0
	for i := 0; i < len(ps); segs++ {
		j := i
		var sw, mt, mo float64
		for ; j < len(ps) && ps[j].seg == ps[i].seg; j++ {
			w := rttWeight(ps[j].rtt)
			sw += w
			mt += w * ps[j].at
			mo += w * ps[j].offset
		}
		for k := i; k < j; k++ {
			means[k] = mean{mt / sw, mo / sw}
		}
		i = j
	}
	for i, p := range ps {
		w := rttWeight(p.rtt)
		sto += w * (p.at - means[i].t) * (p.offset - means[i].o)
		stt += w * (p.at - means[i].t) * (p.at - means[i].t)
	}
	dof := len(ps) - segs - 1
	if stt == 0 || dof < 1 {
		return 0, false
	}
	b := sto / stt
	var rss float64
	for i, p := range ps {
		r := p.offset - means[i].o - b*(p.at-means[i].t)
		rss += rttWeight(p.rtt) * r * r
	}
	v := rss / float64(dof) / stt // variance of b
	return b * typicalDrift * typicalDrift / (typicalDrift*typicalDrift + v), true
}

// rttWeight weighs a sample by 1/RTT²; round trips under
// minWeightRTT count as that, so that loopback does not divide by 0.
func rttWeight(rtt float64) float64 {
	r := max(rtt, minWeightRTT)
	return 1 / (r * r)
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

// ErrClockSync says the relay's answer to clock:sync was not
// {t0, serverTime} with our t0.
var ErrClockSync = errors.New("bad clock:sync ack")

// SyncClock performs one clock:sync round trip on c and returns the
// sample. now is the local clock (time.Now in production).
func SyncClock(ctx context.Context, c *Client, now func() time.Time) (ClockSample, error) {
	t0 := unixMillis(now())
	args, err := c.Call(ctx, "clock:sync", map[string]float64{"t0": t0})
	t1 := unixMillis(now())
	if err != nil {
		return ClockSample{}, fmt.Errorf("clock sync: %w", err)
	}
	server, err := parseClockAck(args, t0)
	if err != nil {
		return ClockSample{}, err
	}
	return ClockSample{T0: t0, Server: server, T1: t1}, nil
}

// parseClockAck reads the relay's answer to a clock:sync sent at t0:
// {t0, serverTime}, t0 echoed. It returns the server time.
func parseClockAck(args []json.RawMessage, t0 float64) (float64, error) {
	var r struct {
		T0         *float64 `json:"t0"`
		ServerTime *float64 `json:"serverTime"`
	}
	if len(args) == 0 || json.Unmarshal(args[0], &r) != nil || r.T0 == nil || r.ServerTime == nil {
		var got string
		if len(args) > 0 {
			got = truncate(string(args[0]), 80)
		}
		return 0, fmt.Errorf("clock sync: %w: %s", ErrClockSync, got)
	}
	if *r.T0 != t0 {
		return 0, fmt.Errorf("clock sync: %w: t0 %v, want %v", ErrClockSync, *r.T0, t0)
	}
	return *r.ServerTime, nil
}

// unixMillis is t in unix ms with sub-microsecond precision.
func unixMillis(t time.Time) float64 {
	return float64(t.UnixNano()) / 1e6
}

// Clock sync pace: a quick burst to get an estimate, then a steady beat.
const (
	clockBurst      = 8
	clockBurstEvery = 250 * time.Millisecond
	clockEvery      = 2 * time.Second
)

// syncClock feeds clock:sync round trips on c to the Session's clock
// estimator until ctx ends or c closes.
func (s *Session) syncClock(ctx context.Context, c *Client) {
	for i := 0; ; i++ {
		cctx, cancel := context.WithTimeout(ctx, clockEvery)
		smp, err := SyncClock(cctx, c, time.Now)
		cancel()
		switch {
		case ctx.Err() != nil, errors.Is(err, ErrClosed):
			return
		case err == nil:
			s.mu.Lock()
			s.clock.Add(smp)
			s.mu.Unlock()
		default:
			s.log.Debug("clock sync failed", "err", err)
		}
		d := clockEvery
		if i < clockBurst {
			d = clockBurstEvery
		}
		if !sleep(ctx, d) {
			return
		}
	}
}

// RelayTime converts a local time to the relay's clock, in unix ms, as
// estimated by clock:sync; before the first estimate it is local time.
// The estimate outlives reconnects.
func (s *Session) RelayTime(t time.Time) float64 {
	local := float64(t.UnixMicro()) / 1000
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.clock.RelayTime(local)
}

// ClockStats reports the clock estimate.
func (s *Session) ClockStats() ClockStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.clock.Stats()
}
