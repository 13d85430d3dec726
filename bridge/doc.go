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
//     releases of the notes it held. Releases are never dropped nor made
//     to wait, even when every queue is full (see Concurrency), and a
//     note that never sounded is never released.
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
//   - the scanner lists ports, opens them and hands each to its owner
//     (over unbuffered channels: it may wait, it is nobody's callback);
//   - the input loop owns the open inputs and their held-note tables
//     (mapping.Input). MIDI callbacks only copy the message into the
//     input queue and never block the driver;
//   - the player owns the output ports: every Send goes through it,
//     because rtmidi ports are not safe for concurrent use. Remote, Left
//     and ReleaseAll run on the relay client's reader: they only put the
//     event into the remote queue and never block, so a stuck output port
//     cannot stall the reader, its pongs, or the connection.
//
// Both queues, and the relay client's send queue, follow one policy
// (package internal/releasequeue): ordinary events are held up to a
// bound (1024 here, 512 in the client) and, when it is reached, the
// oldest is dropped and counted by reason (input_overflow,
// player_overflow, send_overflow). Releases (a note-off or note-on of
// velocity 0, a pedal up, a participant leaving, release-all) are kept
// apart under the queue's mutex, one per key (port or participant,
// channel, note), so they are bounded by the keys that can be held and
// never dropped: a later release of the same key replaces a waiting one
// at the later position, so a release never overtakes the note-on it
// ends. The queue knows which note-ons it delivered; a release whose
// note-on was dropped is skipped (release_unsounded), so a note that
// never sounded is never released, and one that did always is. Drum
// gates and note durations end inside the player, on its own timer.
//
// The echo guard is shared by the player (writes) and the input loop
// (reads) under its own mutex.
//
// Shutdown follows one order: stop listening to MIDI, release every held
// note (local ones to the session, remote ones on the outputs), close the
// ports. The caller closes the relay connection after Run returns.
package bridge
