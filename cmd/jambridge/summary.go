package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/jambridge/jambridge/bridge"
	"github.com/jambridge/jambridge/relay"
)

// summaryEvery is how often the daemon logs how each musician reaches it.
const summaryEvery = 30 * time.Second

// notifyUSR1 starts catching SIGUSR1 for summarize: before the session
// starts, so a signal sent once the session is announced is never lost
// (Go ignores a SIGUSR1 nobody asked for). stop undoes it.
func notifyUSR1() (usr1 chan os.Signal, stop func()) {
	usr1 = make(chan os.Signal, 1)
	signal.Notify(usr1, syscall.SIGUSR1)
	return usr1, func() { signal.Stop(usr1) }
}

// summarize logs one line per remote musician every summaryEvery and on
// each signal from usr1, until ctx ends.
func summarize(ctx context.Context, log *slog.Logger, sess *relay.Session, b *bridge.Bridge, usr1 <-chan os.Signal) {
	tick := time.NewTicker(summaryEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-usr1:
		}
		logSummary(log, sess, b)
	}
}

func logSummary(log *slog.Logger, sess *relay.Session, b *bridge.Bridge) {
	names := map[string]string{}
	for _, p := range sess.Participants() {
		names[p.ID] = p.Name
	}
	cs := sess.ClockStats()
	log.Info("session", "room", sess.Room(), "members", len(names),
		"clock_offset_ms", round(cs.Offset), "clock_rtt_ms", round(cs.RTT), "clock_ok", cs.OK)
	for _, p := range b.Participants() {
		name, here := names[p.ID]
		if !here {
			continue // left since
		}
		log.Info("participant", "name", name,
			"latency_p50_ms", ms(p.Playout.LatencyP50), "latency_p95_ms", ms(p.Playout.LatencyP95),
			"jitter_ms", ms(p.Playout.Jitter), "playout_delay_ms", ms(p.Playout.Delay),
			"late", p.Playout.Late, "lost", p.Seq.Lost, "reordered", p.Seq.Reordered, "events", p.Playout.Events)
	}
}

func round(f float64) float64 { return float64(int64(f*100)) / 100 }

func ms(d time.Duration) float64 { return round(float64(d) / float64(time.Millisecond)) }
