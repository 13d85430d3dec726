package tcppair_test

import (
	"io"
	"testing"

	"github.com/jambridge/jambridge/internal/tcppair"
)

// The two ends are connected to each other.
func TestEndsAreConnected(t *testing.T) {
	c, s := tcppair.New(t)
	if _, err := c.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, 4)
	if _, err := io.ReadFull(s, got); err != nil || string(got) != "ping" {
		t.Fatalf("the server read %q, %v; want \"ping\"", got, err)
	}
}
