package bridge

// seqWindow is how many of a sender's most recent sequence numbers a
// SeqTracker remembers, one bit each: a late arrival within the window
// fills the gap it left, one older than that means the sender restarted
// its numbering. 1024 bits is 128 bytes per sender, and a reordering
// 1024 events deep does not happen over one TCP connection.
const seqWindow = 1024

// SeqKind says what an observed sequence number was.
type SeqKind uint8

// The verdicts of SeqTracker.Observe.
const (
	// SeqNone: the event carried no sequence number (seq < 1); it is not
	// accounted.
	SeqNone SeqKind = iota
	// SeqInOrder: the next number, or the first one seen of a sender.
	SeqInOrder
	// SeqGap: newer than the next number; SeqVerdict.Missing were skipped
	// and are counted lost until they turn up.
	SeqGap
	// SeqDuplicate: a number already seen.
	SeqDuplicate
	// SeqLate: older than the newest seen but not seen before
	// (reordered). If it was counted lost, it no longer is.
	SeqLate
	// SeqRestart: more than seqWindow behind the newest: the sender
	// restarted its numbering (it rejoined without a Reset), and the
	// tracker now counts from this number.
	SeqRestart
)

var seqKindNames = [...]string{"none", "in-order", "gap", "duplicate", "late", "restart"}

func (k SeqKind) String() string {
	if int(k) < len(seqKindNames) {
		return seqKindNames[k]
	}
	return "unknown"
}

// SeqVerdict is what SeqTracker.Observe made of one sequence number.
type SeqVerdict struct {
	Kind    SeqKind
	Missing int64 // SeqGap: how many numbers were skipped
}

// SeqStats are a sender's sequence counters since its first event or its
// last Reset.
type SeqStats struct {
	Received   int64 // distinct events (duplicates not included)
	Lost       int64 // numbers skipped and not filled in later
	Duplicates int64 // events whose number was already seen
	Reordered  int64 // events that came after a newer one (SeqLate)
	Restarts   int64 // numbering restarts without a Reset (SeqRestart)
}

// SeqTracker counts gaps, duplicates and reordering in the sequence
// numbers (PROTOCOL.md's seq, 1, 2, 3... per join) of each sender. Its
// memory is bounded: a fixed window per sender, and senders go with
// Reset. The zero value is ready to use.
//
// It is not safe for concurrent use: the player goroutine owns it.
type SeqTracker struct {
	senders map[string]*seqState
}

// seqState is one sender's numbering.
type seqState struct {
	base   int64 // the first number counted: lower ones were never lost
	newest int64 // the highest number seen; 0 = none yet
	// seen has bit n%seqWindow set when n was seen, for n in
	// (newest-seqWindow, newest].
	seen  [seqWindow / 64]uint64
	stats SeqStats
}

// Observe accounts one event of sender numbered seq and says what it was.
func (t *SeqTracker) Observe(sender string, seq int64) SeqVerdict {
	if seq < 1 {
		return SeqVerdict{Kind: SeqNone}
	}
	s := t.state(sender)
	switch {
	case s.newest == 0:
		s.restart(seq)
		return SeqVerdict{Kind: SeqInOrder}
	case seq > s.newest:
		missing := seq - s.newest - 1
		s.advance(seq)
		s.stats.Received++
		if missing == 0 {
			return SeqVerdict{Kind: SeqInOrder}
		}
		s.stats.Lost += missing
		return SeqVerdict{Kind: SeqGap, Missing: missing}
	case s.newest-seq >= seqWindow:
		s.restart(seq)
		s.stats.Restarts++
		return SeqVerdict{Kind: SeqRestart}
	case s.has(seq):
		s.stats.Duplicates++
		return SeqVerdict{Kind: SeqDuplicate}
	default:
		s.mark(seq)
		s.stats.Received++
		s.stats.Reordered++
		if seq > s.base { // its gap was counted lost
			s.stats.Lost--
		}
		return SeqVerdict{Kind: SeqLate}
	}
}

// Reset forgets sender: call it when they leave or rejoin (their
// numbering starts again at 1).
func (t *SeqTracker) Reset(sender string) {
	delete(t.senders, sender)
}

// Stats returns sender's counters; zero for a sender never seen or reset.
func (t *SeqTracker) Stats(sender string) SeqStats {
	if s := t.senders[sender]; s != nil {
		return s.stats
	}
	return SeqStats{}
}

func (t *SeqTracker) state(sender string) *seqState {
	s := t.senders[sender]
	if s == nil {
		if t.senders == nil {
			t.senders = make(map[string]*seqState)
		}
		s = new(seqState)
		t.senders[sender] = s
	}
	return s
}

// restart counts from seq on, keeping the counters.
func (s *seqState) restart(seq int64) {
	s.seen = [seqWindow / 64]uint64{}
	s.base, s.newest = seq, seq
	s.mark(seq)
	s.stats.Received++
}

// advance makes seq (> newest) the newest, clearing the bits of the
// numbers that enter the window unseen.
func (s *seqState) advance(seq int64) {
	if seq-s.newest >= seqWindow {
		s.seen = [seqWindow / 64]uint64{}
	} else {
		for n := s.newest + 1; n < seq; n++ {
			s.seen[n%seqWindow/64] &^= 1 << (n % 64)
		}
	}
	s.newest = seq
	s.mark(seq)
}

func (s *seqState) mark(seq int64) { s.seen[seq%seqWindow/64] |= 1 << (seq % 64) }

func (s *seqState) has(seq int64) bool { return s.seen[seq%seqWindow/64]&(1<<(seq%64)) != 0 }
