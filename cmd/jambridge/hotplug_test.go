package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
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
	noHint := func(what string) {
		t.Helper()
		select {
		case <-hints:
			t.Fatalf("%s: a hint", what)
		case <-time.After(100 * time.Millisecond):
		}
	}

	if err := os.WriteFile(filepath.Join(dev, "tty9"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	noHint("a node outside snd/")
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
