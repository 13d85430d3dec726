package main

import (
	"context"
	"fmt"
	"sync"
)

// setupParallel is how many connections are being set up at once.
const setupParallel = 64

// connectSessions opens total connections in sessions of groupSize (the
// last one may be smaller): the first member of each creates the
// session, the others join it. Member i of a session connects to
// bases[i % len(bases)]: with several relay nodes, each session's
// members are split across them. Groups are set up by setupParallel
// workers, one connection at a time each. ready, when not nil, is called
// with each group as soon as it is complete, from the worker. On error
// every connection opened so far is closed.
func connectSessions(ctx context.Context, bases []string, total, groupSize int, ready func([]*eioConn)) ([][]*eioConn, error) {
	ngroups := (total + groupSize - 1) / groupSize
	groups := make([][]*eioConn, ngroups)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	jobs := make(chan int)
	var (
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
	)
	for range min(setupParallel, ngroups) {
		wg.Go(func() {
			for g := range jobs {
				size := min(groupSize, total-g*groupSize)
				conns, err := connectGroup(ctx, bases, g, size)
				if err != nil {
					errOnce.Do(func() { firstErr = err; cancel() })
					continue
				}
				groups[g] = conns
				if ready != nil {
					ready(conns)
				}
			}
		})
	}
	feed(ctx, jobs, ngroups)
	wg.Wait()
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	if firstErr != nil {
		closeGroups(groups)
		return nil, firstErr
	}
	return groups, nil
}

// feed sends 0..n-1 to jobs until ctx ends, then closes jobs.
func feed(ctx context.Context, jobs chan<- int, n int) {
	defer close(jobs)
	for g := range n {
		select {
		case jobs <- g:
		case <-ctx.Done():
			return
		}
	}
}

// connectGroup sets up session g: its first member creates it, the
// others join.
func connectGroup(ctx context.Context, bases []string, g, size int) ([]*eioConn, error) {
	conns := make([]*eioConn, 0, size)
	for i := range size {
		c, err := dialEIO(ctx, bases[i%len(bases)])
		if err == nil {
			name := fmt.Sprintf("load-%d-%d", g, i)
			if i == 0 {
				err = c.createSession(name)
			} else {
				err = c.joinSession(conns[0].room, name)
			}
			if err != nil {
				c.close()
			}
		}
		if err != nil {
			closeAll(conns)
			return nil, fmt.Errorf("session %d, member %d: %w", g, i, err)
		}
		conns = append(conns, c)
	}
	return conns, nil
}

func closeAll(conns []*eioConn) {
	for _, c := range conns {
		c.close()
	}
}

func closeGroups(groups [][]*eioConn) {
	for _, g := range groups {
		closeAll(g)
	}
}
