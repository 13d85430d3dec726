// Package relaytest connects test participants to a relay: the one test
// peer of the relay's, the cluster broker's and jamrelay's tests.
//
// # Concurrency
//
// A Peer belongs to its test's goroutine; the client's reader only puts
// events into Inbox, and drops them once the test is over (so that it
// never blocks the client's Close).
package relaytest

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/jambridge/jambridge/relay"
)

// Peer is a participant connected with relay.Client; it collects every
// event it receives and hands them out by name.
type Peer struct {
	T testing.TB
	*relay.Client
	Inbox chan relay.Event // what the client received, up to the inbox's size
	Kept  []relay.Event    // received but not yet asked for
	wait  time.Duration
}

// Dial connects a peer as cfg says (its OnEvent is the peer's), with an
// inbox of inbox events, waiting at most wait for anything; the client
// is closed when the test ends.
func Dial(t testing.TB, cfg relay.ClientConfig, inbox int, wait time.Duration) *Peer {
	t.Helper()
	p := &Peer{T: t, Inbox: make(chan relay.Event, inbox), wait: wait}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	// Once the test is over nobody reads the inbox: what still arrives
	// (a flood's tail, when a test left more than the inbox holds) is
	// dropped, so the client's reader never blocks its Close.
	over := make(chan struct{})
	cfg.OnEvent = func(ev relay.Event) {
		select {
		case p.Inbox <- ev:
		case <-over:
		}
	}
	c, err := relay.Dial(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	p.Client = c
	t.Cleanup(func() {
		close(over)
		c.Close()
	})
	return p
}

// Send emits name with arg, failing the test if it cannot.
func (p *Peer) Send(name string, arg any) {
	p.T.Helper()
	if err := p.Emit(name, arg); err != nil {
		p.T.Fatalf("emit %s: %v", name, err)
	}
}

// Next returns the argument of the next event named name, keeping the
// others for later; it waits at most the peer's wait.
func (p *Peer) Next(name string) json.RawMessage {
	p.T.Helper()
	return p.NextBefore(name, time.Now().Add(p.wait))
}

// NextBefore is Next failing the test at deadline: for a bound that is
// the test's subject rather than a guard against a hang.
func (p *Peer) NextBefore(name string, deadline time.Time) json.RawMessage {
	p.T.Helper()
	for i, ev := range p.Kept {
		if ev.Name == name {
			p.Kept = append(p.Kept[:i], p.Kept[i+1:]...)
			return Arg0(ev)
		}
	}
	within := time.Until(deadline)
	timeout := time.NewTimer(within)
	defer timeout.Stop()
	for {
		select {
		case ev := <-p.Inbox:
			if ev.Name == name {
				return Arg0(ev)
			}
			p.Kept = append(p.Kept, ev)
		case <-timeout.C:
			p.T.Fatalf("%s: no %q event within %v (got %v)", p.ID(), name, within.Round(time.Millisecond), Names(p.Kept))
			return nil
		}
	}
}

// Decode waits for the next event named name and unmarshals it into v.
func (p *Peer) Decode(name string, v any) {
	p.T.Helper()
	if err := json.Unmarshal(p.Next(name), v); err != nil {
		p.T.Fatalf("%s: %v", name, err)
	}
}

// Arg0 is an event's first argument, nil when it has none.
func Arg0(ev relay.Event) json.RawMessage {
	if len(ev.Args) == 0 {
		return nil
	}
	return ev.Args[0]
}

// Names lists the events' names, in order.
func Names(evs []relay.Event) []string {
	var out []string
	for _, ev := range evs {
		out = append(out, ev.Name)
	}
	return out
}
