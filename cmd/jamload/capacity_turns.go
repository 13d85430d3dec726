package main

import (
	"context"
	"fmt"
)

// capacitySearch is one relay's capacity search in progress: the steps
// decided so far and the windows of the step under way.
type capacitySearch struct {
	rp    *relayProc
	res   capacityResult
	tried []stepOutcome
	ws    []throughputResult // the windows of the step under way
	rate  int                // its rate; 0: the next step is not chosen yet
	err   error              // the search stopped on it
}

// next returns the rate of the search's next window, or false when the
// search is over (or failed).
func (s *capacitySearch) next() (int, bool) {
	if s.err != nil {
		return 0, false
	}
	if s.rate == 0 {
		r, more := nextCapacityRate(capacityRates, s.tried)
		if !more {
			return 0, false
		}
		s.rate = r
	}
	return s.rate, true
}

// add folds in a window of the step under way; once the step is decided
// (stepVote) the search moves on.
func (s *capacitySearch) add(w throughputResult) {
	s.ws = append(s.ws, w)
	r, done := stepVote(s.ws)
	if !done {
		return
	}
	s.res.Steps = append(s.res.Steps, r)
	s.tried = append(s.tried, stepOutcome{s.rate, r.Pass})
	s.res.addStep(r)
	s.ws, s.rate = nil, 0
}

// runTurns runs every search to its end, one window of each in turn, so
// that a drift of the host over the minutes the searches take (its modes
// move both relays' figures by a third: README, sixth round) reaches
// them alike instead of favouring whichever ran in the better minutes.
// window runs one window; an error stops that search only, unless ctx is
// done.
func runTurns(ctx context.Context, searches []*capacitySearch, window func(*capacitySearch, int) (throughputResult, error)) {
	for ctx.Err() == nil {
		ran := false
		for _, s := range searches {
			rate, ok := s.next()
			if !ok || ctx.Err() != nil {
				continue
			}
			ran = true
			w, err := window(s, rate)
			if err != nil {
				s.err = err
				continue
			}
			s.add(w)
		}
		if !ran {
			return
		}
	}
}

// capacityTurns measures every relay's capacity, each on one fresh
// process started for the whole scenario, the relays taking turns
// window by window (runTurns). It returns the results of the relays
// measured to the end and the errors of the others (capacityOutcome);
// an error that stops a search is logged when it happens.
func (b *bench) capacityTurns(ctx context.Context) ([]capacityResult, []error) {
	o := b.o
	o.duration, o.warmup = o.capacityWindow, o.capacityWindow/4
	var errs []error
	var searches []*capacitySearch
	defer func() {
		for _, s := range searches {
			s.rp.stop()
		}
	}()
	for _, spec := range b.relays {
		rp, err := startRelay(ctx, spec)
		if err != nil {
			err = fmt.Errorf("capacity on %s: %w", spec.name, err)
			fmt.Fprintln(b.log, "jamload:", err)
			errs = append(errs, err)
			continue
		}
		searches = append(searches, &capacitySearch{rp: rp, res: capacityResult{Relay: spec.name}})
	}
	runTurns(ctx, searches, func(s *capacitySearch, rate int) (throughputResult, error) {
		w, err := b.capacityWindow(ctx, s.rp, capacityStep(rate), o)
		if err == nil && s.rp.exited() {
			err = fmt.Errorf("%s exited during the run: %v", s.rp.name, s.rp.cmd.ProcessState)
		}
		if err != nil {
			// Said now, not after the others' searches; and stopped, so
			// that what is left of it does not weigh on their windows.
			fmt.Fprintf(b.log, "jamload: capacity on %s: %v\n", s.rp.name, err)
			s.rp.stop()
		}
		return w, err
	})
	out, failed := capacityOutcome(searches, ctx.Err())
	return out, append(errs, failed...)
}

// capacityOutcome returns the results of the searches that ran to their
// end, and an error for each of the others: the error that stopped it,
// or cause (the run was cancelled) when it was still going.
func capacityOutcome(searches []*capacitySearch, cause error) ([]capacityResult, []error) {
	var out []capacityResult
	var errs []error
	for _, s := range searches {
		_, going := s.next()
		switch {
		case s.err != nil:
			errs = append(errs, fmt.Errorf("capacity on %s: %w", s.res.Relay, s.err))
		case going && cause != nil:
			errs = append(errs, fmt.Errorf("capacity on %s: %w", s.res.Relay, cause))
		default:
			out = append(out, s.res)
		}
	}
	return out, errs
}
