// Package bridge is the core of the jambridge daemon: it reads notes from
// local MIDI inputs (USB keyboards, drum pads, a DAW's virtual port), turns
// them into session events with package mapping and hands them to a
// Sender; and it plays the other participants' events, handed to it
// through Remote, Left and ReleaseAll, on a local synth output.
//
// It talks to MIDI through small interfaces (Lister, VirtualOpener and
// gomidi's drivers.In / drivers.Out), so tests use gomidi's testdrv or
// fakes, and only cmd/jambridge imports the cgo rtmidi driver. It talks to
// the session only through Sender and those three methods: cmd/jambridge
// wires them to a relay.Session.
//
// # What a musician can rely on
//
//   - No stuck notes. The player keeps a held-note table per remote
//     participant and releases their notes (note-offs, the sustain pedal,
//     then All Notes Off on channels nobody else is playing) when they
//     leave, when the relay connection drops (ReleaseAll) and on shutdown.
//     A key held by two participants sounds until the last lets go. The
//     input side releases too: a keyboard unplugged mid-chord sends the
//     releases of the notes it held.
//   - No feedback loops. Our own virtual ports and ALSA's "Midi Through"
//     are never read (unless a rule names them), and an input message
//     identical to one played out within EchoWindow is dropped as an echo.
//   - Hotplug. Ports are listed every Rescan (listing opens an ALSA
//     client, so it is a timer, not a loop) and matched by name; new ones
//     open, vanished ones close with their notes released.
//
// # Concurrency
//
// Three goroutines, each owning its state, all stopped and waited for by
// Run:
//
//   - the scanner lists ports, opens them and hands each to its owner;
//   - the input loop owns the open inputs and their held-note tables
//     (mapping.Input). MIDI callbacks only copy the message into a bounded
//     channel (1024; when full the message is dropped and counted) and
//     never block the driver;
//   - the player owns the output ports: every Send goes through it,
//     because rtmidi ports are not safe for concurrent use. Its command
//     queue is bounded (1024): a remote event that finds it full is dropped
//     and counted, while releases (Left, ReleaseAll) wait for room, so they
//     are never lost.
//
// The echo guard is shared by the player (writes) and the input loop
// (reads) under its own mutex.
//
// Shutdown follows one order: stop listening to MIDI, release every held
// note (local ones to the session, remote ones on the outputs), close the
// ports. The caller closes the relay connection after Run returns.
package bridge
