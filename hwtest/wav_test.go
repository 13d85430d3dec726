package hwtest

// The audio side of the FluidSynth scenario (fluidsynth_test.go, in the
// VM): a WAV reader and an onset finder. They carry no build tag, so
// their own tests and fuzz seeds run with `go test ./...` on any machine.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"testing"
)

// audio is a mono signal: samples in [-1, 1] at rate per second.
type audio struct {
	rate    int
	samples []float64
}

// readWAV decodes a PCM WAV file of 16-bit samples (what FluidSynth's
// file driver writes), mixing its channels to mono. A data chunk whose
// size says 0 or more than is there (a writer killed before it finished
// the header) is read to the end of the file.
func readWAV(b []byte) (audio, error) {
	if len(b) < 12 || string(b[0:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return audio{}, errors.New("read wav: not a RIFF WAVE file")
	}
	var channels, bits, format int
	var rate int
	for p := 12; p+8 <= len(b); {
		id, size := string(b[p:p+4]), int(binary.LittleEndian.Uint32(b[p+4:p+8]))
		body := b[p+8:]
		switch id {
		case "fmt ":
			if size < 16 || len(body) < 16 {
				return audio{}, errors.New("read wav: fmt chunk shorter than 16 bytes")
			}
			format = int(binary.LittleEndian.Uint16(body[0:2]))
			channels = int(binary.LittleEndian.Uint16(body[2:4]))
			rate = int(binary.LittleEndian.Uint32(body[4:8]))
			bits = int(binary.LittleEndian.Uint16(body[14:16]))
		case "data":
			if format != 1 && format != 0xFFFE || bits != 16 || channels < 1 || channels > 8 || rate < 1 {
				return audio{}, fmt.Errorf("read wav: format %d, %d bits, %d channels, %d Hz: want 16-bit PCM", format, bits, channels, rate)
			}
			if size == 0 || size > len(body) {
				size = len(body)
			}
			return audio{rate: rate, samples: mono(body[:size], channels)}, nil
		}
		if size > len(body) {
			break
		}
		p += 8 + size + size%2 // chunks are padded to an even size
	}
	return audio{}, errors.New("read wav: no data chunk")
}

// mono averages the channels of 16-bit little-endian frames.
func mono(data []byte, channels int) []float64 {
	frame := 2 * channels
	out := make([]float64, len(data)/frame)
	for i := range out {
		var sum float64
		for c := range channels {
			sum += float64(int16(binary.LittleEndian.Uint16(data[i*frame+2*c:])))
		}
		out[i] = sum / float64(channels) / 32768
	}
	return out
}

// Onset finding: the signal's energy in windows of window; an onset is a
// window at least rise times as loud as the one lookBack windows before
// it and louder than floor, at least gap after the previous onset.
const (
	windowSec = 0.010
	lookBack  = 5     // 50 ms: an attack is steeper than that
	rise      = 2.0   // 6 dB up
	floor     = 0.005 // RMS: about -46 dBFS, far above rendering noise
	gapSec    = 0.150
)

// envelope is the RMS of each window.
func (a audio) envelope() []float64 {
	n := max(1, int(windowSec*float64(a.rate)))
	env := make([]float64, len(a.samples)/n)
	for i := range env {
		var sum float64
		for _, s := range a.samples[i*n : (i+1)*n] {
			sum += s * s
		}
		env[i] = math.Sqrt(sum / float64(n))
	}
	return env
}

// onsets returns the start of each sound, in seconds.
func (a audio) onsets() []float64 {
	env := a.envelope()
	gap := int(gapSec / windowSec)
	var out []float64
	last := -gap
	for i := range env {
		before := 0.0
		if i >= lookBack {
			before = env[i-lookBack]
		}
		if env[i] > floor && env[i] >= rise*before && i-last >= gap {
			out = append(out, float64(i)*windowSec)
			last = i
		}
	}
	return out
}

// zeroCrossings is how often per second the signal changes sign in the
// dur seconds from at: a few hundred for a low piano note, thousands for
// a hi-hat's noise.
func (a audio) zeroCrossings(at, dur float64) float64 {
	from, to := int(at*float64(a.rate)), int((at+dur)*float64(a.rate))
	from, to = max(0, min(from, len(a.samples))), max(0, min(to, len(a.samples)))
	n := 0
	for i := from + 1; i < to; i++ {
		if (a.samples[i-1] < 0) != (a.samples[i] < 0) {
			n++
		}
	}
	return float64(n) / dur
}

// wavBytes encodes 16-bit PCM WAV, for the tests.
func wavBytes(rate, channels int, frames [][]float64) []byte {
	data := make([]byte, 0, len(frames)*2*channels)
	for _, f := range frames {
		for _, s := range f {
			data = binary.LittleEndian.AppendUint16(data, uint16(int16(s*32767)))
		}
	}
	b := []byte("RIFF")
	b = binary.LittleEndian.AppendUint32(b, uint32(36+len(data)))
	b = append(b, "WAVEfmt "...)
	b = binary.LittleEndian.AppendUint32(b, 16)
	b = binary.LittleEndian.AppendUint16(b, 1)
	b = binary.LittleEndian.AppendUint16(b, uint16(channels))
	b = binary.LittleEndian.AppendUint32(b, uint32(rate))
	b = binary.LittleEndian.AppendUint32(b, uint32(rate*2*channels))
	b = binary.LittleEndian.AppendUint16(b, uint16(2*channels))
	b = binary.LittleEndian.AppendUint16(b, 16)
	b = append(b, "data"...)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(data)))
	return append(b, data...)
}

// tone is a decaying sine (a plucked note) or, with noise, a decaying
// pseudo-random signal (a hi-hat), of dur seconds at rate.
func tone(rate int, hz, dur float64, noise bool) []float64 {
	out := make([]float64, int(dur*float64(rate)))
	x := uint32(1)
	for i := range out {
		t := float64(i) / float64(rate)
		v := math.Sin(2 * math.Pi * hz * t)
		if noise {
			x ^= x << 13
			x ^= x >> 17
			x ^= x << 5
			v = float64(x)/float64(math.MaxUint32)*2 - 1
		}
		out[i] = 0.5 * v * math.Exp(-4*t)
	}
	return out
}

// song is silence, then each part at its time (seconds), in stereo.
func song(rate int, length float64, parts map[float64][]float64) [][]float64 {
	frames := make([][]float64, int(length*float64(rate)))
	for i := range frames {
		frames[i] = []float64{0, 0}
	}
	for at, p := range parts {
		for i, s := range p {
			if j := int(at*float64(rate)) + i; j < len(frames) {
				frames[j][0] += s
				frames[j][1] += s
			}
		}
	}
	return frames
}

func TestOnsets(t *testing.T) {
	const rate = 22050
	// Three notes, each starting over the tail of the one before, and a hi-hat.
	at := []float64{0.25, 0.85, 1.45, 2.05}
	b := wavBytes(rate, 2, song(rate, 3, map[float64][]float64{
		at[0]: tone(rate, 261.6, 1, false), at[1]: tone(rate, 329.6, 1, false),
		at[2]: tone(rate, 92.5, 1, false), at[3]: tone(rate, 0, 0.3, true),
	}))
	a, err := readWAV(b)
	if err != nil {
		t.Fatal(err)
	}
	got := a.onsets()
	if len(got) != len(at) {
		t.Fatalf("onsets %v, want %d near %v", got, len(at), at)
	}
	for i := range at {
		if math.Abs(got[i]-at[i]) > 0.02 {
			t.Errorf("onset %d at %.3f s, want %.3f s within 20 ms", i, got[i], at[i])
		}
	}
	low, hat := a.zeroCrossings(got[2], 0.05), a.zeroCrossings(got[3], 0.05)
	if hat < 5*low {
		t.Errorf("zero crossings: hi-hat %.0f/s, 92.5 Hz tone %.0f/s: want the noise far above", hat, low)
	}
}

func TestReadWAVUnfinishedHeader(t *testing.T) {
	b := wavBytes(8000, 2, song(8000, 0.5, map[float64][]float64{0.1: tone(8000, 440, 0.2, false)}))
	for _, size := range []uint32{0, math.MaxUint32} {
		binary.LittleEndian.PutUint32(b[40:44], size) // the data chunk's size, as a killed writer leaves it
		a, err := readWAV(b)
		if err != nil {
			t.Fatal(err)
		}
		if len(a.samples) != 4000 {
			t.Errorf("data size %d: %d samples, want all 4000 to the end of the file", size, len(a.samples))
		}
	}
}

func TestReadWAVErrors(t *testing.T) {
	good := wavBytes(8000, 1, song(8000, 0.01, nil))
	float := append([]byte{}, good...)
	binary.LittleEndian.PutUint16(float[20:22], 3)
	for name, b := range map[string][]byte{
		"empty": nil, "not riff": []byte("RIFX....WAVE"), "no data": good[:36],
		"float samples": float, "short fmt": append([]byte("RIFF\x00\x00\x00\x00WAVEfmt \x04\x00\x00\x00"), 1, 0, 1, 0),
	} {
		if _, err := readWAV(b); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func FuzzReadWAV(f *testing.F) {
	f.Add(wavBytes(8000, 2, song(8000, 0.05, map[float64][]float64{0.01: tone(8000, 440, 0.02, false)})))
	f.Add(wavBytes(44100, 1, nil))
	f.Add([]byte("RIFF\x00\x00\x00\x00WAVEdata\xff\xff\xff\xff"))
	f.Add([]byte("RIFF\x00\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x09\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := readWAV(b)
		if err != nil {
			return
		}
		for _, s := range a.samples {
			if s < -1 || s > 1 {
				t.Fatalf("sample %v outside [-1, 1]", s)
			}
		}
		a.onsets()
		a.zeroCrossings(0, 0.01)
	})
}
