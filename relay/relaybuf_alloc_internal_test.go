//go:build !race

// The race detector's sync.Pool drops items at random: allocations are
// counted without it (go test ./relay/, without -race).

package relay

import "testing"

// An event:broadcast relayed to members that take it at once (direct
// writes into their sockets' buffers) allocates nothing: decoding,
// checks, the relayed packet, the writes. The path runs no goroutine:
// the member's client end does not read, and what the test sends fits
// in the socket's buffers (the direct-write count says so).
func TestRelayedEventAllocatesNothing(t *testing.T) {
	srv := newRelayTestServer(t)
	sender := connectedSocket(t, srv, newSocket(srv))
	if _, err := srv.hub.create(sender, "MUSIC-42", Participant{ID: sender.sid}, access{}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		server, _ := tcpPair(t)
		websocketMember(t, srv, server)
	}
	in, _ := relayTestEvent(3, sender.sid)
	event := []byte(in)
	before := srv.Stats().DirectWrites
	const runs = 100
	allocs := testing.AllocsPerRun(runs, func() {
		if err := sender.handleEIO(event); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per relayed event, want 0", allocs)
	}
	if got, want := srv.Stats().DirectWrites-before, uint64(2*(runs+1)); got != want {
		t.Errorf("%d direct writes, want %d: some deliveries were queued", got, want)
	}
}
