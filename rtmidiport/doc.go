// Package rtmidiport adapts the machine's MIDI system, through rtmidi
// (ALSA on Linux, CoreMIDI on macOS), to the bridge's port interfaces:
// listing hardware ports, creating the virtual ports a DAW connects to,
// and watching /dev/snd so that a device plugged in or out is noticed at
// once. It is the only package that imports rtmididrv (cgo, libasound);
// bridge, relay and mapping build and test without it, and cmd/jambridge
// wires a System into a bridge.Bridge.
//
// Failures of the MIDI system come as one sentence saying what to do:
// ErrNoMIDISystem (no ALSA sequencer), ErrPermission (not in the audio
// group), and rtmidi's own errors with their garbled C text cleaned.
//
// rtmidi opens a port by its position in the list; the ports the System
// lists check after opening that the position still holds their name, so
// a device plugged in between a scan and an Open never gets another
// device's role (portcheck.go).
//
// # Concurrency
//
// A System holds no state of its own beyond the driver; its methods may
// be called from any goroutine, but the ports they return are not safe
// for concurrent use (rtmidi's sends are not): the bridge's player owns
// every output port. Hotplug starts one goroutine that owns the fsnotify
// watcher; it ends, closing the channel, when the context given to
// Hotplug ends.
package rtmidiport
