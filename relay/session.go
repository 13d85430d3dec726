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
	errSocketClosed    = errors.New("socket closed")
)

// hub owns the sessions. Lock order: hub.mu, then room.mu. Membership
// changes (create, join, leave) take both; relaying an event takes only
// the room's read lock, so sessions never contend with each other.
type hub struct {
	maxMembers int

	mu    sync.Mutex // guards rooms
	rooms map[string]*room
}

// room is one session.
type room struct {
	code string

	mu      sync.RWMutex // guards members and each member's gone flag
	members []*member
}

// member ties a socket to the room it is in.
type member struct {
	room *room
	s    *socket
	info Participant
	gone bool // guarded by room.mu: left, so relay nothing more from it
}

func newHub(maxMembers int) *hub {
	return &hub{maxMembers: maxMembers, rooms: make(map[string]*room)}
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

// normalizeRoomCode upper-cases code and reports whether it is a valid
// room code: letters, digits and '-', 3 to 32 characters.
func normalizeRoomCode(code string) (string, bool) {
	if len(code) < 3 || len(code) > 32 {
		return "", false
	}
	for i := 0; i < len(code); i++ {
		c := code[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return "", false
		}
	}
	return strings.ToUpper(code), true
}

// create makes a session, with code when given, and puts s in it alone.
func (h *hub) create(s *socket, code string, p Participant) (*member, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if s.isClosed() {
		return nil, errSocketClosed
	}
	if code == "" {
		for code = newRoomCode(); h.rooms[code] != nil; code = newRoomCode() {
		}
	} else if h.rooms[code] != nil {
		return nil, errSessionExists
	}
	h.leaveLocked(s)
	r := &room{code: code}
	m := &member{room: r, s: s, info: p}
	r.members = []*member{m}
	h.rooms[code] = r
	s.cur.Store(m)
	return m, nil
}

// join puts s in the session code and tells the others. Joining the
// session s is already in returns its current membership.
func (h *hub) join(s *socket, code string, p Participant) (*member, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if s.isClosed() {
		return nil, errSocketClosed
	}
	r := h.rooms[code]
	if r == nil {
		return nil, errSessionNotFound
	}
	if m := s.cur.Load(); m != nil && m.room == r {
		return m, nil
	}
	if len(r.members) >= h.maxMembers {
		return nil, errSessionFull
	}
	h.leaveLocked(s)
	m := &member{room: r, s: s, info: p}
	user, _ := json.Marshal(struct {
		User Participant `json:"user"`
	}{p})
	msg := AppendEvent(nil, -1, "session:user-joined", user)
	r.mu.Lock()
	for _, o := range r.members {
		o.s.send(msg, false)
	}
	r.members = append(r.members, m)
	r.mu.Unlock()
	s.cur.Store(m)
	return m, nil
}

// leave takes s out of its session, if any, and tells the others. It
// returns the session's code, or "" when s was in none.
func (h *hub) leave(s *socket) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.leaveLocked(s)
}

func (h *hub) leaveLocked(s *socket) string {
	m := s.cur.Swap(nil)
	if m == nil {
		return ""
	}
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
	if empty {
		delete(h.rooms, r.code)
	}
	return r.code
}

// participants lists the members of m's session.
func (m *member) participants() []Participant {
	m.room.mu.RLock()
	defer m.room.mu.RUnlock()
	out := make([]Participant, len(m.room.members))
	for i, o := range m.room.members {
		out[i] = o.info
	}
	return out
}

// relay sends msg, encoded once, to every other member of m's session.
// It returns how many members it reached; a member that has left relays
// nothing.
func (m *member) relay(msg []byte) int {
	r := m.room
	r.mu.RLock()
	defer r.mu.RUnlock()
	if m.gone {
		return 0
	}
	n := 0
	for _, o := range r.members {
		if o != m {
			o.s.send(msg, true)
			n++
		}
	}
	return n
}

// count returns the number of sessions.
func (h *hub) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.rooms)
}
