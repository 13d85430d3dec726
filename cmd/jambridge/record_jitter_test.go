package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"gitlab.com/gomidi/midi/v2"

	"github.com/jambridge/jambridge/bridge"
	"github.com/jambridge/jambridge/bridge/miditest"
	"github.com/jambridge/jambridge/mapping"
	"github.com/jambridge/jambridge/relay"
)

// jitterSong writes a MIDI file of notes one after another, with seeded
// irregular gaps of 10 to 40 ms, each held 5 ms.
func jitterSong(t *testing.T, path string, notes int) {
	t.Helper()
	start := time.Now()
	rec := bridge.NewRecorder(bridge.RecordConfig{Rule: mapping.DefaultOutputRule(), Start: start, Timing: bridge.RecordArrival})
	rng := rand.New(rand.NewPCG(11, 12))
	at := start
	for i := range notes {
		key, vel := noteOf(i)
		for _, ev := range []struct {
			vel   uint8
			after time.Duration
		}{{vel, 0}, {0, 5 * time.Millisecond}} {
			rec.Add(bridge.Remote{SenderID: "song", EventName: "piano_note", Received: at.Add(ev.after),
				Payload: fmt.Appendf(nil, `{"note":"C4","midi":%d,"velocity":%d}`, key, ev.vel)}, "song")
		}
		at = at.Add(10*time.Millisecond + time.Duration(rng.Int64N(int64(30*time.Millisecond))))
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := rec.WriteTo(f); err != nil {
		t.Fatal(err)
	}
}

// noteOnsets are a file's note-ons, by name, and their times.
func noteOnsets(t *testing.T, path string) (notes []string, at []time.Duration) {
	t.Helper()
	for _, e := range loadRecording(t, path).Events {
		var ch, key, vel uint8
		if e.Msg.GetNoteStart(&ch, &key, &vel) {
			notes = append(notes, midi.Message(e.Msg).String())
			at = append(at, e.At)
		}
	}
	return notes, at
}

// onsetErrors are |recorded - played| for each onset, the recording's
// time zero aligned to the played file's by the median difference (a
// recording starts when its recorder does); sorted.
func onsetErrors(got, want []time.Duration) []time.Duration {
	diffs := make([]time.Duration, len(got))
	for i := range got {
		diffs[i] = got[i] - want[i]
	}
	sorted := slices.Sorted(slices.Values(diffs))
	shift := sorted[len(sorted)/2]
	for i := range diffs {
		diffs[i] = (diffs[i] - shift).Abs()
	}
	slices.Sort(diffs)
	return diffs
}

// `play` a file into a session, and `record` it twice through 0-30 ms of
// random network delay: placed at the senders' time, the recording keeps
// the file's onsets within 2 ms at p99; placed at arrival (the control),
// it carries the network's jitter.
func TestRecordKeepsTheMusiciansTimeThroughJitter(t *testing.T) {
	const notes = 200
	dir := t.TempDir()
	song := filepath.Join(dir, "song.mid")
	jitterSong(t, song, notes)
	// A relay that lets a file's worth of notes through its rate limit.
	srv, err := relay.NewServer(relay.Config{EventRate: 1e6, EventBurst: 1e6})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(func() { srv.Close(); hs.Close() })
	r := &testRelay{addr: strings.TrimPrefix(hs.URL, "http://")}
	px := startJitterProxy(t, r.addr, injectedJitter, 5)
	startJam(t, r, "host", bridge.Config{}, &miditest.System{}) // the session the recorders join
	takes := []string{"sender", "arrival"}
	outs, stops := map[string]*syncBuf{}, map[string]func() error{}
	for _, timing := range takes {
		// One at a time: urfave/cli keeps global flag state while parsing.
		outs[timing], stops[timing] = runTool(t, "record", filepath.Join(dir, timing+".mid"), "--relay", px.relay().url(),
			"--room", "JAM-TEST", "--timing", timing, "--name", timing, "--log-level", "debug")
		ready := map[string]string{"sender": `msg="clock synchronised`, "arrival": "msg=recording"}[timing]
		eventually(t, timing+" recorder ready", func() bool { return strings.Contains(outs[timing].String(), ready) })
	}
	played := &syncBuf{}
	if err := run(context.Background(), []string{"jambridge", "play", song, "--relay", r.url(), "--room", "JAM-TEST"}, played, played); err != nil {
		t.Fatalf("play: %v\n%s", err, played)
	}
	wantNotes, wantAt := noteOnsets(t, song)
	errs := map[string][]time.Duration{}
	for _, timing := range takes {
		eventually(t, timing+" recorder got every event", func() bool { return strings.Count(outs[timing].String(), "msg=event") >= 2*notes })
		if err := stops[timing](); err != nil {
			t.Fatalf("record --timing %s: %v\n%s", timing, err, outs[timing])
		}
		gotNotes, gotAt := noteOnsets(t, filepath.Join(dir, timing+".mid"))
		if !slices.Equal(gotNotes, wantNotes) {
			t.Fatalf("--timing %s: recorded %d notes, want the %d played, in order", timing, len(gotNotes), len(wantNotes))
		}
		errs[timing] = onsetErrors(gotAt, wantAt)
		t.Logf("--timing %s: onset error p50 %v p99 %v max %v", timing, pct(errs[timing], 0.5), pct(errs[timing], 0.99), pct(errs[timing], 1))
	}
	if p99 := pct(errs["sender"], 0.99); p99 > 2*time.Millisecond {
		t.Errorf("--timing sender: onset error p99 %v, want within 2ms of the file played", p99)
	}
	if p90 := pct(errs["arrival"], 0.9); p90 < 5*time.Millisecond {
		t.Errorf("--timing arrival: onset error p90 %v, want the injected jitter (> 5ms): is the proxy delaying?", p90)
	}
}
