package main

import (
	"sync/atomic"
	"time"
)

// plan is the timeline of one throughput run. It is fixed before any
// goroutine starts, so all of them read it without synchronisation.
type plan struct {
	start    time.Time     // senders begin, each member at its own offset within one period
	winStart time.Time     // the warmup is over: the measurement window opens
	winEnd   time.Time     // the window closes and the senders stop
	period   time.Duration // between two sends of one member
}

// member is one connection of a throughput run: it sends its own events
// and receives the other members'.
//
// Concurrency: a reader goroutine per connection (readLoop) and a sender
// (sender.go) that writes for many members. The reader owns rx and only
// flags the pongs it owes; the sender owns every write and the fields
// under "owned by the sender". The scenario reads them all only after
// both have returned; received is the one counter read meanwhile.
type member struct {
	c      *eioConn
	idx    int           // index in the session: the "src" it sends
	offset time.Duration // its first send, after plan.start

	// Owned by the sender.
	next     int64 // index of the next tick: due at offset + next*period
	sent     int64 // events sent; the next counter
	stalls   int64 // ticks skipped: the sender came late, or the socket still held the last event
	writeErr error
	// pending is the part of a frame the socket did not take whole, and
	// pongs queued behind it. Bounded: no event is added while it is not
	// empty (the tick is skipped and counted as a stall instead), and the
	// reader owes at most one pong of each kind at a time.
	pending []byte
	payload []byte // the event being built
	frame   []byte // the frame being written

	// Set by the reader, taken by the sender.
	eioPong atomic.Bool            // an Engine.IO ping waits for its pong
	wsPong  atomic.Pointer[[]byte] // a websocket ping's payload waits for its pong

	// Owned by readLoop.
	rx recvStats

	received atomic.Int64 // load events received so far, read by the drain
}

// recvStats is what one member saw of the others' events.
type recvStats struct {
	count     []int64  // per sender index: events received
	last      []int64  // per sender index: last counter seen, -1 before any
	reordered int64    // a sender's counter went backwards or repeated
	foreign   int64    // load events from an unknown sender index
	inWindow  int64    // events received inside the window
	samples   []uint32 // latencies (µs) of events sent inside the window, charged to the relay (record)
	atReader  []uint32 // the same events' latencies to the generator's read
	unstamped int64    // sampled events charged up to the read: no kernel stamp, or one outside send..read
}

func newMember(c *eioConn, idx, size int, p plan, offset time.Duration) *member {
	m := &member{c: c, idx: idx, offset: offset}
	m.rx.count = make([]int64, size)
	m.rx.last = make([]int64, size)
	for i := range m.rx.last {
		m.rx.last[i] = -1
	}
	perSec := float64(size-1) * float64(time.Second) / float64(p.period)
	room := int(perSec*p.winEnd.Sub(p.winStart).Seconds()*1.1) + 16
	m.rx.samples = make([]uint32, 0, room)
	m.rx.atReader = make([]uint32, 0, room)
	m.payload = make([]byte, 0, 256)
	m.frame = make([]byte, 0, 256)
	return m
}

// readLoop reads until the connection closes. Events are parsed in
// place in the connection's buffer, stamped with the times of the read
// that brought them (rxTime); pings are flagged for the sender to answer.
func (m *member) readLoop(p plan) {
	winStart, winEnd := p.winStart.UnixNano(), p.winEnd.UnixNano()
	_ = m.c.ws.readLoop(func(op byte, msg []byte, at rxTime) bool {
		switch op {
		case opText:
			if isPing(msg) {
				m.eioPong.Store(true)
			} else if f, ok := parseLoadEvent(msg); ok {
				m.record(f, at, winStart, winEnd)
			}
		case opPing:
			pl := append([]byte(nil), msg...)
			m.wsPong.Store(&pl)
		case opClose:
			return false
		}
		return true
	})
}

// record counts one event received at at.
func (m *member) record(f loadFields, at rxTime, winStart, winEnd int64) {
	rx := &m.rx
	m.received.Add(1)
	if f.src < 0 || f.src >= len(rx.count) {
		rx.foreign++
		return
	}
	rx.count[f.src]++
	if f.n <= rx.last[f.src] {
		rx.reordered++
	}
	rx.last[f.src] = max(rx.last[f.src], f.n)
	if at.read >= winStart && at.read < winEnd {
		rx.inWindow++
	}
	if f.t >= winStart && f.t < winEnd {
		rx.samples = append(rx.samples, micros(time.Duration(relayedAt(f.t, at, &rx.unstamped)-f.t)))
		rx.atReader = append(rx.atReader, micros(time.Duration(at.read-f.t)))
	}
}

// relayedAt is the time an event sent at sent is charged to the relay
// up to: the kernel's stamp of its queueing on the receiver's socket,
// or, counted in unstamped, the read's time when there is no stamp or
// the stamp lies outside sent..read (a clock step): a stamp never makes
// a relay look faster than the send and the read allow.
func relayedAt(sent int64, at rxTime, unstamped *int64) int64 {
	if at.queued != 0 && at.queued >= sent && at.queued <= at.read {
		return at.queued
	}
	*unstamped++
	return at.read
}

// due is when the member's next tick is, after plan.start.
func (m *member) due(p plan) time.Duration {
	return m.offset + time.Duration(m.next)*p.period
}

// tick sends the member's event for the tick due now. Ticks that went by
// since its last one (the sender came late) are counted as stalls and
// skipped, never sent late in a burst; so is this one when the socket
// has not taken the previous event whole yet. Never blocks.
func (m *member) tick(p plan) {
	m.queuePongs()
	if !m.flush() {
		return
	}
	now := time.Now()
	cur := int64((now.Sub(p.start) - m.offset) / p.period)
	if cur > m.next {
		m.stalls += cur - m.next
	}
	m.next = max(cur, m.next) + 1
	if len(m.pending) > 0 {
		m.stalls++
		return
	}
	m.payload = appendBroadcast(m.payload[:0], m.c.room, m.idx, m.sent, now)
	m.frame = appendFrame(m.frame[:0], opText, m.payload, m.c.ws.nextMask())
	n, err := m.c.ws.tryWrite(m.frame)
	if err != nil {
		m.writeErr = err
		return
	}
	m.pending = append(m.pending, m.frame[n:]...)
	m.sent++
}

// queuePongs queues the pongs the reader asked for behind pending.
func (m *member) queuePongs() {
	if m.eioPong.Swap(false) {
		m.pending = appendFrame(m.pending, opText, pongPacket, m.c.ws.nextMask())
	}
	if pl := m.wsPong.Swap(nil); pl != nil {
		m.pending = appendFrame(m.pending, opPong, *pl, m.c.ws.nextMask())
	}
}

// flush writes what it can of pending without waiting; false after a
// write error.
func (m *member) flush() bool {
	if len(m.pending) == 0 {
		return true
	}
	n, err := m.c.ws.tryWrite(m.pending)
	if err != nil {
		m.writeErr = err
		return false
	}
	m.pending = m.pending[:copy(m.pending, m.pending[n:])]
	return true
}

// finish writes what is left of pending, waiting at most until deadline.
func (m *member) finish(deadline time.Time) {
	if m.writeErr != nil || len(m.pending) == 0 {
		return
	}
	nc := m.c.ws.nc
	_ = nc.SetWriteDeadline(deadline)
	if _, err := nc.Write(m.pending); err != nil {
		m.writeErr = err
	}
	m.pending = m.pending[:0]
}
