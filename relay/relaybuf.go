package relay

import (
	"bytes"
	"sync"
)

// relayedPacket is the packet of one event:broadcast, encoded once for
// every receiver in a buffer borrowed from relayBuffers for as long as
// the event is handled: the relay makes no garbage per event.
//
// What the packet's bytes may be used for, and by whom:
//   - a batch's direct write (directBatch.relay) copies them into its
//     frame, and the tail of a partial write is a copy;
//   - a receiver that queues the packet (a slow member, a long-polling
//     one) queues keep(): one copy, made by the first such receiver and
//     shared by the others (queued packets are never written to);
//   - Cluster.Publish copies what it sends (its contract);
//   - logs and metrics see the sender's fields, never the packet.
//
// So once relay returns nothing refers to the buffer, and release gives
// it back. A relayedPacket belongs to the goroutine handling the event
// (the sender's inbound handler, under its inMu): no lock.
type relayedPacket struct {
	b    []byte  // the packet, in the borrowed buffer
	kept []byte  // a copy of b for queues, made on the first keep
	buf  *[]byte // the pool's handle of b's buffer
}

// keptRelayBuffer is the largest buffer relayBuffers keeps: a rare big
// event's buffer is left to the collector. Musical events are a few
// hundred bytes.
const keptRelayBuffer = 4096

// relayBuffers lends the buffers relayed packets are built in. Its size
// is the Go runtime's: a sync.Pool holds no more than what recent events
// used at once (one per sender being handled), so an idle member holds
// none.
var relayBuffers = sync.Pool{New: func() any { return new([]byte) }}

// scribbleRelayBuffers makes release zero the packet before it gives
// the buffer back, so that a reference kept past the handling reads
// garbage instead of a plausible event. The package's tests set it
// (relaybuf_internal_test.go) before any test runs; in a relay it is
// false, and never written.
var scribbleRelayBuffers = false

// borrowRelayedPacket returns an empty packet in a borrowed buffer.
func borrowRelayedPacket() relayedPacket {
	bp := relayBuffers.Get().(*[]byte)
	return relayedPacket{b: (*bp)[:0], buf: bp}
}

// keep returns the packet's bytes for a receiver that holds them past
// the handling: a copy, the same for every receiver of this event.
func (p *relayedPacket) keep() []byte {
	if p.kept == nil {
		p.kept = bytes.Clone(p.b)
	}
	return p.kept
}

// release gives the buffer back; p must not be used after it.
func (p *relayedPacket) release() {
	if scribbleRelayBuffers {
		clear(p.b) // NULs: no packet, no JSON
	}
	*p.buf = nil
	if cap(p.b) <= keptRelayBuffer {
		*p.buf = p.b[:0]
	}
	relayBuffers.Put(p.buf)
	*p = relayedPacket{}
}
