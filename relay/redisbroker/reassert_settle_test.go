package redisbroker

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/jambridge/jambridge/internal/redistest"
	"github.com/jambridge/jambridge/relay"
)

// More joins than maxReassertRounds, on their way when a re-assertion
// starts and settling one by one during it, cost it no round each: the
// first re-assertion counts the node up, with every member in Redis.
func TestSettlesOneByOneDoNotExhaustRounds(t *testing.T) {
	b := startBroker(t, redistest.Start(t))
	create(t, b, "YYYY", "c")
	const joins = maxReassertRounds + 2
	held := make(chan struct{}, joins)
	release := make(chan struct{}, joins)
	t.Cleanup(func() {
		for range joins {
			select {
			case release <- struct{}{}:
			default:
			}
		}
	})
	b.setHook(hookSettle, func() { held <- struct{}{}; <-release })
	ids := []string{"c"}
	errs := make(chan error, joins)
	for i := range joins {
		id := fmt.Sprintf("p%d", i)
		ids = append(ids, id)
		go func() {
			_, _, err := b.Join(t.Context(), "YYYY", relay.Participant{ID: id}, relay.Entry{}, 100)
			errs <- err
		}()
	}
	for range joins {
		<-held // each join is written, its Join not returned: pending
	}
	var starts atomic.Int32
	b.setHook(hookReassert, func() { starts.Add(1) })
	b.setHook(hookWait, func() { // one join settles per wait
		select {
		case release <- struct{}{}:
		default:
		}
	})
	before := b.Reassertions()
	b.markDown(errUnavailable)
	awaitReasserted(t, b, before)
	for range joins {
		if err := <-errs; err != nil {
			t.Errorf("a join failed: %v", err)
		}
	}
	if n := starts.Load(); n != 1 {
		t.Errorf("the node re-asserted after %d tries, want 1", n)
	}
	wantMembers(t, b, "YYYY", ids...)
}
