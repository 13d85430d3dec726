package relay

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/jambridge/jambridge/internal/wstest"
)

// frame is a client's masked websocket frame (RFC 6455 5.2), masked
// with the key 1 2 3 4: the scanner's seeds, and the serving tests'
// frames (MaskedFrame).
func frame(fin bool, op byte, payload []byte) []byte {
	return wstest.Frame(fin, op, payload, []byte{1, 2, 3, 4})
}

func cat(bs ...[]byte) []byte { return bytes.Join(bs, nil) }

// errPastEnd is the oracle's connection read past the bytes it was
// given.
var errPastEnd = errors.New("read past the end")

// endConn is a connection that reads b, then fails with errPastEnd.
type endConn struct {
	net.Conn
	r *bytes.Reader
}

func (c *endConn) Read(p []byte) (int, error) {
	if c.r.Len() == 0 {
		return 0, errPastEnd
	}
	return c.r.Read(p)
}
func (c *endConn) Write(p []byte) (int, error)      { return len(p), nil }
func (c *endConn) Close() error                     { return nil }
func (c *endConn) SetDeadline(time.Time) error      { return nil }
func (c *endConn) SetReadDeadline(time.Time) error  { return nil }
func (c *endConn) SetWriteDeadline(time.Time) error { return nil }
func (c *endConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (c *endConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }

type endHijacker struct {
	http.ResponseWriter
	c  *endConn
	br *bufio.Reader
}

func (h endHijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return h.c, bufio.NewReadWriter(h.br, bufio.NewWriter(io.Discard)), nil
}

// gorillaReads is the oracle: gorilla, as the relay's server side, reads
// one message from b. It returns the error and how much of b gorilla
// left unread.
func gorillaReads(t *testing.T, b []byte) (left int, err error) {
	left, _, _, err = gorillaMessage(t, b)
	return left, err
}

// gorillaMessage is gorillaReads with the message gorilla read.
func gorillaMessage(t *testing.T, b []byte) (left, typ int, msg []byte, err error) {
	c := &endConn{r: bytes.NewReader(b)}
	h := endHijacker{httptest.NewRecorder(), c, bufio.NewReaderSize(c, 4096)}
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "websocket")
	req.Header.Set("Sec-WebSocket-Version", "13")
	req.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
	ws, err := (&websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}).Upgrade(h, req, nil)
	if err != nil {
		t.Fatal(err)
	}
	typ, r, err := ws.NextReader()
	if err == nil {
		msg, err = io.ReadAll(r)
	}
	return h.br.Buffered() + c.r.Len(), typ, msg, err
}

// scanMessage agrees with gorilla: a complete message is read by gorilla
// from exactly its bytes, without asking for more; an incomplete one
// makes gorilla ask for more; what the scanner leaves to the blocking
// path gorilla refuses (or needs more than any read buffer for).
func FuzzScanMessage(f *testing.F) {
	text := frame(true, opText, []byte(`42["event:broadcast",{"payload":1}]`))
	seeds := [][]byte{
		nil, text, text[:1], text[:5], text[:10], cat(text, text),
		frame(true, opBinary, []byte{1, 2}), frame(true, opText, nil),
		cat(frame(false, opText, []byte("4")), frame(true, opPing, []byte("p")), frame(true, opContinuation, []byte("2[]"))),
		cat(frame(false, opText, []byte("4")), frame(true, opPong, nil)),
		frame(true, opPing, []byte("alone")), frame(true, opClose, nil),
		frame(true, opText, bytes.Repeat([]byte("x"), 300)), frame(true, opText, bytes.Repeat([]byte("x"), 70000))[:20],
		{0x81, 0x01, '6'},                          // not masked
		{0xC1, 0x81, 1, 2, 3, 4, '6'},              // RSV1
		{0x83, 0x81, 1, 2, 3, 4, '6'},              // reserved opcode
		{0x09, 0x81, 1, 2, 3, 4, '6'},              // fragmented ping
		{0x80, 0x81, 1, 2, 3, 4, '6'},              // continuation first
		{0x81, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0, 1}, // 64-bit length, top bit set
		cat(frame(false, opText, []byte("4")), frame(true, opText, []byte("2"))), // a new message inside one
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		res := scanMessage(b)
		switch res.state {
		case scanComplete:
			if res.n < 2 || res.n > len(b) {
				t.Fatalf("complete in %d bytes of %d", res.n, len(b))
			}
			left, typ, msg, err := gorillaMessage(t, b[:res.n])
			if err != nil || left != 0 {
				t.Fatalf("complete in %d bytes: gorilla: %v, %d bytes left", res.n, err, left)
			}
			if res.text { // the serving reader unmasks it in place and skips gorilla: same message
				p := bytes.Clone(b[:res.n])
				unmask(p[res.hdr:], [4]byte(p[res.hdr-4:res.hdr]))
				if typ != websocket.TextMessage || !bytes.Equal(p[res.hdr:], msg) {
					t.Fatalf("one text frame at %d: %q, gorilla reads type %d %q", res.hdr, p[res.hdr:], typ, msg)
				}
			}
		case scanIncomplete:
			if res.need <= len(b) {
				t.Fatalf("incomplete, needing %d of %d bytes", res.need, len(b))
			}
			if _, err := gorillaReads(t, b); !errors.Is(err, errPastEnd) {
				t.Fatalf("incomplete: gorilla: %v, want it to ask for more", err)
			}
		case scanOther:
			if _, err := gorillaReads(t, b); err == nil {
				t.Fatal("left to the blocking path, but gorilla reads a message")
			}
		}
	})
}

// unmask agrees with the byte-by-byte definition of RFC 6455 5.3, at
// every length and alignment.
func FuzzUnmask(f *testing.F) {
	f.Add([]byte("42[\"event:broadcast\"]"), uint32(0x01020304))
	f.Add([]byte{}, uint32(0))
	f.Add(bytes.Repeat([]byte{0xFF}, 17), uint32(0xDEADBEEF))
	f.Fuzz(func(t *testing.T, p []byte, k uint32) {
		key := [4]byte{byte(k), byte(k >> 8), byte(k >> 16), byte(k >> 24)}
		want := bytes.Clone(p)
		for i := range want {
			want[i] ^= key[i%4]
		}
		got := bytes.Clone(p)
		unmask(got, key)
		if !bytes.Equal(got, want) {
			t.Fatalf("unmask(%x, %x) = %x, want %x", p, key, got, want)
		}
	})
}
