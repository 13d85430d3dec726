package main

import (
	"context"
	"io"
	"sync/atomic"
	"time"
)

// plan is the timeline of one throughput run. It is fixed before any
// goroutine starts, so all of them read it without synchronisation.
type plan struct {
	start    time.Time     // senders begin, each at a random offset within one period
	winStart time.Time     // the warmup is over: the measurement window opens
	winEnd   time.Time     // the window closes and the senders stop
	period   time.Duration // between two sends of one member
}

// member is one connection of a throughput run: it sends its own events
// and receives the other members'.
//
// Concurrency: two goroutines per connection, as gorilla/websocket
// allows one reader and one writer. The writer owns the ticker and every
// write, pongs included, so a tick goes straight to the socket with no
// channel hop; the reader only reads and parses, and hands pings to the
// writer through pong. Fields are owned by one of the two and read by the
// scenario only after that goroutine has returned; received is the one
// shared counter.
type member struct {
	c    *eioConn
	idx  int           // index in the session: the "src" it sends
	pong chan struct{} // capacity 1: a ping is waiting for its pong

	// Owned by writeLoop.
	sent     int64 // events sent; the next counter
	stalls   int64 // ticks skipped because the writer was still busy
	writeErr error

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
	samples   []uint32 // latencies (µs) of events sent inside the window
}

func newMember(c *eioConn, idx, size int, p plan) *member {
	m := &member{c: c, idx: idx, pong: make(chan struct{}, 1)}
	m.rx.count = make([]int64, size)
	m.rx.last = make([]int64, size)
	for i := range m.rx.last {
		m.rx.last[i] = -1
	}
	perSec := float64(size-1) * float64(time.Second) / float64(p.period)
	m.rx.samples = make([]uint32, 0, int(perSec*p.winEnd.Sub(p.winStart).Seconds()*1.1)+16)
	return m
}

// writeLoop sends one event per tick from p.start+offset until the
// window closes. A tick that finds the previous write still blocked is
// counted as a stall and skipped, never sent late in a burst.
func (m *member) writeLoop(ctx context.Context, p plan, offset time.Duration) {
	if sleepUntil(ctx, p.start.Add(offset)) != nil {
		return
	}
	t := time.NewTicker(p.period)
	defer t.Stop()
	first := time.Now()
	buf := make([]byte, 0, 256)
	for now, ok := first, true; ok && now.Before(p.winEnd); now, ok = m.nextTick(ctx, t) {
		if missed := int64(now.Sub(first)/p.period) - m.sent - m.stalls; missed > 0 {
			m.stalls += missed
		}
		buf = appendBroadcast(buf[:0], m.c.room, m.idx, m.sent, now)
		if m.writeErr = m.c.write(buf); m.writeErr != nil {
			return
		}
		m.sent++
	}
}

// nextTick waits for the ticker, answering pings meanwhile, and returns
// the time it fired. ok is false after a write error or cancellation.
func (m *member) nextTick(ctx context.Context, t *time.Ticker) (now time.Time, ok bool) {
	for {
		select {
		case <-t.C:
			return time.Now(), true
		case <-m.pong:
			if m.writeErr = m.c.write(pongPacket); m.writeErr != nil {
				return now, false
			}
		case <-ctx.Done():
			return now, false
		}
	}
}

// readLoop reads until the connection closes, one reused buffer for
// every message.
func (m *member) readLoop(p plan) {
	winStart, winEnd := p.winStart.UnixNano(), p.winEnd.UnixNano()
	buf := make([]byte, 0, 512)
	for {
		_, r, err := m.c.ws.NextReader()
		if err != nil {
			return
		}
		if buf, err = readAll(buf[:0], r); err != nil {
			return
		}
		if isPing(buf) {
			select {
			case m.pong <- struct{}{}:
			default: // a pong is already due
			}
			continue
		}
		if f, ok := parseLoadEvent(buf); ok {
			m.record(f, time.Now().UnixNano(), winStart, winEnd)
		}
	}
}

// record counts one received event at now (unix ns).
func (m *member) record(f loadFields, now, winStart, winEnd int64) {
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
	if now >= winStart && now < winEnd {
		rx.inWindow++
	}
	if f.t >= winStart && f.t < winEnd {
		rx.samples = append(rx.samples, micros(time.Duration(now-f.t)))
	}
}

// readAll reads r to its end, appending to dst.
func readAll(dst []byte, r io.Reader) ([]byte, error) {
	for {
		if len(dst) == cap(dst) {
			dst = append(dst, 0)[:len(dst)]
		}
		n, err := r.Read(dst[len(dst):cap(dst)])
		dst = dst[:len(dst)+n]
		if err == io.EOF {
			return dst, nil
		}
		if err != nil {
			return dst, err
		}
	}
}

// sleepUntil waits until t or until ctx ends, whichever comes first.
func sleepUntil(ctx context.Context, t time.Time) error {
	timer := time.NewTimer(time.Until(t))
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
