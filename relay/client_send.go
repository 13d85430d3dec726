package relay

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/gorilla/websocket"

	"github.com/jambridge/jambridge/internal/releasequeue"
)

// The send queue (package releasequeue). Emit never blocks: when
// clientQueue packets wait, the oldest is dropped and counted (a
// real-time note that cannot leave now is worth nothing later). Releases
// (EmitHold with release set) are kept apart, one per key, and never
// dropped: at most maxHeldKeys, the keys a caller can hold (16 channels
// × 128 notes, and pedals, for a bridge); past that they queue like any
// packet. Pongs go on a path of their own, so they are never dropped
// either.
const (
	clientQueue = 512
	maxHeldKeys = 4096
)

// Client write deadlines.
const (
	// clientWriteWait bounds one write to the relay: a relay that takes
	// nothing for this long is gone.
	clientWriteWait = 10 * time.Second
	// clientCloseWait bounds the leaving: the queued packets flushed,
	// the close frame, and the relay's answer to it.
	clientCloseWait = 500 * time.Millisecond
)

// clientSendQueue is a Client's send queue: packets, keyed for EmitHold.
type clientSendQueue = releasequeue.Queue[struct{}, string, []byte]

// Emit sends an event with one argument (marshalled to JSON). It never
// blocks: the packet joins the send queue, whose oldest packet is
// dropped (and counted in Stats) when clientQueue are waiting. It
// returns ErrClosed once the connection has ended.
func (c *Client) Emit(name string, arg any) error {
	b, err := json.Marshal(arg)
	if err != nil {
		return fmt.Errorf("emit %s: %w", name, err)
	}
	return c.EmitRaw(name, b)
}

// EmitRaw sends an event whose argument is already JSON.
func (c *Client) EmitRaw(name string, arg []byte) error {
	return c.enqueue(releasequeue.Plain, "", AppendEvent(nil, -1, name, arg))
}

// EmitHold sends an event whose argument is already JSON and that holds
// or releases key (a note, a pedal: the caller names it). With release
// false it starts holding key and queues like any event (the oldest is
// dropped when the queue is full). With release true it ends holding
// key: it is never dropped, it replaces a release of key still queued
// (keeping the later position, so it never overtakes what came before
// it), and it is not sent at all when the event that started key never
// left (it was dropped, or sent on another connection).
func (c *Client) EmitHold(name string, arg []byte, key string, release bool) error {
	kind := releasequeue.Start
	if release {
		kind = releasequeue.Release
	}
	return c.enqueue(kind, key, AppendEvent(nil, -1, name, arg))
}

func (c *Client) enqueue(kind releasequeue.Kind, key string, pkt []byte) error {
	select {
	case <-c.done:
		return ErrClosed
	default:
	}
	c.queue.Push(kind, struct{}{}, key, pkt)
	return nil
}

// ClientStats count what a Client's send queue did.
type ClientStats struct {
	Dropped   uint64 // packets dropped, oldest first, on overflow
	Coalesced uint64 // releases replaced by a later release of their key
	Unsounded uint64 // releases not sent: what they ended never left
	Pongs     uint64 // pongs written: the heartbeat kept
}

// Stats returns the client's counters.
func (c *Client) Stats() ClientStats {
	q := c.queue.Stats()
	return ClientStats{Dropped: q.Dropped + q.Overflow, Coalesced: q.Coalesced, Unsounded: q.Unsounded,
		Pongs: c.pongs.Load()}
}

// Call sends an event and waits for its acknowledgement's arguments. Its
// packet queues like Emit's: dropped under a backlog, it gets no answer,
// and Call returns when ctx ends.
func (c *Client) Call(ctx context.Context, name string, arg any) ([]json.RawMessage, error) {
	b, err := json.Marshal(arg)
	if err != nil {
		return nil, fmt.Errorf("call %s: %w", name, err)
	}
	reply := make(chan []json.RawMessage, 1)
	c.mu.Lock()
	id := c.nextID
	c.nextID++
	c.acks[id] = reply
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.acks, id)
		c.mu.Unlock()
	}()
	if err := c.enqueue(releasequeue.Plain, "", AppendEvent(nil, id, name, b)); err != nil {
		return nil, err
	}
	select {
	case args := <-reply:
		return args, nil
	case <-c.done:
		return nil, ErrClosed
	case <-ctx.Done():
		return nil, fmt.Errorf("call %s: %w", name, ctx.Err())
	}
}

// writeLoop owns the connection's writes: a pong owed goes first, then
// the send queue in order. When the connection ends it flushes the
// queue, says goodbye and hangs up once the reader is done, or after
// clientCloseWait.
func (c *Client) writeLoop() {
	defer c.wg.Done()
	for {
		var err error
		select {
		case <-c.pong:
			err = c.write([]byte{eioPong})
		case <-c.queue.Ready():
			err = c.writeNext()
		case <-c.done:
			c.goodbye()
			return
		}
		if err != nil {
			c.finish(fmt.Errorf("relay connection lost: %w", err))
			c.ws.Close()
			return
		}
	}
}

// writeNext writes the pong owed, if any, then the next queued packet.
func (c *Client) writeNext() error {
	select {
	case <-c.pong:
		if err := c.write([]byte{eioPong}); err != nil {
			return err
		}
	default:
	}
	if it, ok := c.queue.Pop(); ok {
		return c.write(it.Event)
	}
	return nil
}

func (c *Client) write(pkt []byte) error {
	c.ws.SetWriteDeadline(time.Now().Add(clientWriteWait))
	err := c.ws.WriteMessage(websocket.TextMessage, pkt)
	if err == nil && len(pkt) == 1 && pkt[0] == eioPong {
		c.pongs.Add(1)
	}
	return err
}

// goodbye writes what is still queued, so events emitted before Close
// leave (on a broken connection the first failing write ends it), then
// the close frame, and closes the socket once the reader has seen the
// relay's answer or clientCloseWait has passed.
func (c *Client) goodbye() {
	deadline := time.Now().Add(clientCloseWait)
	c.ws.SetWriteDeadline(deadline)
	for {
		it, ok := c.queue.Pop()
		if !ok || c.ws.WriteMessage(websocket.TextMessage, it.Event) != nil {
			break
		}
	}
	msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")
	c.ws.WriteControl(websocket.CloseMessage, msg, deadline)
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case <-c.readDone:
	case <-t.C:
	}
	c.ws.Close()
}

func (a ClientStats) add(b ClientStats) ClientStats {
	return ClientStats{Dropped: a.Dropped + b.Dropped, Coalesced: a.Coalesced + b.Coalesced,
		Unsounded: a.Unsounded + b.Unsounded, Pongs: a.Pongs + b.Pongs}
}
