package redisbroker

import (
	"bytes"
	"crypto/sha256"
	"testing"

	"github.com/jambridge/jambridge/relay"
)

func TestStoredKeyRoundTrip(t *testing.T) {
	salt := bytes.Repeat([]byte{7}, 16)
	sum := sha256.Sum256(append(salt, "pw"...))
	want := relay.SessionKey{Salt: salt, Sum: sum[:]}
	got, err := keyOf(want).sessionKey()
	if err != nil || !bytes.Equal(got.Salt, want.Salt) || !bytes.Equal(got.Sum, want.Sum) {
		t.Errorf("round trip of a key = %+v, %v; want %+v", got, err, want)
	}
	if k := keyOf(relay.SessionKey{}); k != (storedKey{}) {
		t.Errorf("an open session's stored key = %+v, want empty", k)
	}
	if got, err := (storedKey{}).sessionKey(); err != nil || got.Salt != nil || got.Sum != nil {
		t.Errorf("an empty stored key decodes to %+v, %v; want the open session's", got, err)
	}
	proof := proved(keyOf(want).salt, func(s []byte) []byte {
		h := sha256.Sum256(append(s, "pw"...))
		return h[:]
	})
	if proof != keyOf(want) {
		t.Errorf("the proof of the right secret = %+v, want the stored key %+v", proof, keyOf(want))
	}
	if a, b := addrHash("192.0.2.1"), addrHash("192.0.2.2"); a == b || len(a) != 32 || addrHash("") != "" {
		t.Errorf("address hashes %q and %q: want 32 hex digits each, different", a, b)
	}
}

// FuzzStoredKey decodes whatever Redis might hold as a key: an error or
// the bytes that encode back to it, never a panic.
func FuzzStoredKey(f *testing.F) {
	f.Add("", "")
	f.Add("07070707070707070707070707070707", "00ff")
	f.Add("zz", "0")
	f.Add("0", "")
	f.Fuzz(func(t *testing.T, salt, sum string) {
		k, err := storedKey{salt, sum}.sessionKey()
		if err != nil || salt == "" {
			return
		}
		if back := keyOf(k); len(k.Salt) > 0 && (len(back.salt) != len(salt) || len(back.sum) != len(sum)) {
			t.Errorf("%q %q decoded to %+v, which encodes to %+v", salt, sum, k, back)
		}
	})
}
