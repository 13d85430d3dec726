package relay

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gorilla/websocket"
)

// Frames the relay writes itself are read back by gorilla's client at
// every length encoding (7-bit, 16-bit, 64-bit), batched in one writev.
func TestFramesReadByAStockClient(t *testing.T) {
	sizes := []int{0, 1, 125, 126, 127, 65535, 65536, 200_000}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
		if err != nil {
			return
		}
		var f frames
		for _, n := range sizes {
			f.add(opText, bytes.Repeat([]byte{'a' + byte(n%26)}, n))
		}
		f.add(opPong, []byte("p"))
		if err := f.writeTo(ws.NetConn()); err != nil {
			t.Error(err)
		}
	}))
	defer srv.Close()
	c, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	pong := make(chan string, 1)
	c.SetPongHandler(func(s string) error { pong <- s; return nil })
	for _, n := range sizes {
		typ, msg, err := c.ReadMessage()
		if err != nil {
			t.Fatalf("frame of %d bytes: %v", n, err)
		}
		if typ != websocket.TextMessage || len(msg) != n || (n > 0 && msg[n-1] != 'a'+byte(n%26)) {
			t.Fatalf("frame of %d bytes read as type %d, %d bytes", n, typ, len(msg))
		}
	}
	go c.ReadMessage() // runs the pong handler
	if p := <-pong; p != "p" {
		t.Errorf("pong %q", p)
	}
}

func TestAppendJSONStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "drum_hit", "x.y:z-1", `a"b`, `back\\slash`, "tab\t", "é♪", "<script>", "a&b", "\x7f"} {
		got := string(appendJSONString(nil, s))
		want := string(jsonMarshal(s))
		if got != want {
			t.Errorf("appendJSONString(%q) = %s, want %s", s, got, want)
		}
	}
}
