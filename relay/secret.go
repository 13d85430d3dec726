package relay

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
)

// maxSecretLen bounds a session's secret, in bytes.
const maxSecretLen = 256

// maxKnownAddrs bounds the client addresses a session remembers as its
// members'. Overflow policy: past it, a new member's address is not
// remembered, so its returns wait out the failed-join limit like anyone's.
const maxKnownAddrs = 256

// roomSecret is a private session's secret, stored salted and hashed:
// the secret itself is never kept, logged or echoed. nil is an open
// session. Immutable once made.
type roomSecret struct {
	salt [16]byte
	sum  [sha256.Size]byte
}

func newRoomSecret(secret string) *roomSecret {
	if secret == "" {
		return nil
	}
	k := &roomSecret{}
	if _, err := rand.Read(k.salt[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported systems
	}
	k.sum = k.hash(secret)
	return k
}

func (k *roomSecret) hash(secret string) [sha256.Size]byte {
	return sumSecret(k.salt[:], secret)
}

// sumSecret is the SHA-256 of salt and secret: what a session stores.
func sumSecret(salt []byte, secret string) [sha256.Size]byte {
	h := sha256.New()
	h.Write(salt)
	h.Write([]byte(secret))
	var out [sha256.Size]byte
	h.Sum(out[:0])
	return out
}

// hashSecret is sumSecret as a slice: a cluster's proof (Entry.Proof).
func hashSecret(salt []byte, secret string) []byte {
	out := sumSecret(salt, secret)
	return out[:]
}

// sessionKey is k as a cluster stores it; the zero SessionKey for an
// open session.
func (k *roomSecret) sessionKey() SessionKey {
	if k == nil {
		return SessionKey{}
	}
	return SessionKey{Salt: k.salt[:], Sum: k.sum[:]}
}

// roomSecretOf is the roomSecret of a cluster's key: nil for an open
// session. A key of the wrong size (a cluster's bug) admits nobody.
func roomSecretOf(key SessionKey) *roomSecret {
	if len(key.Salt) == 0 && len(key.Sum) == 0 {
		return nil
	}
	k := &roomSecret{}
	if len(key.Salt) != len(k.salt) || len(key.Sum) != len(k.sum) {
		if _, err := rand.Read(k.sum[:]); err != nil {
			panic(err) // crypto/rand does not fail on supported systems
		}
		return k // no secret hashes to random bytes
	}
	copy(k.salt[:], key.Salt)
	copy(k.sum[:], key.Sum)
	return k
}

// admits reports whether secret opens the session, comparing in
// constant time. An open session admits any secret.
func (k *roomSecret) admits(secret string) bool {
	if k == nil {
		return true
	}
	sum := k.hash(secret)
	return subtle.ConstantTimeCompare(sum[:], k.sum[:]) == 1
}

// access is what a create or join brings besides the code and the
// participant: the secret it offers, and whether its client address is
// over the failed-join limit (joinLimiter).
type access struct {
	secret  string
	limited bool
	// admitted: the cluster checked the secret and the limit already.
	admitted bool
}

// knowsLocked reports whether a member of r has come from addr; r.mu held.
func (r *room) knowsLocked(addr string) bool {
	_, ok := r.known[addr]
	return ok
}

// rememberLocked records addr as a member's; r.mu held for writing.
func (r *room) rememberLocked(addr string) {
	if r.known == nil {
		r.known = make(map[string]struct{})
	}
	if len(r.known) < maxKnownAddrs {
		r.known[addr] = struct{}{}
	}
}
