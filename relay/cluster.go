package relay

import (
	"context"
	"encoding/json"
	"errors"
	"time"
)

// Cluster shares sessions between relay nodes: codes, presence and the
// events of members on other nodes. Config.Cluster is nil on a relay of
// its own, and then nothing of this file runs. The Redis implementation
// is package relay/redisbroker; cmd/jamrelay wires it.
//
// The hub calls Create and Join with the joining socket's memberMu held
// (never hub.mu or a room's lock), so they may wait on the network. Every
// other method must not block: Publish and Leave queue, in the order
// they are called, and a member's leave is published after its events.
type Cluster interface {
	// Bind hands the cluster the relay's side, once, before any other
	// call: where events and presence from other nodes go.
	Bind(peer ClusterPeer)
	// Create claims code for a new session whose first member is p,
	// storing e.Key with it (and keeping it for re-assertion).
	// ErrClusterCodeTaken: the code is claimed already.
	Create(ctx context.Context, code string, p Participant, e Entry) error
	// Join adds p to the session code, within maxMembers across the
	// cluster, and returns every member, p included, and the session's
	// key. The secret (e.Proof) and the failed-join limit (e.Limited)
	// are checked in the same atomic step that adds p: a join refused
	// is heard by nobody. ErrClusterNotFound, ErrClusterForbidden,
	// ErrClusterLimited, ErrClusterFull: as they say.
	Join(ctx context.Context, code string, p Participant, e Entry, maxMembers int) ([]Participant, SessionKey, error)
	// Leave takes member id out of the session code on every node.
	Leave(code, id string)
	// Publish sends one relayed packet of session code to the other
	// nodes with members there; release marks an event that ends a
	// sound. It never blocks: an event that cannot go is dropped and
	// counted. packet is lent for the call (the relay builds the next
	// event in the same buffer): copy what is kept.
	Publish(code string, packet []byte, release bool)
}

// Errors a Cluster returns. Any other error means the cluster cannot be
// reached: the relay then serves the session from its own members, and
// the cluster re-asserts them once it is back.
var (
	ErrClusterCodeTaken = errors.New("session code taken in the cluster")
	ErrClusterNotFound  = errors.New("session not found in the cluster")
	ErrClusterFull      = errors.New("session full in the cluster")
	ErrClusterForbidden = errors.New("session secret missing or wrong in the cluster")
	ErrClusterLimited   = errors.New("too many failed joins from an address no member came from")
)

// SessionKey is a private session's secret as a cluster stores it: the
// salt and the SHA-256 of salt and secret (roomSecret), never the secret
// itself. The zero SessionKey is an open session.
type SessionKey struct {
	Salt, Sum []byte
}

// Entry is what a create or join brings to the cluster besides the
// participant.
type Entry struct {
	// Key is the new session's key (Create only).
	Key SessionKey
	// Proof hashes the secret the join offers with a private session's
	// salt (Join only); the cluster compares the result with the stored
	// Sum without a timing that tells anything of it.
	Proof func(salt []byte) []byte
	// Addr is the client's address. Every create or join that succeeds
	// records it as a member's address of the session (the cluster may
	// keep only a hash of it); with Limited set (the address is over
	// this node's failed-join limit) Join admits it only when a member
	// of the session came from Addr: a member's return is never slowed.
	Addr    string
	Limited bool
}

// ClusterPeer is what a Cluster calls back into: the relay's local
// members of each session. Its methods never block and are safe for
// concurrent use; a cluster calls them in the order it received what
// they deliver (one receiving goroutine keeps each sender's order).
type ClusterPeer interface {
	// RemoteEvent delivers a packet relayed by another node to the local
	// members of session code.
	RemoteEvent(code string, packet []byte, release bool)
	// RemoteJoined and RemoteLeft tell the local members of code that a
	// member of another node joined or left.
	RemoteJoined(code string, p Participant)
	RemoteLeft(code, id string)
}

// clusterTimeout bounds one Create or Join in the cluster; past it the
// relay serves the session from its own members.
const clusterTimeout = 2 * time.Second

// clusterPeer is the relay's ClusterPeer: the hub seen from other nodes.
type clusterPeer struct{ h *hub }

// localRoom returns the live local session code, nil when it has no
// local member.
func (h *hub) localRoom(code string) *room {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.rooms[code]
}

func (c clusterPeer) RemoteEvent(code string, packet []byte, release bool) {
	r := c.h.localRoom(code)
	if r == nil {
		return
	}
	p := relayedPacket{b: packet, kept: packet} // the broker's to give: queues keep it as is
	r.mu.RLock()
	defer r.mu.RUnlock()
	relayEach(r.members, nil, &p, !release)
}

func (c clusterPeer) RemoteJoined(code string, p Participant) {
	user, _ := json.Marshal(struct {
		User Participant `json:"user"`
	}{p})
	c.broadcast(code, AppendEvent(nil, -1, "session:user-joined", user))
}

func (c clusterPeer) RemoteLeft(code, id string) {
	left, _ := json.Marshal(struct {
		UserID string `json:"userId"`
	}{id})
	c.broadcast(code, AppendEvent(nil, -1, "session:user-left", left))
}

// broadcast sends presence to every local member of code, under the
// room's write lock as local presence is.
func (c clusterPeer) broadcast(code string, msg []byte) {
	r := c.h.localRoom(code)
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, o := range r.members {
		o.s.send(msg, false)
	}
}

// claimCode claims code (a new random one when empty) in the cluster for
// p's new session. It returns the code to use; a cluster out of reach
// leaves the claim to its re-assertion and the code to the local hub.
func (h *hub) claimCode(code string, p Participant, e Entry) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), clusterTimeout)
	defer cancel()
	random := code == ""
	for {
		if random {
			code = newRoomCode()
		}
		err := h.cluster.Create(ctx, code, p, e)
		switch {
		case errors.Is(err, ErrClusterCodeTaken) && random:
			continue
		case errors.Is(err, ErrClusterCodeTaken):
			return "", errSessionExists
		}
		return code, nil // claimed, or the cluster is out of reach
	}
}

// joinCluster adds p, coming from addr with a, to session code in the
// cluster. It returns every member and the session's key, or nil with a
// nil error when the cluster is out of reach and the local session
// decides.
func (h *hub) joinCluster(code string, p Participant, addr string, a access) ([]Participant, *roomSecret, error) {
	ctx, cancel := context.WithTimeout(context.Background(), clusterTimeout)
	defer cancel()
	e := Entry{Proof: func(salt []byte) []byte { return hashSecret(salt, a.secret) }, Addr: addr, Limited: a.limited}
	all, key, err := h.cluster.Join(ctx, code, p, e, h.maxMembers)
	switch {
	case errors.Is(err, ErrClusterNotFound):
		return nil, nil, errSessionNotFound
	case errors.Is(err, ErrClusterForbidden):
		return nil, nil, errNoEntry
	case errors.Is(err, ErrClusterLimited):
		return nil, nil, errJoinLimited
	case errors.Is(err, ErrClusterFull):
		return nil, nil, errSessionFull
	case err != nil:
		return nil, nil, nil
	}
	return all, roomSecretOf(key), nil
}

// roomFor returns the live local room code, made with key when missing:
// a member joining a session whose other members are all on other nodes.
func (h *hub) roomFor(code string, key *roomSecret) *room {
	h.mu.Lock()
	defer h.mu.Unlock()
	if r := h.rooms[code]; r != nil {
		return r
	}
	r := &room{code: code, key: key}
	h.rooms[code] = r
	return r
}

// joinClustered is join on a relay in a cluster, with s.memberMu held.
func (h *hub) joinClustered(s *socket, code string, p Participant, a access) (*member, error) {
	all, key, err := h.joinCluster(code, p, s.addr, a)
	if err != nil {
		return nil, err // and s stays where it is; nobody heard of it
	}
	limit := all == nil // the cluster is out of reach: the local session decides
	if limit {
		r := h.localRoom(code)
		if r == nil {
			err = errSessionNotFound
		} else {
			err = r.canJoin(h.maxMembers, s.addr, a, true)
		}
		if err != nil {
			h.cluster.Leave(code, p.ID) // forget it for the re-assertion
			return nil, err
		}
	}
	if !limit {
		// The cluster checked the secret and the limit (against the
		// addresses of every node's members) as it added p, and told the
		// others: it decides, so a local room made during an outage with
		// another key cannot refuse a join already announced.
		a = access{admitted: true}
	}
	h.leaveLocked(s)
	for {
		m, err := h.add(h.roomFor(code, key), s, p, limit, a)
		switch {
		case errors.Is(err, errSessionNotFound) && !limit:
			continue // its last local member left meanwhile: a new room
		case err != nil:
			h.cluster.Leave(code, p.ID)
			return nil, err
		}
		m.all = all
		return m, nil
	}
}

// undoClaim gives back the claim of a session that could not be made
// locally after all; err is the caller's result.
func (h *hub) undoClaim(code, id string, err *error) {
	if *err != nil {
		h.cluster.Leave(code, id)
	}
}
