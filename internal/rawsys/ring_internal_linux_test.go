package rawsys

import (
	"io"
	"syscall"
	"testing"

	"github.com/jambridge/jambridge/internal/tcppair"
)

// A ring that cannot enter the kernel makes none of the sends, says so,
// and leaves no entry behind: once it can again, the next submission
// makes exactly its own sends.
func TestRingThatCannotEnterMakesNothingAndLeavesNothing(t *testing.T) {
	r, err := NewRing(4)
	if err != nil {
		t.Fatalf("this kernel (5.19 or later) should give an io_uring: %v", err)
	}
	defer r.Close()
	a, peer := tcppair.New(t)
	var fd uintptr
	Conn(a).Control(func(f uintptr) { fd = f })
	n, errs := make([]int, 2), make([]syscall.Errno, 2)
	good := r.fd
	r.fd = -1
	made, err := r.Send([]uintptr{fd, fd}, [][]byte{[]byte("lost"), []byte("lost")}, n, errs)
	r.fd = good
	if made != 0 || err == nil {
		t.Fatalf("a ring without its descriptor made %d sends, error %v; want 0 and an error", made, err)
	}
	made, err = r.Send([]uintptr{fd, fd}, [][]byte{[]byte("ab"), []byte("c")}, n, errs)
	if made != 2 || err != nil || n[0] != 2 || n[1] != 1 {
		t.Fatalf("made %d (%v), took %v; want 2 sends of 2 and 1 bytes", made, err, n)
	}
	got := make([]byte, 3)
	if _, err := io.ReadFull(peer, got); err != nil || string(got) != "abc" {
		t.Fatalf("received %q, %v; want abc and nothing of the failed submission", got, err)
	}
}
