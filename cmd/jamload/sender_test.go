package main

import (
	"context"
	"io"
	"testing"
	"testing/synctest"
	"time"
)

// One sender drives several members, each at its own phase: on the
// bubble's clock every event is stamped exactly at its member's offset
// plus a whole number of periods, every tick of the window is sent once,
// and none is skipped.
func TestSenderKeepsEachMembersPhase(t *testing.T) {
	offsets := []time.Duration{30 * time.Millisecond, 10 * time.Millisecond, 10 * time.Millisecond, 49 * time.Millisecond}
	type pair struct {
		ws  *wsConn
		srv io.Reader
	}
	pairs := make([]pair, len(offsets))
	for i := range pairs {
		ws, srv := tcpPair(t, false)
		pairs[i] = pair{ws, srv}
	}
	const period = 50 * time.Millisecond
	var members []*member
	var start time.Time
	synctest.Test(t, func(t *testing.T) {
		start = time.Now()
		p := plan{start: start, winStart: start, winEnd: start.Add(time.Second), period: period}
		s := newSender(p)
		for i, off := range offsets {
			m := newMember(&eioConn{ws: pairs[i].ws, room: "PHASE"}, i, len(offsets), p, off)
			members = append(members, m)
			s.add(m)
		}
		s.run(context.Background())
	})
	for i, m := range members {
		if m.writeErr != nil || m.stalls != 0 || m.sent != 20 {
			t.Errorf("member %d: sent %d, stalls %d, error %v; want 20 ticks of a 1 s window, no stall", i, m.sent, m.stalls, m.writeErr)
		}
		pairs[i].ws.close()
		b, err := io.ReadAll(pairs[i].srv)
		if err != nil {
			t.Fatal(err)
		}
		for k := int64(0); len(b) > 0; k++ {
			_, msg, n := unmask(t, b)
			b = b[n:]
			f, ok := parseLoadEvent(relayed(msg))
			want := start.Add(offsets[i] + time.Duration(k)*period).UnixNano()
			if !ok || f.n != k || f.t != want {
				t.Fatalf("member %d, event %d: parsed %v, n %d, stamped %+d ns from its tick", i, k, ok, f.n, f.t-want)
			}
		}
	}
}
