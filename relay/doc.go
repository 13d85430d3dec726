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
// (Config) cover packet size, payload size, event names, seq (an integer
// from 0 to 2^53, else bad_request), a per-connection token bucket,
// members per session, the time to the Socket.IO CONNECT
// (ConnectTimeout), and each connection's send queue, in packets and in
// bytes. Every relayed field is checked, so a relayed event is at most
// the payload limit plus a fixed envelope (maxRelayedPacket).
//
// Private sessions and access tokens (auth.go, secret.go, token.go,
// joinlimit.go): a session created with a secret admits only joins that
// give it (stored salted and hashed, compared in constant time, never
// logged); a missing or wrong one is forbidden, and the members hear
// nothing. Failed joins (an unknown code, a wrong secret, a taken code)
// are limited per client address (clientAddress): FailedJoins a minute,
// then rate_limited for whatever the address tries, which tells nothing
// about the code, until the minute since its first failure is over;
// only a valid return to a session a member came from that address to
// gets in meanwhile, so a member's reconnect is never slowed. With
// Config.AuthSecret every Socket.IO CONNECT must carry auth {token}, an
// HS256 JWT (SignToken, VerifyToken); a refused one gets a CONNECT_ERROR
// saying why and is closed refusedCloseAfter later. The token's room
// claim is the only session its holder may create or join, its name
// claim the participant's name.
//
// A public relay's defences (addrlimit.go, clientaddr.go, origin.go):
// each client address (clientAddress: the peer, or X-Forwarded-For's
// rightmost untrusted hop when the peer is in TrustedProxies; an IPv6
// address counts by its /64) holds at most MaxConnectionsPerIP sessions
// plus HTTP connections (ConnState counts those, for http.Server); a
// long-polling session that does not come back within HandshakeWindow
// is expired; pongs, noops and websocket ping frames have a token bucket
// of their own (controlRate), past which the connection is closed; a
// browser Origin is compared with PublicOrigins (or the address the
// connection came in on), never with the Host header, and an origin let
// in only by "*" gets no credentials. Refusals are counted by reason
// (Refused, jamrelay_refused_total) and logged once per address and
// minute.
//
// The Client verifies an https relay against ClientConfig.TLS (nil: the
// system's roots); one that does not verify is a *TLSError, which a
// Session's Run returns instead of retrying.
//
// # Cluster
//
// With Config.Cluster set (package relay/redisbroker implements it on
// Redis), several relays serve one set of sessions: a code is claimed in
// the cluster, a join is checked against the members limit across nodes
// and lists every node's members, each relayed event is also published
// once for the other nodes (under the room's read lock, so a member's
// leave follows its events), and what other nodes send arrives through
// ClusterPeer (cluster.go) and is written through each member's own
// connection writer, as local events are. Cluster.Create and Join are
// called with the joining socket's memberMu only, never hub.mu or a
// room's lock; a cluster out of reach leaves the session to the local
// members. Without a cluster, the hot path pays one nil check.
//
// A private session's key (its salt and salted hash, never the secret)
// is part of its claim (Cluster.Create, Entry.Key). Cluster.Join checks
// the offered secret (Entry.Proof hashes it with the stored salt) and,
// for an address over this node's failed-join limit, whether a member of
// the session came from it, in the same atomic step that adds the
// member: a refused join is written and announced nowhere. The local
// room a node makes for a session whose members are elsewhere gets the
// key Join returns, so a local join agrees. The failed-join limit itself
// is counted per node.
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
// Each connection has one reader: the websocket reader goroutine, or one
// long-polling POST at a time; inbound packets are handled under
// socket.inMu. Each connection has one owner of its writes, its
// connWriter (writer.go): the send queue, the frames, the tail of a
// cut-short write, the direct write, control frames and the close. While
// long-polling, the pending GET takes the queue; after the upgrade, the
// writer goroutine is the only one to block in a write, and it holds no
// lock while it does. It runs only while there is something to write (a
// backlog, a tail, a pong, a ping, the goodbye) and exits when drained:
// an idle member has its reader goroutine alone, parked a few frames
// deep (in the serving RawConn.Read, or awaitInput) so its stack
// shrinks, no write buffer and no send-queue ring; an inbound message is
// read into a pooled buffer for as long as it is handled (readMessage),
// and a reader parked inside RawConn.Read gives its read buffer back
// to a pool, so an idle member holds neither. Any
// goroutine may send: it writes at once with one non-blocking write when
// the connection is idle, or queues, never waiting on a slow member. A
// relayed event's writes to a session's idle members are made together
// (direct_batch.go): under each member's connWriter.mu the sender claims
// the connection and builds its frame, then writes every claimed frame
// holding no lock, in one io_uring submission on Linux
// (internal/rawsys.Ring, from a pool of a few; else send(2) each), and
// settles each claim under its mu. A claimed connection is not idle:
// what is sent meanwhile queues, no writer starts, and the claim counts
// as a writer for the goodbye; a frame the kernel took part or none of
// becomes the writer's tail, or the queue's first packet. The queue is bounded in packets and in bytes;
// on overflow the oldest relayed event is dropped and counted, except
// events that end a sound (endsASound: a note-off, a pedal up), which are
// kept like presence; a connection that had to drop while undrained for
// WriteTimeout is closed.
// Each relayed event is encoded once, in a reused buffer (relaybuf.go), for every
// receiver. On Linux a websocket's reads and its direct writes are raw
// system calls on the non-blocking socket (internal/rawsys), and so is a
// batch's io_uring submission (its sends say EAGAIN rather than wait):
// they never block, so the goroutine keeps its P and the scheduler is
// not told.
// A websocket's reader serves inside one RawConn.Read (serve_unix.go):
// its callback reads, hands every complete buffered message to the read
// loop's body, and parks on Go's poller when a read finds nothing (never
// earlier: a FIN can come with the last data, and the poller reports no
// edge for it; the read that returns the data leaves the end of the
// stream for the next one). A parked reader holds no read buffer. What the callback
// cannot handle (a partial frame after a full read, a message bigger
// than the buffer, a ping with no message after it, a close frame, an
// error) takes one turn of the blocking path. Nothing closes a
// connection from inside the callback (FD.Close would wait for it): the
// handlers only close the socket, whose writer goroutine closes the
// connection, and the callback lets go of the descriptor after
// serveMax messages, so that Close waits for one callback at most.
//
// Locks, in the order they may be taken (never the reverse):
//
//  1. socket.inMu: inbound handling of one connection.
//  2. socket.memberMu: that connection's session membership (cur).
//  3. hub.mu: the map of sessions, nothing else. No packet is sent under
//     it, so sessions never wait for each other.
//  4. room.mu: a session's members. Presence is sent under its write
//     lock and relayed events under its read lock. Sending there is safe
//     because a send never blocks (a non-blocking write, or a bounded
//     queue), and it is what keeps a member's last events ahead of its
//     session:user-left for every receiver.
//  5. socket.mu: the transport state (websocket, upgrade, pending
//     requests) and the timers; nothing of 1-4 is taken under it.
//  6. connWriter.mu: one connection's writes. Held only for queue
//     operations and non-blocking system calls, never across a blocking
//     one.
//  7. Server.mu: the registry of connections; a leaf, taken under any.
//  8. joinLimiter.mu: the failed joins per address; a leaf, taken with
//     none of 1-7 needed and never held across a send.
//  9. addrLimit.mu: the per-address counts and the refusal log; a leaf
//     too, never taken under Server.mu (register and forget release
//     Server.mu first).
//
// A room's known addresses (secret.go) are guarded by room.mu; its
// secret is immutable.
//
// Goroutines: a websocket's reader, timer callbacks (ping, connect
// timeout) and closes done on the side are all counted in Server.conns,
// which grows only while the server is not closing. A websocket's writer
// goroutines are its reader's: runWebsocket waits for them
// (connWriter.wait) after the close, before it returns.
// Server.Close closes every connection (a websocket close frame, or a
// close packet to a pending long-poll) and waits for all of them; a
// client that does not read holds it at most twice closeWait.
//
// Timeouts are named: closeWait, handshakeTimeout, rateLimitedErrorEvery,
// refusedCloseAfter, joinWindow, refusalLogEvery, and the Config fields
// PingInterval, PingTimeout (also the upgrade probe's), WriteTimeout (a
// write, a long-poll response, a POST body), ConnectTimeout and
// HandshakeWindow (a timer callback like the others, counted in
// Server.conns).
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
