package rtmidiport

import (
	"context"
	"path/filepath"
	"runtime"

	"github.com/fsnotify/fsnotify"
)

// devDir is where the kernel (devtmpfs, then udev) makes a sound card's
// device nodes, under snd/, as the card comes and goes.
const devDir = "/dev"

// Hotplug implements bridge.HotplugNotifier: rtmidi cannot say when a
// device is plugged in or out, but the card's nodes in /dev/snd appear
// and vanish with it, so the bridge looks at once instead of at its next
// rescan. Off Linux it returns nil and the rescan timer does it all.
func (m *System) Hotplug(ctx context.Context) <-chan struct{} {
	if runtime.GOOS != "linux" {
		return nil // no /dev/snd; and kqueue would open every node in /dev
	}
	return watchSoundNodes(ctx, devDir)
}

// watchSoundNodes sends on the returned channel whenever something is
// made or removed in dev/snd, or dev/snd itself comes or goes (the sound
// modules loading). The channel is closed when ctx ends or the watch
// fails; nil when it cannot start.
func watchSoundNodes(ctx context.Context, dev string) <-chan struct{} {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return nil
	}
	snd := filepath.Join(dev, "snd")
	if err := w.Add(dev); err != nil {
		w.Close()
		return nil
	}
	_ = w.Add(snd) // absent until the first sound module loads
	hints := make(chan struct{}, 1)
	hint := func() {
		select {
		case hints <- struct{}{}:
		default: // one pending hint is as good as several
		}
	}
	go func() {
		defer close(hints)
		defer w.Close()
		for {
			select {
			case ev, ok := <-w.Events:
				if !ok {
					return
				}
				isHint, watch := classify(ev, snd)
				if watch {
					_ = w.Add(snd)
				}
				if isHint {
					hint()
				}
			case _, ok := <-w.Errors:
				if !ok {
					return
				}
				// Events may have been lost (a queue overflow): make
				// sure snd/ is watched, and look.
				_ = w.Add(snd)
				hint()
			case <-ctx.Done():
				return
			}
		}
	}()
	return hints
}

// classify says whether ev, an event in dev or in its snd directory,
// hints at a device plugged in or out, and whether snd itself was just
// made (and must be watched from now on). Only nodes made, removed or
// renamed in snd, or snd itself, count: MIDI traffic on a node (writes)
// and the rest of /dev are no hotplug.
func classify(ev fsnotify.Event, snd string) (hint, watchSnd bool) {
	if !ev.Has(fsnotify.Create) && !ev.Has(fsnotify.Remove) && !ev.Has(fsnotify.Rename) {
		return false, false
	}
	watchSnd = ev.Name == snd && ev.Has(fsnotify.Create)
	return ev.Name == snd || filepath.Dir(ev.Name) == snd, watchSnd
}
