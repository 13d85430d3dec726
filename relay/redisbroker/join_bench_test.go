package redisbroker_test

import (
	"context"
	"crypto/sha256"
	"strconv"
	"testing"

	"github.com/jambridge/jambridge/internal/redistest"
	"github.com/jambridge/jambridge/relay"
)

// BenchmarkClusterJoin joins (and leaves) a session created on another
// node, open and private: a private join from a node with no member
// there learns the salt first, so it costs one more round trip.
func BenchmarkClusterJoin(b *testing.B) {
	redis := redistest.Start(b)
	salt := make([]byte, 16)
	sum := sha256.Sum256(append(salt, "pw"...))
	proof := func(s []byte) []byte { h := sha256.Sum256(append(s, "pw"...)); return h[:] }
	for _, c := range []struct {
		name string
		key  relay.SessionKey
	}{{"open", relay.SessionKey{}}, {"private", relay.SessionKey{Salt: salt, Sum: sum[:]}}} {
		b.Run(c.name, func(b *testing.B) {
			b1, b2 := startBroker(b, redis), startBroker(b, redis)
			ctx := context.Background()
			code := "BENCH-" + c.name
			if err := b1.Create(ctx, code, relay.Participant{ID: "host"}, relay.Entry{Key: c.key}); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := range b.N {
				id := "m" + strconv.Itoa(i)
				if _, _, err := b2.Join(ctx, code, relay.Participant{ID: id}, relay.Entry{Proof: proof}, 64); err != nil {
					b.Fatal(err)
				}
				b2.Leave(code, id)
			}
		})
	}
}
