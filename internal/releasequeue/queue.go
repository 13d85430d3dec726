package releasequeue

import "sync"

// Kind says how the queue treats an event.
type Kind uint8

// The kinds of event.
const (
	// Plain is an ordinary event: dropped oldest-first on overflow.
	Plain Kind = iota
	// Start is an ordinary event that begins holding its key (a
	// note-on, a pedal down). It may be dropped like Plain.
	Start
	// Release ends holding its key (group, key). It is never dropped:
	// it is delivered if a Start of its key was delivered since the
	// key's last delivered Release, and skipped (counted Unsounded)
	// otherwise.
	Release
	// ReleaseGroup ends everything its group holds (a participant
	// leaving). Never dropped; delivered whatever was held.
	ReleaseGroup
	// ReleaseAll ends everything every group holds (the session is
	// gone). Never dropped; delivered whatever was held.
	ReleaseAll
)

// releases reports whether k is one of the kinds that are never dropped.
func (k Kind) releases() bool { return k >= Release }

// Stats count what the queue did instead of delivering.
type Stats struct {
	Dropped   uint64 // ordinary events dropped, oldest first, on overflow
	Coalesced uint64 // releases replaced by a later release of their key
	Unsounded uint64 // releases skipped: their key's Start was never delivered
	Overflow  uint64 // releases past MaxReleases, queued as ordinary events
}

// Item is one event as Pop delivers it.
type Item[G, K comparable, E any] struct {
	Kind  Kind
	Group G // Release, ReleaseGroup, Start: whose key
	Key   K // Release, Start: which key
	Event E
	seq   uint64 // push order
}

// relKey names a pending release: one per (kind, group, key).
type relKey[G, K comparable] struct {
	kind  Kind
	group G
	key   K
}

// Config sizes a Queue.
type Config struct {
	Size        int // ordinary events held; at least 1
	MaxReleases int // pending releases held (distinct keys); at least 1
}

// Queue is a bounded queue that drops ordinary events oldest-first and
// never drops releases; see the package comment. G groups keys (a
// participant, an input port), K names a key within a group (a channel
// and note), E is the event.
//
// Concurrency: Push, Forget, Stats and Len may be called from any
// goroutine and never block on the consumer; Pop and Ready belong to one
// consumer goroutine. mu guards every field below it.
type Queue[G, K comparable, E any] struct {
	cfg   Config
	ready chan struct{} // capacity 1: "something was pushed"

	mu        sync.Mutex
	seq       uint64
	ring      []Item[G, K, E] // circular; ordinary events (and overflowed releases)
	head, n   int
	rels      []Item[G, K, E]         // pending releases in push order, from relHead; stale entries included
	relHead   int                     // first entry of rels not yet popped
	relSeq    map[relKey[G, K]]uint64 // the live entry of each pending release
	delivered map[G]map[K]struct{}    // keys whose Start was delivered and not yet released
	stats     Stats
}

// New returns an empty Queue.
func New[G, K comparable, E any](cfg Config) *Queue[G, K, E] {
	cfg.Size = max(cfg.Size, 1)
	cfg.MaxReleases = max(cfg.MaxReleases, 1)
	return &Queue[G, K, E]{
		cfg:       cfg,
		ready:     make(chan struct{}, 1),
		ring:      make([]Item[G, K, E], cfg.Size),
		relSeq:    make(map[relKey[G, K]]uint64),
		delivered: make(map[G]map[K]struct{}),
	}
}

// Ready receives after a Push; the consumer then Pops until Pop reports
// nothing. One signal may stand for several pushes.
func (q *Queue[G, K, E]) Ready() <-chan struct{} { return q.ready }

// Push queues e without blocking. For Plain, group and key are ignored;
// for ReleaseGroup, key is; for ReleaseAll, both are.
func (q *Queue[G, K, E]) Push(kind Kind, group G, key K, e E) {
	q.mu.Lock()
	q.seq++
	it := Item[G, K, E]{Kind: kind, Group: group, Key: key, Event: e, seq: q.seq}
	if kind.releases() {
		q.pushRelease(it)
	} else {
		q.pushRing(it)
	}
	q.mu.Unlock()
	q.signal()
}

func (q *Queue[G, K, E]) signal() {
	select {
	case q.ready <- struct{}{}:
	default: // a signal is pending already
	}
}

// pushRing appends it to the ring, dropping the oldest when full.
func (q *Queue[G, K, E]) pushRing(it Item[G, K, E]) {
	if q.n == len(q.ring) {
		q.ring[q.head] = Item[G, K, E]{}
		q.head = (q.head + 1) % len(q.ring)
		q.n--
		q.stats.Dropped++
	}
	q.ring[(q.head+q.n)%len(q.ring)] = it
	q.n++
}

// pushRelease records it as its key's pending release, replacing an
// earlier one.
func (q *Queue[G, K, E]) pushRelease(it Item[G, K, E]) {
	k := keyOf(it)
	if _, ok := q.relSeq[k]; ok {
		q.stats.Coalesced++ // the earlier entry is now stale
	} else if len(q.relSeq) >= q.cfg.MaxReleases {
		q.stats.Overflow++
		q.pushRing(it)
		return
	}
	q.relSeq[k] = it.seq
	q.rels = append(q.rels, it)
	q.compact()
}

func keyOf[G, K comparable, E any](it Item[G, K, E]) relKey[G, K] {
	k := relKey[G, K]{kind: it.Kind}
	switch it.Kind {
	case Release:
		k.group, k.key = it.Group, it.Key
	case ReleaseGroup:
		k.group = it.Group
	}
	return k
}

// compact drops the popped and stale entries of rels once they
// outnumber the live ones, so rels stays within twice the pending
// releases however often they coalesce.
func (q *Queue[G, K, E]) compact() {
	live := len(q.relSeq)
	if len(q.rels) < 2*live+16 {
		return
	}
	kept := q.rels[:0]
	for _, it := range q.rels[q.relHead:] {
		if q.relSeq[keyOf(it)] == it.seq {
			kept = append(kept, it)
		}
	}
	clear(q.rels[len(kept):])
	q.rels, q.relHead = kept, 0
}

// Pop returns the next event to deliver, in push order; false when there
// is none. Releases whose Start was never delivered are skipped.
func (q *Queue[G, K, E]) Pop() (Item[G, K, E], bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for {
		it, ok := q.next()
		if !ok {
			return it, false
		}
		if q.deliver(it) {
			if q.n > 0 || len(q.relSeq) > 0 {
				q.signal() // more to come: the consumer may wait between items
			}
			return it, true
		}
	}
}

// next takes the oldest entry off the ring or the releases.
func (q *Queue[G, K, E]) next() (Item[G, K, E], bool) {
	for q.relHead < len(q.rels) && q.relSeq[keyOf(q.rels[q.relHead])] != q.rels[q.relHead].seq {
		q.rels[q.relHead] = Item[G, K, E]{} // stale: a later release replaced it
		q.relHead++
	}
	haveRel := q.relHead < len(q.rels)
	if q.n > 0 && (!haveRel || q.ring[q.head].seq < q.rels[q.relHead].seq) {
		it := q.ring[q.head]
		q.ring[q.head] = Item[G, K, E]{}
		q.head = (q.head + 1) % len(q.ring)
		q.n--
		return it, true
	}
	if !haveRel {
		q.rels, q.relHead = q.rels[:0], 0
		return Item[G, K, E]{}, false
	}
	it := q.rels[q.relHead]
	q.rels[q.relHead] = Item[G, K, E]{}
	q.relHead++
	delete(q.relSeq, keyOf(it))
	return it, true
}

// deliver updates the delivered keys for it and reports whether it
// goes to the consumer.
func (q *Queue[G, K, E]) deliver(it Item[G, K, E]) bool {
	switch it.Kind {
	case Start:
		keys := q.delivered[it.Group]
		if keys == nil {
			keys = make(map[K]struct{})
			q.delivered[it.Group] = keys
		}
		keys[it.Key] = struct{}{}
	case Release:
		keys := q.delivered[it.Group]
		if _, ok := keys[it.Key]; !ok {
			q.stats.Unsounded++
			return false
		}
		delete(keys, it.Key) // the group's map stays, for its next Start

	case ReleaseGroup:
		delete(q.delivered, it.Group)
	case ReleaseAll:
		clear(q.delivered)
	}
	return true
}

// Forget drops what the queue knows group holds, as when its source is
// gone and nothing of it is queued any more.
func (q *Queue[G, K, E]) Forget(group G) {
	q.mu.Lock()
	defer q.mu.Unlock()
	delete(q.delivered, group)
}

// Len is the number of entries queued: ordinary events and pending
// releases.
func (q *Queue[G, K, E]) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.n + len(q.relSeq)
}

// Stats returns the queue's counters.
func (q *Queue[G, K, E]) Stats() Stats {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.stats
}
