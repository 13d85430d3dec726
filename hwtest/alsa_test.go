//go:build hwtest

package hwtest

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// soundModules are what the scenarios load: the sequencer's Midi Through,
// four virmidi ports where the kernel has them, the sequencer side of raw
// MIDI cards, and the USB host and gadget sides of the emulated USB MIDI
// keyboard (and, without virmidi, of the USB cables: one device
// controller each).
func soundModules() [][]string {
	mods := [][]string{{"snd-seq-dummy"}}
	udcs := 1
	if haveVirmidi() {
		mods = append(mods, []string{"snd-virmidi"})
	} else {
		udcs += nCables
	}
	return append(mods, []string{"snd-seq-midi"}, []string{"dummy_hcd", fmt.Sprintf("num=%d", udcs)},
		[]string{"libcomposite"}, []string{"usb_f_midi"}, []string{"snd-usb-audio"})
}

var loadOnce sync.Once

// loadSound loads the modules once, and mounts configfs for the gadget.
func loadSound(t *testing.T) {
	t.Helper()
	loadOnce.Do(func() {
		for _, m := range soundModules() {
			run(t, "modprobe", m...)
		}
		if err := os.MkdirAll(configfs, 0o755); err == nil {
			run(t, "mount", "-t", "configfs", "configfs", "/sys/kernel/config")
		}
	})
	if _, err := os.Stat("/dev/snd/seq"); err != nil {
		t.Fatalf("the sound modules are loaded but there is no sequencer: %v", err)
	}
}

// card returns the number of the ALSA card whose id (the name in square
// brackets of /proc/asound/cards) is id, or -1.
func card(id string) int {
	b, _ := os.ReadFile("/proc/asound/cards")
	for _, m := range cardLine.FindAllStringSubmatch(string(b), -1) {
		if m[2] == id {
			n, _ := strconv.Atoi(m[1])
			return n
		}
	}
	return -1
}

var cardLine = regexp.MustCompile(`(?m)^\s*(\d+) \[(\S+)\s*\]`)

// waitCard waits for a card to come (want true) or go.
func waitCard(t *testing.T, id string, want bool) int {
	t.Helper()
	deadline := time.Now().Add(patience)
	for {
		n := card(id)
		if (n >= 0) == want {
			return n
		}
		if time.Now().After(deadline) {
			t.Fatalf("ALSA card %s: present=%v, want %v after %v", id, n >= 0, want, patience)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// send plays MIDI bytes ("90 3C 64") into a raw MIDI device, as a
// keyboard would.
func send(t *testing.T, raw, bytes string) {
	t.Helper()
	run(t, "amidi", "-p", raw, "-S", bytes)
}

// dump reads a raw MIDI device (/dev/snd/midiCnDm, what amidi -d reads):
// what reaches it is what a synth on that port would hear.
type dump struct {
	name string
	mu   sync.Mutex
	buf  []byte
}

func startDump(t *testing.T, card, device int) *dump {
	t.Helper()
	d := &dump{name: fmt.Sprintf("/dev/snd/midiC%dD%d", card, device)}
	f, err := os.Open(d.name)
	if err != nil {
		t.Fatalf("raw MIDI: %v", err)
	}
	done := make(chan struct{})
	t.Cleanup(func() {
		f.Close() // ends the read below: the device is pollable, so Go's poller wakes it
		select {
		case <-done:
		case <-time.After(patience):
			t.Errorf("%s: the reader did not stop after the device was closed", d.name)
		}
	})
	go func() {
		defer close(done)
		b := make([]byte, 256)
		for {
			n, err := f.Read(b)
			d.mu.Lock()
			d.buf = append(d.buf, b[:n]...)
			d.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	return d
}

// messages decodes what the device received so far into channel
// messages ("90 3C 64"), undoing running status.
func (d *dump) messages() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []string
	var status byte
	var data []byte
	for _, b := range d.buf {
		switch {
		case b >= 0xF8: // real-time bytes may come anywhere
		case b&0x80 != 0:
			status, data = b, nil
		case status >= 0x80 && status < 0xF0:
			data = append(data, b)
			if status&0xE0 == 0xC0 && len(data) == 1 || len(data) == 2 { // program change and channel pressure have one data byte
				out = append(out, fmt.Sprintf("%02X %s", status, hexes(data)))
				data = nil
			}
		}
	}
	return out
}

func hexes(b []byte) string {
	s := make([]string, len(b))
	for i, c := range b {
		s[i] = fmt.Sprintf("%02X", c)
	}
	return strings.Join(s, " ")
}

// expect waits until the device has received msg ("99 24 70") after the
// first skip messages; it returns the count so far, for the next call.
func (d *dump) expect(t *testing.T, skip int, msg string) int {
	t.Helper()
	deadline := time.Now().Add(patience)
	for {
		got := d.messages()
		for i := skip; i < len(got); i++ {
			if got[i] == msg {
				return i + 1
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: did not receive %s within %v; received %q", d.name, msg, patience, got[min(skip, len(got)):])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// seqPort is one port as `aconnect -l` lists it.
type seqPort struct {
	client     int
	clientName string
	port       int
	name       string
}

func (p seqPort) addr() string { return fmt.Sprintf("%d:%d", p.client, p.port) }

// aconnectList parses `aconnect -l`.
func aconnectList(t *testing.T) []seqPort {
	t.Helper()
	var ports []seqPort
	var client int
	var clientName string
	for _, line := range strings.Split(run(t, "aconnect", "-l"), "\n") {
		if m := clientLine.FindStringSubmatch(line); m != nil {
			client, _ = strconv.Atoi(m[1])
			clientName = m[2]
		} else if m := portLine.FindStringSubmatch(line); m != nil {
			n, _ := strconv.Atoi(m[1])
			ports = append(ports, seqPort{client: client, clientName: clientName, port: n, name: strings.TrimSpace(m[2])})
		}
	}
	return ports
}

var (
	clientLine = regexp.MustCompile(`^client (\d+): '([^']*)'`)
	portLine   = regexp.MustCompile(`^\s+(\d+) '([^']*)'`)
)

// findPort returns the port of that name as other ALSA clients see it.
func findPort(t *testing.T, name string) seqPort {
	t.Helper()
	ports := aconnectList(t)
	for _, p := range ports {
		if p.name == name {
			return p
		}
	}
	t.Fatalf("aconnect -l lists no port %q: %+v", name, ports)
	return seqPort{}
}

// seqState is the sequencer's clients, ports and subscriptions, with each
// client's event pools, as the kernel reports them: what a failure
// message shows of who was connected to whom.
func seqState() string {
	b, err := os.ReadFile("/proc/asound/seq/clients")
	if err != nil {
		return fmt.Sprintf("/proc/asound/seq/clients: %v", err)
	}
	return "/proc/asound/seq/clients:\n" + string(b)
}
