package relay

import (
	"testing"
	"time"
)

// What a CONNECT pays for its token check on a relay with an auth secret.
func BenchmarkVerifyToken(b *testing.B) {
	now := time.Now()
	tok, err := SignToken(fuzzSecret, TokenClaims{Room: "GIG-1", Name: "Ada", Expires: now.Add(time.Hour)})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := VerifyToken(fuzzSecret, tok, now); err != nil {
			b.Fatal(err)
		}
	}
}

// What a join of a private session pays for its secret check.
func BenchmarkSecretCheck(b *testing.B) {
	k := newRoomSecret("green-tambourine")
	b.ReportAllocs()
	for b.Loop() {
		if !k.admits("green-tambourine") {
			b.Fatal("refused")
		}
	}
}
