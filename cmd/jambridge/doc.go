// Command jambridge connects the MIDI gear you own to a jam session: it
// sends what you play on USB keyboards and drum pads to the session and
// plays the other musicians on your synth. It can host the session too.
//
// It only wires: flags, environment and the YAML config file become plain
// structs (settings, fileConfig); rtmidiport's System, a relay.Session and
// a bridge.Bridge are made from them and connected; when it hosts, the
// relay is served by cmd/internal/relayhost, as jamrelay serves it
// (over TLS with --tls-cert/--tls-key, our own connection trusting
// exactly that certificate). --ca trusts a private CA for an https relay;
// one that does not verify ends the command in one sentence (tls.go).
//
// # Concurrency
//
// Each command runs on main's goroutine until its context ends (SIGINT
// or SIGTERM). `run` starts the session's goroutine and the summary
// logger, and stops and waits for both after the bridge has stopped
// (releases first, then the session, then the hosted relay and the
// metrics server). `record` starts one goroutine that says when the clock
// is synchronised; it is stopped and waited for when the session ends.
// Relay callbacks (OnEvent, OnPresence) run on the session's reader
// goroutine and only hand events on: to the bridge's bounded queues, or
// to the Recorder, which has its own lock.
package main
