package relay

import (
	"strings"
	"testing"
)

func TestValidRoomCode(t *testing.T) {
	for _, tc := range []struct {
		code string
		want bool
	}{
		{"MUSIC-42", true}, {"k7qm-3xrd", true}, {"abc", true}, {strings.Repeat("A", 32), true},
		{"ab", false}, {strings.Repeat("A", 33), false}, {"", false},
		{"my room", false}, {"ÄÖÜ", false}, {"room_1", false}, {"room\n", false},
	} {
		if got := ValidRoomCode(tc.code); got != tc.want {
			t.Errorf("ValidRoomCode(%q) = %v, want %v", tc.code, got, tc.want)
		}
	}
}

// The server and ValidRoomCode keep one rule: whatever the server takes,
// clients take, and the other way round.
func FuzzValidRoomCodeAgreesWithTheServer(f *testing.F) {
	for _, s := range []string{"MUSIC-42", "ab", "my room", "K7QM-3XRD", strings.Repeat("z", 33), "\xff\xfe\xfd"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, code string) {
		_, server := normalizeRoomCode(code)
		if client := ValidRoomCode(code); client != server {
			t.Errorf("%q: ValidRoomCode %v, the server %v", code, client, server)
		}
	})
}
