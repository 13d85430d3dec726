// Package redisbroker is a relay.Cluster on one Redis server: several
// jamrelay nodes given the same Redis serve one set of sessions.
//
// # What lives in Redis
//
// A session is a hash of its members (id -> node and participant JSON):
// the hash existing is the claim of its code, so a code is unique across
// the nodes, and a Lua script adds a member atomically within the members
// limit (joinScript). A private session's key (salt and salted hash,
// hex; never the secret) and hashes of its members' client addresses
// live beside it and go with its last member: a join first learns the
// salt from a refusal that writes nothing, then offers the secret's hash,
// which the same script that adds the member compares (through sha1hex
// of each side, so its timing tells nothing) before writing or
// publishing anything. Each node keeps an index of its own members and a
// heartbeat key that expires after heartbeatTTL (refreshed every
// heartbeatEvery). Every node sweeps the others every sweepEvery: a node
// whose heartbeat expired (killed, or cut from Redis) is removed by one
// script (sweepScript, atomic, so of several sweepers one does the work)
// that takes each of its members out of its session and publishes their
// leaves.
//
// # Events
//
// Each session has a channel, which a node subscribes to while it has
// members there (and only then: a node hears only the sessions it
// serves). An event is published once for the whole session, whatever
// the number of receivers; the message is the relayed packet as the
// sending node built it (senderId, serverTime and seq in it), after the
// sender's node id and send time. A node skips its own messages: its
// members got the event locally. Every event and leave of a node goes
// through one publisher goroutine, on a connection of its own with
// Redis's replies turned off (CLIENT REPLY OFF): what was queued meanwhile
// goes out in one write, without waiting for Redis to answer the last
// (publisher.go, pubconn.go). So each sender's events keep their order
// and a member's leave comes after its events; Redis delivers to each
// subscriber in order, and each node's receiving goroutine hands
// messages to the relay in that order, which writes them through each
// member's own connection writer.
//
// Every connection to Redis reads and writes with raw system calls
// (rawconn_linux.go), as the relay's sockets do: the scheduler's
// bookkeeping around ordinary ones kept the Go runtime's monitor thread
// waking every 20 µs on a busy node.
//
// # Redis going away
//
// A node keeps serving its members when Redis is down: sessions go on
// between the members of each node, new sessions and joins are served
// locally, and events for other nodes are dropped and counted (never
// queued). A node counts Redis down when a heartbeat fails, and at once
// when the read of its subscriptions fails: their connection broke, and
// Redis may still hold the node's heartbeat (a restart between two
// beats, a connection killed), which would keep the node up while it
// misses every message. The heartbeat retries with backoff (250 ms
// doubling to 4 s, with jitter); when Redis answers again, or answers
// without the node's heartbeat (restarted empty, or the node was swept),
// the node re-asserts
// every member it holds (codes, private sessions' keys, address hashes
// and presence), removes those it no longer
// holds, and subscribes again; then it applies the joins and leaves made
// on it meanwhile (while it re-asserts the node counts as down, so they
// were served locally), round after round, and counts as up only once a
// round found nothing new (reassert.go). The publisher then
// dials again, as its connection, which hears no replies, may be to a
// Redis that went away. The outage is logged once when it starts and
// once when it ends. Presence messages are
// idempotent on the receiving side (a node remembers the remote members
// of its sessions), so a re-assertion is not announced twice.
//
// Metrics (Broker is a prometheus.Collector): jamrelay_redis_up,
// jamrelay_redis_published_total, jamrelay_redis_received_total,
// jamrelay_redis_dropped_total{reason},
// jamrelay_redis_latency_seconds (send to receive across nodes, which
// needs the nodes' clocks in step, as NTP keeps them),
// jamrelay_redis_lost_leaves and jamrelay_redis_leaves_forgotten_total.
//
// # Concurrency
//
// A Broker has three goroutines, started by Bind and stopped and waited
// for by Close: the publisher (owns every publish and leave, and
// UNSUBSCRIBE), the receiver (owns reading the PubSub and every call into
// the relay's ClusterPeer) and the heartbeat (owns the heartbeat, the
// sweeps and re-assertion). The publisher owns its connection; the
// heartbeat tells it to dial again through an atomic counter of
// re-assertions (epoch). Create and Join run on the joining
// connection's goroutine and may wait on Redis (bounded by the relay's
// context); Publish and Leave never block: they queue to the publisher,
// whose queue (the commands, encoded by the pushing goroutine under the
// publisher's lock) holds at most maxQueuedEvents events (overflow: the
// new event is dropped and counted) plus the leaves, one per member.
//
// Locks: subMu serialises subscription changes with sessions' births and
// deaths; mu guards sessions and is taken under subMu, never the reverse.
// Neither is held while calling the relay. up, outage and epoch are
// atomics. A re-assertion subscribes without subMu (Redis may take
// opTimeout to answer, and joins take subMu), then, under subMu,
// unsubscribes the sessions that died meanwhile, as their own
// unsubscription may have gone before its subscription.
//
// A re-assertion races with the joins and leaves of the node's
// connections; mu orders them. Under mu it takes its snapshot of the
// local members and starts a set of changes (Broker.changed), where a
// leave, a join served locally and the end of a Create or Join (settle)
// mark their member, under mu too. After writing the snapshot it takes
// the changes, writes them as the node has those members now (joined:
// asserted again; gone: leaveScript, idempotent), and looks again; in
// the critical section where it finds no change and no pending member
// it stops marking and stores up. A Create or Join reads up under mu as
// it records its member: found down, the member is served locally and
// marked at once, so a round, or the snapshot of the next re-assertion,
// writes it; found up, the member is pending until its Create or Join
// returns: while it is pending only its own script writes it (or
// refuses it), no round does (a re-assertion checks neither secret nor
// limit). A re-assertion sets up false before its snapshot, so the
// members pending during it are those that found Redis up before (none
// becomes pending during it): before each round it waits until none is
// pending (Broker.settled, closed by settle or a leave), at most
// settleWait for all its waits together, else it fails and the
// heartbeat tries again after its backoff; a wait costs no round (only
// rounds that wrote count towards maxReassertRounds). A settle ends the
// pending state and marks the member, so the round after the waits
// writes the settled members together, as the node then has them:
// asserted again (idempotent, after its script wrote it) if still
// local, removed if gone (its script refused it, or it left). So a join
// either finds the node down and is applied by a round, or finds it up
// and writes itself;
// a leave either falls before the last look and is applied by a round,
// or after it and goes out through the publisher. A leave applied by a
// round publishes the leave, which the other nodes record in the
// session's left set (so a stale snapshot does not bring it back) and
// announce only for a member they knew. The members a re-assertion
// holds are known by session and id, and it reads the node's index in
// Redis before writing its snapshot: a member (a socket's id) that left
// one session and joined another while Redis was down, so that the
// index still names the first, is removed from the first (leaveScript
// keeps the index entry that names the second). The index misses a
// move whose join was written while up (it then names the new session)
// and whose leave was made while the node counted down, or failed to
// write: such leaves are kept as lost (Broker.lost, lost.go). A leave
// made while the node counts down is kept at once, under mu (the
// publisher may get to it only after the next re-assertion took the
// lost ones); the publisher keeps those it finds the node down for or
// fails to write; and a re-assertion that fails keeps those it marked
// and had not applied (a second guard: each was made while the node
// counted down). The next re-assertion applies the lost leaves first,
// but those of a member it holds again in the same session
// (leaveScript is idempotent and keeps an index entry that names
// another session), and forgets them, and the leaves its rounds
// applied, once it counts up. The set is
// bounded (maxLost): past it a leave is forgotten and counted, with
// one warning per overflow, and its member may stay a ghost. A leave
// made while up that the publisher gets to only after the node went
// down and the next re-assertion took the lost ones (the publisher
// stuck on subMu or a dial meanwhile) is still missed.
// The rounds are bounded (maxReassertRounds; then the re-assertion fails
// and the heartbeat tries again after its backoff), and so is the set:
// the members of the node's sessions and the leaves of one round trip.
//
// Known limits, each narrow or harmless:
//   - A join served locally is written by a round as soon as it is
//     marked; the relay may then refuse it locally (its room full, or
//     the secret wrong): the other nodes hear it join, then leave.
//   - A leave made during a re-assertion is applied by a round and also
//     queued to the publisher, which sends it again when it runs after
//     the node counts up: the other nodes skip a leave of a member they
//     no longer know.
//   - A re-assertion stores up over an outage noticed while it ran (a
//     publish, a join or the receiver failing): the node counts up until
//     its next beat fails (heartbeatEvery), or finds the heartbeat gone
//     and re-asserts; a connection of the subscriptions killed alone
//     comes back by itself (the PubSub dials and subscribes again), and
//     what it missed meanwhile is lost.
//   - Under constant churn (a change in every round) the re-assertion
//     fails after maxReassertRounds and tries again after its backoff,
//     meanwhile the node serves locally.
//   - A leave the publisher wrote is counted gone, though its replies
//     are off: if Redis then fails before running it (a restart that
//     keeps its data), the member stays in its old session; and past
//     maxLost lost leaves, a new one is forgotten (counted in
//     jamrelay_redis_leaves_forgotten_total, one warning per overflow).
//   - A join that makes a session and the publisher's unsubscription of
//     a dead one still hold subMu while Redis answers (the PubSub holds
//     its own lock there too): another join waits on them, at most
//     opTimeout, a dial.
package redisbroker
