package relay

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// readMessage reads a whole message whatever the reads' sizes, beyond
// the pooled buffer's size too, and gives back a buffer that a later
// message may reuse.
func TestReadMessage(t *testing.T) {
	for _, size := range []int{0, 1, 200, 512, keptMessageBuffer + 1, 70000} {
		want := bytes.Repeat([]byte("a"), size)
		for name, r := range map[string]io.Reader{
			"whole":         bytes.NewReader(want),
			"byte by byte":  iotest.OneByteReader(bytes.NewReader(want)),
			"data with EOF": iotest.DataErrReader(bytes.NewReader(want)),
		} {
			bp, err := readMessage(r)
			if err != nil {
				t.Fatalf("%d bytes, %s: %v", size, name, err)
			}
			if !bytes.Equal(*bp, want) {
				t.Fatalf("%d bytes, %s: read %d bytes", size, name, len(*bp))
			}
			putMessage(bp)
			if size > keptMessageBuffer && len(*bp) != size {
				t.Fatalf("%d bytes: a big message's buffer was emptied for the pool", size)
			}
		}
	}
}

// A failed read (the read limit, a broken connection) returns its error
// and no message.
func TestReadMessageError(t *testing.T) {
	boom := errors.New("boom")
	bp, err := readMessage(io.MultiReader(strings.NewReader("partial"), iotest.ErrReader(boom)))
	if bp != nil || !errors.Is(err, boom) {
		t.Fatalf("readMessage = %v, %v; want nil, %v", bp, err, boom)
	}
}
