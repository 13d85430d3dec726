//go:build hwtest

package hwtest

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"testing"
	"time"
)

// The rehearsal box's soft synth: FluidSynth (Debian's, with a General
// MIDI sound font) renders to a WAV file what arrives at its sequencer
// port; jambridge runs with configs/raspberry-pi.yaml as shipped (its
// `out:` finds "FLUID Synth"), hosting the session; a bandmate's bridge
// plays notes into it from cable 1. Each note must start a sound in the
// audio, and a note on channel 10 must sound as a drum: closed hi-hat
// (42) is noise, where the same note on channel 1 is a low F#.
// (The amd64 VM only: run.sh leaves it out on arm64.)
func TestFluidSynth(t *testing.T) {
	c := cables(t)
	const wav = "/tmp/fluidsynth.wav"
	os.Remove(wav)
	shell, stdin := io.Pipe() // FluidSynth's shell: "quit" ends it and finishes the file
	// -a file: audio to a WAV file, paced in real time; -m alsa_seq: a
	// sequencer port; no reverb or chorus, whose tails blur the onsets.
	synth := startInput(t, shell, "fluidsynth", "-a", "file", "-o", "audio.file.name="+wav, "-m", "alsa_seq",
		"-r", "22050", "-g", "0.8", "-o", "synth.reverb.active=0", "-o", "synth.chorus.active=0",
		"-o", "midi.autoconnect=0", "gm.sf2")
	t.Cleanup(func() { stdin.Close() })
	waitClient(t, "FLUID Synth")

	const metrics = "127.0.0.1:9464"
	pi := start(t, "jambridge", "run", "--config", "raspberry-pi.yaml", "--listen", "127.0.0.1:3011",
		"--metrics-listen", metrics)
	pi.expect(t, 0, "playing remote events on output", "FLUID Synth")
	pi.expect(t, 0, "BAND-ROOM")
	band := start(t, "jambridge", "run", "--relay", "http://127.0.0.1:3011", "--room", "BAND-ROOM",
		"--name", "bandmate", "--in", c[1].port)
	band.expect(t, 0, "joined session", "BAND-ROOM")
	band.expect(t, 0, "listening to MIDI input", c[1].port)

	// Each step: the bytes the bandmate plays, then the events the Pi has
	// played on FluidSynth by then (a piano note is two, a drum hit one:
	// its note-off is the Pi's drum gate), then time for the sound.
	steps := []struct {
		midi   string
		played int
	}{
		{"90 3C 64", 1}, {"80 3C 00", 2}, // C4
		{"90 40 64", 3}, {"80 40 00", 4}, // E4
		{"90 43 64", 5}, {"80 43 00", 6}, // G4
		{"99 2A 70", 7},                  // channel 10: closed hi-hat
		{"90 2A 64", 8}, {"80 2A 00", 9}, // channel 1: F#2, the same note number
	}
	for _, s := range steps {
		send(t, c[1].raw(), s.midi)
		waitPlayed(t, metrics, s.played)
		time.Sleep(350 * time.Millisecond) // lets each sound stand apart in the audio
	}
	time.Sleep(time.Second) // the last note's sound, rendered before the end of the file
	fmt.Fprintln(stdin, "quit")
	stdin.Close() // and the end of its input: exec's copy to the program ends, so Wait can return
	select {
	case <-synth.done:
	case <-time.After(patience):
		t.Fatalf("fluidsynth did not quit within %v", patience)
	}

	checkAudio(t, wav)
}

// checkAudio finds the five notes in the audio and tells the drum from
// the piano note of the same number.
func checkAudio(t *testing.T, wav string) {
	t.Helper()
	b, err := os.ReadFile(wav)
	if err != nil {
		t.Fatalf("fluidsynth wrote no audio: %v", err)
	}
	a, err := readWAV(b)
	if err != nil {
		t.Fatal(err)
	}
	on := a.onsets()
	t.Logf("%s: %.1f s at %d Hz, onsets at %.2f s", wav, float64(len(a.samples))/float64(a.rate), a.rate, on)
	if len(on) != 5 {
		t.Fatalf("%d onsets in the audio at %.2f s, want 5: C4, E4, G4, the hi-hat and F#2", len(on), on)
	}
	hat, low := a.zeroCrossings(on[3], 0.05), a.zeroCrossings(on[4], 0.05)
	t.Logf("zero crossings in the first 50 ms: note 42 on channel 10 %.0f/s, on channel 1 %.0f/s", hat, low)
	if hat < 3*low {
		t.Errorf("note 42 on channel 10 (%.0f zero crossings/s) does not sound as a hi-hat beside the F#2 on channel 1 (%.0f/s)", hat, low)
	}
}

// waitPlayed waits until jambridge's /metrics on addr counts at least n
// remote events played on its outputs.
func waitPlayed(t *testing.T, addr string, n int) {
	t.Helper()
	deadline := time.Now().Add(patience)
	got := -1
	for time.Now().Before(deadline) {
		if got = played(addr); got >= n {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("jambridge played %d remote events within %v, want %d", got, patience, n)
}

var playedLine = regexp.MustCompile(`^jambridge_events_played_total (\d+)`)

// played is jambridge_events_played_total, or -1 when it cannot be read.
func played(addr string) int {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if m := playedLine.FindStringSubmatch(sc.Text()); m != nil {
			n, _ := strconv.Atoi(m[1])
			return n
		}
	}
	return -1
}

// waitClient waits for a sequencer client whose name starts with name.
func waitClient(t *testing.T, name string) {
	t.Helper()
	deadline := time.Now().Add(patience)
	for {
		for _, p := range aconnectList(t) {
			if len(p.clientName) >= len(name) && p.clientName[:len(name)] == name {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no sequencer client %q within %v:\n%s", name, patience, seqState())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
