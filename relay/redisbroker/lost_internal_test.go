package redisbroker

import (
	"bytes"
	"fmt"
	"log/slog"
	"maps"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// lostBroker is a broker with only what the lost-leave set needs: no
// Redis behind it, its log in buf.
func lostBroker(buf *bytes.Buffer) *Broker {
	return &Broker{log: slog.New(slog.NewTextHandler(buf, nil)), m: newMetrics(), lost: make(map[memberRef]struct{})}
}

func refs(from, n int) []memberRef {
	out := make([]memberRef, n)
	for i := range out {
		out[i] = memberRef{code: "ABCD", id: fmt.Sprint("m", from+i)}
	}
	return out
}

// Past maxLost a leave is forgotten and counted, with one warning per
// overflow however many it forgets; once a re-assertion has made room,
// the next overflow warns again. The gauge follows the set.
func TestForgottenLeavesAreCountedAndWarnedOncePerOverflow(t *testing.T) {
	var buf bytes.Buffer
	b := lostBroker(&buf)
	b.keepLost(refs(0, maxLost+3))
	b.keepLost(refs(maxLost+3, 2))
	b.keepLost(refs(0, 5)) // kept already: neither forgotten nor counted
	if got := testutil.ToFloat64(b.m.forgotten); got != 5 {
		t.Errorf("forgotten %v, want 5", got)
	}
	if got := testutil.ToFloat64(b.m.lostLeaves); got != maxLost {
		t.Errorf("lost leaves gauge %v, want %d", got, maxLost)
	}
	if n := strings.Count(buf.String(), "cluster leaves forgotten"); n != 1 {
		t.Errorf("%d warnings for one overflow, want 1:\n%s", n, buf.String())
	}
	b.mu.Lock()
	b.forgetLost(refs(0, 10)) // a re-assertion applied ten
	b.mu.Unlock()
	if got := testutil.ToFloat64(b.m.lostLeaves); got != maxLost-10 {
		t.Errorf("lost leaves gauge %v after ten applied, want %d", got, maxLost-10)
	}
	b.keepLost(refs(2*maxLost, 11)) // ten fit, the eleventh overflows again
	if got := testutil.ToFloat64(b.m.forgotten); got != 6 {
		t.Errorf("forgotten %v, want 6", got)
	}
	if n := strings.Count(buf.String(), "cluster leaves forgotten"); n != 2 {
		t.Errorf("%d warnings for two overflows, want 2:\n%s", n, buf.String())
	}
}

// keepGoneBroker is a lostBroker whose node has member "a" of ABCD and
// is re-asserting (b.changed set).
func keepGoneBroker(buf *bytes.Buffer) *Broker {
	b := lostBroker(buf)
	b.sessions = map[string]*session{"ABCD": {local: map[string]string{"a": "{}"}}}
	b.changed = map[memberRef]struct{}{}
	return b
}

// A failed re-assertion keeps as lost the leaves among the changes it
// marked (b.changed) and those it took last (inflight), but not the
// members the node still has there.
func TestKeepGoneKeepsTheLeavesOfBothSources(t *testing.T) {
	var buf bytes.Buffer
	b := keepGoneBroker(&buf)
	a, gone, moved := memberRef{"ABCD", "a"}, memberRef{"ABCD", "b"}, memberRef{"WXYZ", "a"}
	b.changed[a] = struct{}{}
	b.changed[gone] = struct{}{}
	b.keepGone(map[memberRef]struct{}{a: {}, moved: {}})
	want := map[memberRef]struct{}{gone: {}, moved: {}}
	if !maps.Equal(b.lost, want) {
		t.Errorf("lost %v, want %v", b.lost, want)
	}
	if got := testutil.ToFloat64(b.m.lostLeaves); got != 2 {
		t.Errorf("lost leaves gauge %v, want 2", got)
	}
}

// A leave both marked and taken last is one leave: with the set full,
// it is forgotten and counted once.
func TestKeepGoneCountsALeaveOfBothSourcesOnce(t *testing.T) {
	var buf bytes.Buffer
	b := keepGoneBroker(&buf)
	b.keepLost(refs(100, maxLost)) // m100.. : none of them is "b"
	gone := memberRef{"ABCD", "b"}
	b.changed[gone] = struct{}{}
	b.keepGone(map[memberRef]struct{}{gone: {}})
	if got := testutil.ToFloat64(b.m.forgotten); got != 1 {
		t.Errorf("forgotten %v, want 1", got)
	}
}
