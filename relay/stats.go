package relay

import "sync/atomic"

// counters are the relay's running totals, updated lock-free (atomics
// only: no lock guards them).
type counters struct {
	connects        atomic.Uint64 // Socket.IO connects to "/"
	eventsIn        atomic.Uint64 // event:broadcast received
	deliveries      atomic.Uint64 // relayed events queued to members
	direct          atomic.Uint64 // packets written at once, without the queue
	partial         atomic.Uint64 // direct writes the kernel took only part of
	ringWrites      atomic.Uint64 // direct writes made in an io_uring submission of several (direct_batch.go)
	queued          atomic.Uint64 // packets that went through a send queue
	dropped         atomic.Uint64 // queued packets dropped on overflow
	stuck           atomic.Uint64 // connections closed for not taking their data
	connectTimeouts atomic.Uint64 // connections closed for no Socket.IO CONNECT in time
	rateLimited     atomic.Uint64 // events refused by the rate limit
	tooLarge        atomic.Uint64 // events refused for their payload size
	notMember       atomic.Uint64 // broadcasts from non-members, dropped
	malformed       atomic.Uint64 // connections closed for a bad packet
	errors          atomic.Uint64 // error events sent to clients
	unknown         atomic.Uint64 // unknown events ignored
	failedJoins     atomic.Uint64 // joins refused: unknown code, wrong secret, taken code
	joinsLimited    atomic.Uint64 // joins refused by the failed-join limit
	connectsRefused atomic.Uint64 // CONNECTs refused for their access token
	blockingReads   atomic.Uint64 // turns of a serving websocket reader's blocking path (serve_unix.go)
}

// Stats is a snapshot of the relay's counters.
type Stats struct {
	Connections int64  `json:"connections"`
	Sessions    int    `json:"sessions"`
	Connects    uint64 `json:"connects"`
	EventsIn    uint64 `json:"eventsIn"`
	Deliveries  uint64 `json:"deliveries"`
	// DirectWrites counts packets (relayed events, replies) written at
	// once by the goroutine that sent them, the connection being idle
	// (those the kernel took only part of included: the writer sent the
	// rest); the others went through the connection's send queue.
	DirectWrites uint64 `json:"directWrites"`
	// RingWrites counts the direct writes made several in one system
	// call (an io_uring submission, Linux): those of one relayed event to
	// a session's idle members.
	RingWrites uint64 `json:"ringWrites"`
	Dropped    uint64 `json:"dropped"`
	Stuck      uint64 `json:"stuck"`
	// ConnectTimeouts counts connections closed for not sending the
	// Socket.IO CONNECT within ConnectTimeout.
	ConnectTimeouts uint64 `json:"connectTimeouts"`
	RateLimited     uint64 `json:"rateLimited"`
	TooLarge        uint64 `json:"tooLarge"`
	NotMember       uint64 `json:"notMember"`
	Malformed       uint64 `json:"malformed"`
	Errors          uint64 `json:"errors"`
	Unknown         uint64 `json:"unknown"`
	// FailedJoins counts joins and creates refused for an unknown code,
	// a wrong secret or a taken code; JoinsLimited those refused by the
	// failed-join limit; ConnectsRefused the Socket.IO CONNECTs refused
	// for a missing or invalid access token.
	FailedJoins     uint64 `json:"failedJoins"`
	JoinsLimited    uint64 `json:"joinsLimited"`
	ConnectsRefused uint64 `json:"connectsRefused"`
}

// Stats returns the relay's counters now.
func (s *Server) Stats() Stats {
	c := &s.stats
	return Stats{
		Connections:     int64(s.open()),
		Sessions:        s.hub.count(),
		Connects:        c.connects.Load(),
		EventsIn:        c.eventsIn.Load(),
		Deliveries:      c.deliveries.Load(),
		DirectWrites:    c.direct.Load(),
		RingWrites:      c.ringWrites.Load(),
		Dropped:         c.dropped.Load(),
		Stuck:           c.stuck.Load(),
		ConnectTimeouts: c.connectTimeouts.Load(),
		RateLimited:     c.rateLimited.Load(),
		TooLarge:        c.tooLarge.Load(),
		NotMember:       c.notMember.Load(),
		Malformed:       c.malformed.Load(),
		Errors:          c.errors.Load(),
		Unknown:         c.unknown.Load(),
		FailedJoins:     c.failedJoins.Load(),
		JoinsLimited:    c.joinsLimited.Load(),
		ConnectsRefused: c.connectsRefused.Load(),
	}
}
