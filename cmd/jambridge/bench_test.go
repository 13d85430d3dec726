package main

import (
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"gitlab.com/gomidi/midi/v2"

	"github.com/jambridge/jambridge/bridge"
	"github.com/jambridge/jambridge/bridge/miditest"
	"github.com/jambridge/jambridge/relay"
)

// BenchmarkEndToEnd measures what a musician hears: the time from a note
// arriving at bridge A's MIDI input to it leaving bridge B's MIDI output,
// through a relay on loopback (bridge + relay + bridge, all real, the
// MIDI ports fakes). Latency is stamped in the output port's Send.
//
//	go test -run '^$' -bench EndToEnd -benchtime 1x ./cmd/jambridge/
func BenchmarkEndToEnd(b *testing.B) {
	for _, tc := range []struct {
		name  string
		rate  int // notes per second
		notes int
	}{
		{"steady_100_notes_per_s", 100, 10_000},
		{"burst_1000_notes_per_s", 1000, 10_000},
	} {
		b.Run(tc.name, func(b *testing.B) {
			for range b.N {
				lat, lost, reordered := endToEnd(b, tc.rate, tc.notes)
				slices.Sort(lat)
				b.ReportMetric(ms(pct(lat, 0.50)), "p50_ms")
				b.ReportMetric(ms(pct(lat, 0.99)), "p99_ms")
				b.ReportMetric(ms(lat[len(lat)-1]), "max_ms")
				b.ReportMetric(float64(lost), "lost")
				b.ReportMetric(float64(reordered), "reordered")
			}
		})
	}
}

// endToEnd plays notes at rate through two bridges and returns each
// note's latency, how many never arrived and how many arrived out of
// order. Each note is a note-on/note-off pair with a unique key and
// velocity, so the output identifies it.
func endToEnd(b *testing.B, rate, notes int) ([]time.Duration, int, int) {
	// The relay's per-connection limit (200 events/s by default, for
	// humans) would refuse a 1000 notes/s file: lift it for the bench.
	srv, _ := relay.NewServer(relay.Config{EventRate: 1e6, EventBurst: 1e6, SendQueue: 1 << 16})
	hs := httptest.NewServer(srv)
	defer func() { srv.Close(); hs.Close() }()
	r := &testRelay{addr: strings.TrimPrefix(hs.URL, "http://")}
	aSys, bSys := &miditest.System{}, &miditest.System{}
	keys := aSys.PlugIn("Bench Keys")
	synth := bSys.PlugOut("Bench Synth")
	sent := make([]time.Time, notes)
	got := make([]time.Duration, 0, notes)
	var mu sync.Mutex
	last, reordered := -1, 0
	arrived := make(chan struct{}, notes)
	synth.OnSend = func(msg []byte) {
		now := time.Now()
		var ch, key, vel uint8
		if !midi.Message(msg).GetNoteStart(&ch, &key, &vel) {
			return
		}
		id := noteID(key, vel)
		mu.Lock()
		if id < notes && !sent[id].IsZero() {
			got = append(got, now.Sub(sent[id]))
			if id < last {
				reordered++
			}
			last = id
		}
		mu.Unlock()
		arrived <- struct{}{}
	}
	bobLog, playing := playingSignal()
	defer joinedJam(b, r, "a", bridge.Config{Logger: slog.New(slog.DiscardHandler)}, aSys)()
	defer joinedJam(b, r, "b", bridge.Config{Output: bridge.MustMatch("synth"), Logger: bobLog}, bSys)()
	waitPlaying(b, keys, playing)
	b.ResetTimer()
	period := time.Second / time.Duration(rate)
	start := time.Now()
	for i := range notes {
		time.Sleep(time.Until(start.Add(time.Duration(i) * period)))
		key, vel := noteOf(i)
		mu.Lock()
		sent[i] = time.Now()
		mu.Unlock()
		keys.Play(midi.NoteOn(0, key, vel))
		keys.Play(midi.NoteOff(0, key))
	}
	timeout := time.After(wait)
	for n := 0; n < notes; n++ {
		select {
		case <-arrived:
		case <-timeout:
			n = notes
		}
	}
	b.StopTimer()
	mu.Lock()
	defer mu.Unlock()
	return got, notes - len(got), reordered
}

// noteOf gives note i a unique key (0-127) and velocity (1-127).
func noteOf(i int) (key, vel uint8) { return uint8(i % 128), uint8(i/128%127 + 1) }
func noteID(key, vel uint8) int     { return int(vel-1)*128 + int(key) }

func pct(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[int(p*float64(len(sorted)-1))]
}

// BenchmarkIdleDaemon measures the real jambridge binary hosting a session
// with nothing played: resident memory and CPU over ten seconds.
//
//	go test -run '^$' -bench IdleDaemon -benchtime 1x ./cmd/jambridge/
func BenchmarkIdleDaemon(b *testing.B) {
	bin := buildBinary(&testing.T{})
	for range b.N {
		cmd := exec.Command(bin, "run", "--listen", "127.0.0.1:0", "--log-level", "warn")
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		time.Sleep(2 * time.Second) // settle
		cpu0 := procCPU(b, cmd.Process.Pid)
		const window = 10 * time.Second
		time.Sleep(window)
		cpu := procCPU(b, cmd.Process.Pid) - cpu0
		rss := procRSS(b, cmd.Process.Pid)
		cmd.Process.Kill()
		cmd.Wait()
		b.ReportMetric(100*cpu.Seconds()/window.Seconds(), "idle_cpu_%")
		b.ReportMetric(rss, "rss_MB")
	}
}

// procCPU is the user+system CPU time of a process (CLK_TCK 100).
func procCPU(b *testing.B, pid int) time.Duration {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	f := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+2:]))
	ut, _ := strconv.Atoi(f[11])
	st, _ := strconv.Atoi(f[12])
	return time.Duration(ut+st) * 10 * time.Millisecond
}

func procRSS(b *testing.B, pid int) float64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.Atoi(f[1])
			return float64(kb) / 1024
		}
	}
	return 0
}
