package redisbroker

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/jambridge/jambridge/relay"
)

// maxKnownAddrs bounds the address hashes a session keeps in a:<code>.
// Overflow policy: past it, a new member's address is not recorded, so
// its returns from a limited address wait out the limit like anyone's
// (as on a single relay).
const maxKnownAddrs = 256

// storedKey is a session's key as Redis holds it: salt and sum in hex,
// both "" for an open session. In a join, sum is the proof: the offered
// secret hashed with salt.
type storedKey struct{ salt, sum string }

func keyOf(k relay.SessionKey) storedKey {
	if len(k.Salt) == 0 {
		return storedKey{}
	}
	return storedKey{hex.EncodeToString(k.Salt), hex.EncodeToString(k.Sum)}
}

// sessionKey decodes k; an error means Redis holds something no node
// wrote.
func (k storedKey) sessionKey() (relay.SessionKey, error) {
	if k.salt == "" {
		return relay.SessionKey{}, nil
	}
	salt, err := hex.DecodeString(k.salt)
	if err != nil {
		return relay.SessionKey{}, fmt.Errorf("session salt in redis: %w", err)
	}
	sum, err := hex.DecodeString(k.sum)
	if err != nil {
		return relay.SessionKey{}, fmt.Errorf("session sum in redis: %w", err)
	}
	return relay.SessionKey{Salt: salt, Sum: sum}, nil
}

// proved is the key a join offers: the stored salt and the proof made
// with it. A salt that is not hex gets a proof of nothing, refused.
func proved(saltHex string, proof func(salt []byte) []byte) storedKey {
	salt, err := hex.DecodeString(saltHex)
	if err != nil {
		return storedKey{saltHex, ""}
	}
	return storedKey{saltHex, hex.EncodeToString(proof(salt))}
}

// addrHash is what Redis keeps of a client address: the first 16 bytes
// of its SHA-256, in hex, so no address is stored in the clear. ""
// stays "".
func addrHash(addr string) string {
	if addr == "" {
		return ""
	}
	sum := sha256.Sum256([]byte("jambridge addr|" + addr))
	return hex.EncodeToString(sum[:16])
}
