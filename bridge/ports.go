package bridge

import (
	"context"
	"errors"

	"gitlab.com/gomidi/midi/v2/drivers"
)

// Lister lists the MIDI ports of the system. A gomidi drivers.Driver
// (rtmididrv, testdrv) is one; tests use fakes. Each call may be costly
// (rtmididrv opens an ALSA client), so the bridge calls it on a timer.
type Lister interface {
	Ins() ([]drivers.In, error)
	Outs() ([]drivers.Out, error)
}

// HotplugNotifier is a Lister that can tell when a device may have been
// plugged in or out, which rtmidi cannot (on Linux, cmd/jambridge watches
// the ALSA device nodes in /dev/snd). The bridge then looks at once
// instead of at its next Rescan tick; the tick stays, for ports that come
// without a device node (a soft synth's).
type HotplugNotifier interface {
	// Hotplug returns a channel that receives after each change, until
	// ctx ends; nil when changes cannot be watched.
	Hotplug(ctx context.Context) <-chan struct{}
}

// VirtualOpener is a Lister that can also create virtual ports other
// programs connect to (rtmididrv on ALSA and CoreMIDI).
type VirtualOpener interface {
	OpenVirtualIn(name string) (drivers.In, error)
	OpenVirtualOut(name string) (drivers.Out, error)
}

// Sender delivers the bridge's events to the session. Broadcast must not
// block; while the relay is unreachable it returns an error and the event
// is dropped (a late note is worth nothing in live music).
type Sender interface {
	Broadcast(eventName string, payload []byte) error
}

// HoldSender is a Sender that can keep releases apart from other events
// (relay.Session is one). The bridge uses BroadcastHold, when its Sender
// has it, for the events that hold or release something: key names what
// (a channel's note, a channel's pedal); release false marks an event
// that starts holding key (a note-on, a pedal down), which may be dropped
// like any event when the connection backs up; release true marks the
// event that ends it, which must never be dropped nor block, and is
// skipped only when the event that started key never left. Like
// Broadcast, it returns an error for an event dropped at once.
type HoldSender interface {
	Sender
	BroadcastHold(eventName string, payload []byte, key string, release bool) error
}

// SendDropper is a Sender that counts what its send queue did instead of
// sending (relay.Session is one): events dropped oldest-first on
// overflow, releases merged into a later one of the same key, releases
// of what never left. Stats and the Collector add them to the bridge's.
type SendDropper interface {
	SendDrops() (overflow, coalesced, unsounded uint64)
}

// ErrNoVirtualPorts is returned when virtual ports are asked of a MIDI
// system that cannot make them.
var ErrNoVirtualPorts = errors.New("this MIDI system cannot create virtual ports")
