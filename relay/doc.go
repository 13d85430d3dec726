// Package relay is the wire of jambridge: the Engine.IO 4 / Socket.IO 5
// codec, the jam session Server, and the Client a bridge uses to reach it.
// It knows nothing about MIDI.
//
// # Server
//
// Server is an http.Handler. Mount it at /socket.io/ and it speaks the
// protocol of shared/PROTOCOL.md to browser pages using socket.io-client
// v4 (long-polling with the upgrade, or websocket only) and to bridges.
// People create or join sessions by room code; every event:broadcast one
// member sends is relayed at once to all other members, never back to the
// sender, with the relay's senderId and serverTime added and the payload
// passed through untouched. clock:sync is answered through an
// acknowledgement with the relay's clock.
//
// Bad input gets an `error {message, code}` sent to the offender only; a
// packet that breaks the protocol closes only its own connection. Limits
// (Config) cover packet size, payload size, event names, a per-connection
// token bucket and members per session.
//
// # Client and Session
//
// Client is one Socket.IO connection over websocket: Emit, EmitHold, Call
// (with an acknowledgement), and OnEvent for what arrives. Session is
// what a bridge keeps on top of it for hours: it joins a session by code
// (creating it when missing, or a new one), reconnects by itself with
// capped, jittered exponential backoff, rejoins the same code, and reports
// presence (a Disconnected after every Connected, so no remote note
// outlives the link). Broadcast numbers events (seq, from 1 per join) and
// drops them, saying so once, while the relay is unreachable: a late note
// is worth nothing in live music. BroadcastHold marks an event that holds
// or releases a key (a note, a pedal): its release is never dropped.
//
// The client's files: client.go (dial, handshake, the reader),
// client_send.go (Emit, the send queue, the writer), client_session.go
// (Session and Broadcast), client_rejoin.go (Run: join, stay, reconnect,
// leave) and client_link.go (one connection's membership events).
//
// # Concurrency
//
// Each connection has one reader (the websocket reader, or one
// long-polling POST at a time, serialised by socket.inMu) and one writer
// (the websocket writer goroutine, or the pending long-poll GET). Writers
// drain a bounded send queue that never blocks its producers: on overflow
// the oldest relayed event is dropped and counted, and a connection whose
// queue stays full and undrained for WriteTimeout is closed, so a slow
// member never delays the others. Each relayed event is encoded once and
// the same bytes are queued to every receiver.
//
// Sessions are owned by a hub: hub.mu guards the map of rooms and is taken
// for membership changes; each room's RWMutex guards its members and is
// read-locked to relay, so busy sessions do not contend with each other.
// Presence packets are queued under the room lock, so a receiver always
// sees a member's last event before its session:user-left.
//
// Server.Close closes every connection (a websocket close frame, or a
// close packet to a pending long-poll) and waits for their goroutines.
//
// A Client has one reader goroutine, which decodes packets and runs
// OnEvent (it must not block), and one writer goroutine, which owns every
// write: a pong owed first (pongs have a path of their own, a channel of
// capacity 1, so they are never dropped), then the send queue in order.
// Emit, EmitHold and Call never block on the connection: the send queue
// (512 packets, package internal/releasequeue) drops its oldest packet
// and counts it when full, while releases (EmitHold with release set)
// wait apart, one per key, never dropped, and are skipped only when what
// they end never left. Close flushes the queue, sends the close frame and
// hangs up when the reader is done or clientCloseWait has passed, then
// waits for both goroutines. A Session's Run owns its connections and
// their clock-sync goroutine; its mu guards the membership and is never
// held across a network write.
package relay
