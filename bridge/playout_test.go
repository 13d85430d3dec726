package bridge_test

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"gitlab.com/gomidi/midi/v2"

	"github.com/jambridge/jambridge/bridge"
	"github.com/jambridge/jambridge/bridge/miditest"
)

type stamped struct {
	at  time.Time
	msg string
}

// playoutBridge runs a bridge with mode on virtual time (inside a synctest
// bubble) and records when each message reaches the synth.
func playoutBridge(t *testing.T, mode string) (*bridge.Bridge, func() []stamped, func()) {
	pm, err := bridge.ParsePlayout(mode)
	if err != nil {
		t.Fatal(err)
	}
	sys := &miditest.System{}
	out := sys.PlugOut("Synth")
	var mu sync.Mutex
	var got []stamped
	out.OnSend = func(b []byte) {
		mu.Lock()
		got = append(got, stamped{time.Now(), midi.Message(b).String()})
		mu.Unlock()
	}
	b, err := bridge.New(bridge.Config{Output: bridge.MustMatch("synth"), Playout: pm, DrumGate: time.Hour,
		Logger: slog.New(slog.DiscardHandler)}, sys, newSender())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { b.Run(ctx); close(done) }()
	time.Sleep(10 * time.Millisecond) // the scanner opens the synth
	synctest.Wait()
	return b, func() []stamped {
			mu.Lock()
			defer mu.Unlock()
			return append([]stamped(nil), got...)
		}, func() {
			cancel()
			<-done
		}
}

func msNow() float64 { return float64(time.Now().UnixMicro()) / 1000 }

func note(from string, key int, ts float64) bridge.Remote {
	return bridge.Remote{SenderID: from, EventName: "piano_note", Received: time.Now(),
		Payload: []byte(fmt.Sprintf(`{"note":"C4","midi":%d,"velocity":90,"timestamp":%f}`, key, ts))}
}

// With a fixed playout delay, notes that arrive in one burst (network
// jitter) come out with the spacing they were played with.
func TestFixedPlayoutRestoresSpacing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b, got, stop := playoutBridge(t, "fixed:50ms")
		t0 := msNow()
		time.Sleep(30 * time.Millisecond) // they arrive late and together
		b.Remote(note("alice", 60, t0))
		b.Remote(note("alice", 62, t0+10))
		b.Remote(note("alice", 64, t0+25))
		time.Sleep(100 * time.Millisecond)
		synctest.Wait()
		g := got()
		if len(g) != 3 {
			t.Fatalf("synth got %v", g)
		}
		start := time.UnixMicro(int64(t0 * 1000))
		for i, want := range []time.Duration{50, 60, 75} {
			if d := g[i].at.Sub(start); d != want*time.Millisecond {
				t.Errorf("note %d played at +%v, want +%vms", i, d, want)
			}
		}
		stop()
	})
}

// An event that arrives after its slot plays at once and is counted late;
// immediate mode plays everything on arrival.
func TestLatePlayoutAndImmediate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b, got, stop := playoutBridge(t, "fixed:20ms")
		t0 := msNow()
		time.Sleep(100 * time.Millisecond)
		arrival := time.Now()
		b.Remote(note("bob", 67, t0)) // 100 ms old: its slot has passed
		synctest.Wait()
		if g := got(); len(g) != 1 || !g[0].at.Equal(arrival) {
			t.Errorf("late note: %v, want it played at arrival %v", g, arrival)
		}
		if s := b.Stats(); s.Late != 1 {
			t.Errorf("late = %d, want 1", s.Late)
		}
		stop()
	})
	synctest.Test(t, func(t *testing.T) {
		b, got, stop := playoutBridge(t, "immediate")
		arrival := time.Now()
		b.Remote(note("carol", 60, msNow()+500)) // even a future stamp plays now
		synctest.Wait()
		if g := got(); len(g) != 1 || !g[0].at.Equal(arrival) {
			t.Errorf("immediate: %v, want played at arrival", g)
		}
		stop()
	})
}

// A participant who leaves with notes still waiting for their slot: none
// of them sounds after the release.
func TestLeaveDropsPendingNotes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b, got, stop := playoutBridge(t, "fixed:100ms")
		b.Remote(note("dave", 60, msNow()))
		b.Left("dave")
		time.Sleep(200 * time.Millisecond)
		synctest.Wait()
		if g := got(); len(g) != 0 {
			t.Errorf("after leaving, the synth got %v", g)
		}
		stop()
	})
}

func TestParticipantsReportLatencyAndLoss(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b, _, stop := playoutBridge(t, "immediate")
		for i, seq := range []int64{1, 2, 4, 5} { // 3 is lost
			r := note("erin", 60+i, msNow()-12) // 12 ms on the way
			r.Seq = seq
			b.Remote(r)
		}
		synctest.Wait()
		ps := b.Participants()
		if len(ps) != 1 || ps[0].ID != "erin" {
			t.Fatalf("participants = %+v", ps)
		}
		if p := ps[0]; p.Seq.Received != 4 || p.Seq.Lost != 1 || p.Playout.LatencyP50 != 12*time.Millisecond {
			t.Errorf("erin: %+v", p)
		}
		stop()
		if b.Participants() != nil {
			t.Error("Participants after Run ended should be nil")
		}
	})
}
