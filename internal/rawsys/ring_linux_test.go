package rawsys_test

import (
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/jambridge/jambridge/internal/rawsys"
	"github.com/jambridge/jambridge/internal/tcppair"
)

// fdOf returns c's descriptor; c stays open until the test ends.
func fdOf(t testing.TB, c net.Conn) uintptr {
	var fd uintptr
	if err := rawsys.Conn(c).Control(func(f uintptr) { fd = f }); err != nil {
		t.Fatal(err)
	}
	return fd
}

func newRing(t testing.TB, entries uint32) *rawsys.Ring {
	r, err := rawsys.NewRing(entries)
	if err != nil {
		t.Fatalf("this kernel (5.19 or later) should give an io_uring: %v", err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// One submission makes each socket's send, and says for each what
// send(2) would: the bytes taken, all of them on a socket with room;
// EAGAIN on a socket whose buffers are full, nothing taken; part of a
// message larger than the room left; EPIPE (and no SIGPIPE: the test
// would die of it) on a socket shut for writing.
func TestRingSendsOnEverySocketAndSaysWhatEachTook(t *testing.T) {
	free, freePeer := tcppair.New(t)
	full, _ := tcppair.New(t)
	shut, _ := tcppair.New(t)
	part, partPeer := tcppair.New(t)
	tcppair.Fill(t, full) // its peer never reads
	if err := shut.(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	partPeer.(*net.TCPConn).SetReadBuffer(4096)
	part.(*net.TCPConn).SetWriteBuffer(4096)

	r := newRing(t, 8)
	msg := []byte("\x81\x05hello")
	big := make([]byte, 16<<20)
	fds := []uintptr{fdOf(t, free), fdOf(t, full), fdOf(t, shut), fdOf(t, part)}
	bufs := [][]byte{msg, msg, msg, big}
	n, errs := make([]int, 4), make([]syscall.Errno, 4)
	if made, err := r.Send(fds, bufs, n, errs); made != len(fds) || err != nil {
		t.Fatalf("made %d of %d: %v", made, len(fds), err)
	}
	if n[0] != len(msg) || errs[0] != 0 {
		t.Errorf("socket with room: took %d, %v; want %d, no error", n[0], errs[0], len(msg))
	}
	if n[1] != 0 || errs[1] != syscall.EAGAIN {
		t.Errorf("full socket: took %d, %v; want 0, EAGAIN", n[1], errs[1])
	}
	if n[2] != 0 || errs[2] != syscall.EPIPE {
		t.Errorf("socket shut for writing: took %d, %v; want 0, EPIPE", n[2], errs[2])
	}
	if n[3] <= 0 || n[3] >= len(big) || errs[3] != 0 {
		t.Errorf("16 MB on a small socket: took %d of %d, %v; want a part, no error", n[3], len(big), errs[3])
	}
	got := make([]byte, len(msg))
	freePeer.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(freePeer, got); err != nil || string(got) != string(msg) {
		t.Errorf("received %q, %v; want %q", got, err, msg)
	}
}

// The ring is reused submission after submission: each one's results
// are its own, never a previous one's, past the ring's size many times.
func TestRingReusedManyTimes(t *testing.T) {
	a, aPeer := tcppair.New(t)
	b, bPeer := tcppair.New(t)
	go io.Copy(io.Discard, bPeer)
	r := newRing(t, 2)
	if r.Size() != 2 {
		t.Fatalf("size %d, want 2", r.Size())
	}
	fds := []uintptr{fdOf(t, a), fdOf(t, b)}
	n, errs := make([]int, 2), make([]syscall.Errno, 2)
	var want []byte
	for i := range 1000 {
		m := []byte{byte(i), byte(i >> 8)}
		want = append(want, m...)
		if made, err := r.Send(fds, [][]byte{m, m[:1]}, n, errs); made != 2 || err != nil {
			t.Fatalf("made %d of 2: %v", made, err)
		}
		if n[0] != 2 || n[1] != 1 || errs[0] != 0 || errs[1] != 0 {
			t.Fatalf("submission %d: took %v, %v; want [2 1], no errors", i, n, errs)
		}
	}
	got := make([]byte, len(want))
	aPeer.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(aPeer, got); err != nil || string(got) != string(want) {
		t.Fatalf("the first socket received %d bytes (%v), not the 2000 sent in order", len(got), err)
	}
	if made, err := r.Send([]uintptr{fds[0], fds[1], fds[0]}, [][]byte{{'x'}, {'x'}, {'x'}}, make([]int, 3), make([]syscall.Errno, 3)); made != 0 || err == nil {
		t.Errorf("three sends on a ring of two: made %d, error %v; want none and an error", made, err)
	}
}

// fourSockets returns the descriptors of four loopback TCP connections'
// sending ends, whose receiving ends are drained until the test ends.
func fourSockets(b testing.TB) []uintptr {
	fds := make([]uintptr, 4)
	for i := range fds {
		a, c := tcppair.New(b)
		go io.Copy(io.Discard, c)
		fds[i] = fdOf(b, a)
	}
	return fds
}

func cpuNow() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkFourSends: one event to four members, as four send(2) or one
// Ring.Send; cpu-ns/send is the process's CPU, the receivers' reads
// included.
func BenchmarkFourSends(b *testing.B) {
	msg := make([]byte, 150)
	b.Run("send", func(b *testing.B) {
		fds := fourSockets(b)
		c0 := cpuNow()
		for b.Loop() {
			for _, fd := range fds {
				if _, e := rawsys.Write(fd, msg); e != 0 && e != syscall.EAGAIN {
					b.Fatal(e)
				}
			}
		}
		b.ReportMetric(float64(cpuNow()-c0)/float64(4*b.N), "cpu-ns/send")
	})
	b.Run("ring", func(b *testing.B) {
		fds := fourSockets(b)
		r := newRing(b, 8)
		bufs := [][]byte{msg, msg, msg, msg}
		n, errs := make([]int, 4), make([]syscall.Errno, 4)
		c0 := cpuNow()
		for b.Loop() {
			if _, err := r.Send(fds, bufs, n, errs); err != nil {
				b.Fatal(err)
			}
			for _, e := range errs {
				if e != 0 && e != syscall.EAGAIN {
					b.Fatal(e)
				}
			}
		}
		b.ReportMetric(float64(cpuNow()-c0)/float64(4*b.N), "cpu-ns/send")
	})
}
