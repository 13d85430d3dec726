package main

import (
	"context"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/gorilla/websocket"

	"github.com/jambridge/jambridge/internal/tcppair"
)

// rawFd returns c's descriptor for a test that reads it itself.
func rawFd(t *testing.T, c syscall.Conn) int {
	t.Helper()
	rc, err := c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	fd := -1
	if err := rc.Control(func(f uintptr) { fd = int(f) }); err != nil {
		t.Fatal(err)
	}
	return fd
}

// With stamps on, a read carries the kernel's time of queueing the data:
// after the write began and before the reader even saw the socket ready,
// not the time of the read. The kernel turns stamping on a moment after
// the first socket asks for it (a deferred static key), and a rare
// segment comes without a stamp (jamload then charges the read's time):
// the test writes until a read carries one, 5 s at most.
func TestReadStampedCarriesTheKernelsQueueTime(t *testing.T) {
	client, server := tcppair.New(t)
	fd := rawFd(t, server.(syscall.Conn))
	if err := enableRxStamps(fd); err != nil {
		t.Fatal(err)
	}
	var oob rxStamps
	buf := make([]byte, 64)
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		before := time.Now().UnixNano()
		if _, err := client.Write([]byte("hello")); err != nil {
			t.Fatal(err)
		}
		tcppair.AwaitEvents(t, server, syscall.EPOLLIN)
		ready := time.Now().UnixNano()
		n, queued, err := readStamped(fd, buf, &oob)
		if err != nil || string(buf[:n]) != "hello" {
			t.Fatalf("read %q, %v", buf[:n], err)
		}
		if queued == 0 {
			continue
		}
		if queued < before || queued > ready {
			t.Errorf("stamp %d ns after the write began, socket seen ready %d ns after it; want the stamp between the two",
				queued-before, ready-before)
		}
		return
	}
	t.Fatal("no read carried a kernel stamp in 5 s")
}

// Without stamps asked for, a read carries none.
func TestReadWithoutStampsFallsBackToTheRead(t *testing.T) {
	client, server := tcppair.New(t)
	fd := rawFd(t, server.(syscall.Conn))
	if _, err := client.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	tcppair.AwaitEvents(t, server, syscall.EPOLLIN)
	var oob rxStamps
	n, queued, err := readStamped(fd, make([]byte, 8), &oob)
	if err != nil || n != 1 || queued != 0 {
		t.Fatalf("read %d bytes, stamp %d, %v; want 1 byte and no stamp", n, queued, err)
	}
}

// queuedAt refuses a control message whose length runs past the buffer.
func TestQueuedAtRefusesATruncatedMessage(t *testing.T) {
	var oob rxStamps
	b := oob.bytes()
	h := (*syscall.Cmsghdr)(unsafe.Pointer(&b[0]))
	h.Level, h.Type = syscall.SOL_SOCKET, syscall.SCM_TIMESTAMPNS
	h.SetLen(len(b) + 8)
	if got := queuedAt(b); got != 0 {
		t.Errorf("stamp %d from a message longer than its buffer, want 0", got)
	}
}

// readLoop asks for stamps itself: the messages it hands on carry the
// kernel's queueing time, between the server's write and the read. The
// two go in lockstep, one message at a time, until one carries a stamp
// (the kernel turns stamping on a moment after the first socket asks),
// 5000 messages at most.
func TestReadLoopHandsOnKernelStamps(t *testing.T) {
	sends, more := make(chan int64), make(chan bool)
	u := gorillaServer(t, func(ws *websocket.Conn) {
		for {
			before := time.Now().UnixNano()
			if err := ws.WriteMessage(websocket.TextMessage, []byte("m")); err != nil {
				t.Errorf("server write: %v", err)
				return
			}
			sends <- before
			if !<-more {
				return
			}
		}
	})
	c, err := dialWS(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	defer c.close()
	var got rxTime
	var sent int64
	n := 0
	err = c.readLoop(func(op byte, msg []byte, at rxTime) bool {
		sent, got, n = <-sends, at, n+1
		again := at.queued == 0 && n < 5000
		more <- again
		return again
	})
	if err != nil || got.queued == 0 {
		t.Fatalf("no message of %d carried a kernel stamp (%v)", n, err)
	}
	if got.queued < sent || got.queued > got.read {
		t.Errorf("stamp %d ns after the write began, read %d ns after it; want the stamp between the two", got.queued-sent, got.read-sent)
	}
}

// appendCmsg writes one control message (level SOL_SOCKET, type typ,
// payload data) into oob at off, as the kernel lays them out, and
// returns the offset of the next.
func appendCmsg(oob []byte, off int, typ int32, data []byte) int {
	h := (*syscall.Cmsghdr)(unsafe.Pointer(&oob[off]))
	h.Level, h.Type = syscall.SOL_SOCKET, typ
	h.SetLen(syscall.CmsgLen(len(data)))
	copy(oob[off+syscall.CmsgLen(0):], data)
	return off + syscall.CmsgSpace(len(data))
}

// queuedAt reads both layouts of the stamp, the 64-bit one of
// SO_TIMESTAMPNS_NEW and the native timespec of the old option, and
// finds it behind another control message.
func TestQueuedAtReadsBothStampsBehindOtherMessages(t *testing.T) {
	const want = int64(1_795_000_000_123_456_789)
	newTS := kernelTimespec{sec: want / 1e9, nsec: want % 1e9}
	oldTS := syscall.NsecToTimespec(want)
	tests := []struct {
		name string
		typ  int32
		data []byte
	}{
		{"SO_TIMESTAMPNS_NEW", soTimestampNSNew, unsafe.Slice((*byte)(unsafe.Pointer(&newTS)), unsafe.Sizeof(newTS))},
		{"SO_TIMESTAMPNS", syscall.SCM_TIMESTAMPNS, unsafe.Slice((*byte)(unsafe.Pointer(&oldTS)), unsafe.Sizeof(oldTS))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var oob rxStamps
			b := oob.bytes()
			n := appendCmsg(b, 0, syscall.SCM_RIGHTS, make([]byte, 4)) // another message first
			n = appendCmsg(b, n, tt.typ, tt.data)
			if got := queuedAt(b[:n]); got != want {
				t.Errorf("stamp %d, want %d", got, want)
			}
		})
	}
}
