package rtmidiport

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"
)

// A card's nodes appearing in (a stand-in for) /dev/snd, and /dev/snd
// itself appearing when the first sound module loads, each give a hint.
func TestWatchSoundNodesHintsOnCardNodes(t *testing.T) {
	dev := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	hints := watchSoundNodes(ctx, dev)
	if hints == nil {
		t.Fatal("cannot watch a directory")
	}
	expectHint := func(what string) {
		t.Helper()
		select {
		case _, ok := <-hints:
			if !ok {
				t.Fatalf("%s: the watch ended", what)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: no hint", what)
		}
	}

	// A node outside snd/ gives no hint: TestClassify proves it without
	// waiting for something not to happen.
	if err := os.WriteFile(filepath.Join(dev, "tty9"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	snd := filepath.Join(dev, "snd")
	if err := os.Mkdir(snd, 0o755); err != nil {
		t.Fatal(err)
	}
	expectHint("snd/ made (the sequencer loaded)") // sent once snd/ is watched too
	node := filepath.Join(snd, "midiC2D0")
	if err := os.WriteFile(node, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	expectHint("a card's node made (plugged in)")
	if err := os.Remove(node); err != nil {
		t.Fatal(err)
	}
	expectHint("a card's node removed (unplugged)")

	cancel()
	select {
	case _, ok := <-hints:
		if ok {
			for range hints {
			}
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the hint channel was not closed when the context ended")
	}
}

// Which events in /dev are hotplug hints: the decision the watch makes for
// each event, checked without waiting for a hint not to come.
func TestClassify(t *testing.T) {
	const snd = "/dev/snd"
	for _, tc := range []struct {
		name        string
		ev          fsnotify.Event
		hint, watch bool
	}{
		{"a node made outside snd/", fsnotify.Event{Name: "/dev/tty9", Op: fsnotify.Create}, false, false},
		{"a node removed outside snd/", fsnotify.Event{Name: "/dev/ttyUSB0", Op: fsnotify.Remove}, false, false},
		{"snd/ made (the sequencer loaded)", fsnotify.Event{Name: snd, Op: fsnotify.Create}, true, true},
		{"snd/ removed", fsnotify.Event{Name: snd, Op: fsnotify.Remove}, true, false},
		{"a card's node made (plugged in)", fsnotify.Event{Name: snd + "/midiC2D0", Op: fsnotify.Create}, true, false},
		{"a card's node removed (unplugged)", fsnotify.Event{Name: snd + "/midiC2D0", Op: fsnotify.Remove}, true, false},
		{"a card's node renamed (udev)", fsnotify.Event{Name: snd + "/controlC2", Op: fsnotify.Rename}, true, false},
		{"MIDI traffic on a node", fsnotify.Event{Name: snd + "/midiC2D0", Op: fsnotify.Write}, false, false},
		{"a node's mode changed", fsnotify.Event{Name: snd + "/seq", Op: fsnotify.Chmod}, false, false},
		{"a node deeper down", fsnotify.Event{Name: snd + "/by-id/usb-x", Op: fsnotify.Create}, false, false},
	} {
		hint, watch := classify(tc.ev, snd)
		if hint != tc.hint || watch != tc.watch {
			t.Errorf("%s: hint %v, watch snd %v; want %v, %v", tc.name, hint, watch, tc.hint, tc.watch)
		}
	}
}
