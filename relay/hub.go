package relay

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"strings"
	"sync"
)

// Participant is one member of a session as PROTOCOL.md shows it.
type Participant struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	JoinedAt int64  `json:"joinedAt"`
	Kind     string `json:"kind,omitempty"`
}

var (
	errSessionNotFound = errors.New("session not found")
	errSessionExists   = errors.New("session exists")
	errSessionFull     = errors.New("session full")
	errNoEntry         = errors.New("secret missing or wrong")
	errJoinLimited     = errors.New("too many failed joins")
	errSocketClosed    = errors.New("socket closed")
)

// hub owns the sessions.
//
// Locks, in order: a socket's memberMu (serialises that socket's
// membership changes and guards socket.cur), then hub.mu (the map of
// rooms, nothing else), then a room's mu (its members and dead flag).
// No packet is sent under hub.mu, which every session shares. Packets
// are sent under a room's lock: presence under the write lock, relayed
// events under the read lock. That is safe because a send never blocks
// (connWriter: a non-blocking write or a bounded queue), and it is what
// keeps a member's last events ahead of its session:user-left for every
// receiver.
type hub struct {
	maxMembers int
	cluster    Cluster // nil on a relay of its own; see cluster.go

	mu    sync.Mutex // guards rooms
	rooms map[string]*room
}

// room is one session.
type room struct {
	code string
	key  *roomSecret // nil for an open session; immutable

	mu      sync.RWMutex // guards members, dead, known and each member's gone flag
	members []*member
	dead    bool                // emptied and removed from the hub: nobody may join it
	known   map[string]struct{} // client addresses members came from; see maxKnownAddrs
}

// member ties a socket to the room it is in.
type member struct {
	room *room
	s    *socket
	info Participant
	gone bool // guarded by room.mu: left, so relay nothing more from it
	// all lists the session's members across the cluster when m joined
	// through one (nil otherwise); never changed after the join.
	all []Participant
}

func newHub(maxMembers int, c Cluster) *hub {
	h := &hub{maxMembers: maxMembers, cluster: c, rooms: make(map[string]*room)}
	if c != nil {
		c.Bind(clusterPeer{h})
	}
	return h
}

// roomCodeAlphabet is Crockford's base32: no I, L, O or U to misread.
const roomCodeAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// newRoomCode returns a code like K7QM-3XRD: 8 symbols of base32 from
// 5 random bytes, so 40 bits that cannot be guessed.
func newRoomCode() string {
	var b [5]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported systems
	}
	v := uint64(b[0])<<32 | uint64(b[1])<<24 | uint64(b[2])<<16 | uint64(b[3])<<8 | uint64(b[4])
	out := make([]byte, 9)
	for i := 8; i >= 0; i-- {
		if i == 4 {
			out[i] = '-'
			continue
		}
		out[i] = roomCodeAlphabet[v&31]
		v >>= 5
	}
	return string(out)
}

// create makes a session, with code when given and private when a.secret
// is set, and puts s in it alone, leaving the session s was in.
func (h *hub) create(s *socket, code string, p Participant, a access) (_ *member, err error) {
	s.memberMu.Lock()
	defer s.memberMu.Unlock()
	if s.isClosed() {
		return nil, errSocketClosed
	}
	key := newRoomSecret(a.secret)
	if h.cluster != nil {
		c, err := h.claimCode(code, p, Entry{Key: key.sessionKey(), Addr: s.addr})
		if err != nil {
			return nil, err
		}
		defer h.undoClaim(c, p.ID, &err)
		code = c
	}
	r := &room{code: code, key: key}
	m := &member{room: r, s: s, info: p}
	r.members = []*member{m}
	r.rememberLocked(s.addr) // nobody else knows r yet
	h.mu.Lock()
	if code == "" {
		for r.code = newRoomCode(); h.rooms[r.code] != nil; r.code = newRoomCode() {
		}
	} else if h.rooms[code] != nil {
		h.mu.Unlock()
		return nil, errSessionExists
	}
	h.rooms[r.code] = r
	h.mu.Unlock()
	h.leaveLocked(s)
	s.cur = m
	return m, nil
}

// join puts s in the session code and tells the others, leaving the
// session s was in first. Joining the session s is already in returns
// its current membership. A private session wants its secret
// (errNoEntry); over the failed-join limit only a return from an
// address a member came from gets in (errJoinLimited).
func (h *hub) join(s *socket, code string, p Participant, a access) (*member, error) {
	s.memberMu.Lock()
	defer s.memberMu.Unlock()
	if s.isClosed() {
		return nil, errSocketClosed
	}
	r := h.localRoom(code)
	if r != nil && s.cur != nil && s.cur.room == r {
		return s.cur, nil
	}
	if h.cluster != nil {
		return h.joinClustered(s, code, p, a)
	}
	if r == nil {
		return nil, errSessionNotFound
	}
	if err := r.canJoin(h.maxMembers, s.addr, a, true); err != nil {
		return nil, err // and s stays where it is
	}
	h.leaveLocked(s)
	return h.add(r, s, p, true, a)
}

// add puts p's socket s in r and tells r's members; limit checks the
// members limit, which a cluster checked already otherwise. a is checked
// against r's secret and the failed-join limit.
func (h *hub) add(r *room, s *socket, p Participant, limit bool, a access) (*member, error) {
	m := &member{room: r, s: s, info: p}
	user, _ := json.Marshal(struct {
		User Participant `json:"user"`
	}{p})
	msg := AppendEvent(nil, -1, "session:user-joined", user)
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.canJoinLocked(h.maxMembers, s.addr, a, limit); err != nil {
		return nil, err // emptied, closed to a, or filled meanwhile
	}
	for _, o := range r.members {
		o.s.send(msg, false)
	}
	r.members = append(r.members, m)
	r.rememberLocked(s.addr)
	s.cur = m
	return m, nil
}

// canJoin reports why a member from addr bringing a may not join r, or
// nil; limit checks the members limit.
func (r *room) canJoin(maxMembers int, addr string, a access, limit bool) error {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.canJoinLocked(maxMembers, addr, a, limit)
}

func (r *room) canJoinLocked(maxMembers int, addr string, a access, limit bool) error {
	switch {
	case r.dead:
		return errSessionNotFound
	case !a.admitted && !r.key.admits(a.secret):
		return errNoEntry
	case !a.admitted && a.limited && !r.knowsLocked(addr):
		return errJoinLimited
	case limit && len(r.members) >= maxMembers:
		return errSessionFull
	}
	return nil
}

// leave takes s out of its session, if any, and tells the others. It
// returns the session's code, or "" when s was in none.
func (h *hub) leave(s *socket) string {
	s.memberMu.Lock()
	defer s.memberMu.Unlock()
	return h.leaveLocked(s)
}

// leaveLocked is leave for a caller holding s.memberMu. A session left
// empty is removed.
func (h *hub) leaveLocked(s *socket) string {
	m := s.cur
	if m == nil {
		return ""
	}
	s.cur = nil
	r := m.room
	left, _ := json.Marshal(struct {
		UserID string `json:"userId"`
	}{m.info.ID})
	msg := AppendEvent(nil, -1, "session:user-left", left)
	r.mu.Lock()
	m.gone = true
	kept := r.members[:0]
	for _, o := range r.members {
		if o != m {
			kept = append(kept, o)
			o.s.send(msg, false)
		}
	}
	clear(r.members[len(kept):])
	r.members = kept
	empty := len(kept) == 0
	r.mu.Unlock()
	if h.cluster != nil {
		h.cluster.Leave(r.code, m.info.ID) // after its events: see relay
	}
	if empty {
		h.remove(r)
	}
	return r.code
}

// remove deletes r from the hub if it is still empty.
func (h *hub) remove(r *room) {
	h.mu.Lock()
	defer h.mu.Unlock()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.members) == 0 && !r.dead {
		r.dead = true
		if h.rooms[r.code] == r {
			delete(h.rooms, r.code)
		}
	}
}

// member returns the session membership of s, nil when it is in none.
func (s *socket) member() *member {
	s.memberMu.Lock()
	defer s.memberMu.Unlock()
	return s.cur
}

// participants lists the members of m's session.
func (m *member) participants() []Participant {
	if m.all != nil {
		return m.all
	}
	m.room.mu.RLock()
	defer m.room.mu.RUnlock()
	out := make([]Participant, len(m.room.members))
	for i, o := range m.room.members {
		out[i] = o.info
	}
	return out
}

// relay sends p, encoded once, to every other member of m's session;
// release marks an event that ends a sound (endsASound), which a full
// send queue keeps while it can drop others. It returns how many members
// it reached; a member that has left relays nothing. Nothing it calls
// keeps p's bytes: receivers that queue the packet keep p.keep().
func (m *member) relay(p *relayedPacket, release bool) int {
	r := m.room
	r.mu.RLock()
	defer r.mu.RUnlock()
	if m.gone {
		return 0
	}
	n := relayEach(r.members, m, p, !release)
	if c := m.s.srv.hub.cluster; c != nil {
		c.Publish(r.code, p.b, release) // under the lock: ahead of m's leave
	}
	return n
}

// is reports whether code, as a client wrote it, names r: it is a valid
// room code and, upper-cased, r's code (normalizeRoomCode without its
// copy; r's code is upper case).
func (r *room) is(code []byte) bool {
	return len(code) <= MaxRoomCode && ValidRoomCode(string(code)) && strings.EqualFold(string(code), r.code)
}

// count returns the number of sessions.
func (h *hub) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.rooms)
}
