package main

import (
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// JAMRELAY_CONNECT_TIMEOUT (--connect-timeout) reaches the relay: a
// websocket that never sends the Socket.IO CONNECT is closed after it.
func TestConnectTimeoutFromTheEnvironment(t *testing.T) {
	_, url, _ := startBinary(t, []string{"JAMRELAY_CONNECT_TIMEOUT=100ms"})
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(url, "http")+"/socket.io/?EIO=4&transport=websocket", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	ws.SetReadDeadline(time.Now().Add(hang))
	if _, msg, err := ws.ReadMessage(); err != nil || !strings.HasPrefix(string(msg), "0{") {
		t.Fatalf("open packet: %q, %v", msg, err)
	}
	for {
		_, _, err := ws.ReadMessage()
		if err == nil {
			continue // a ping
		}
		if ne, ok := err.(interface{ Timeout() bool }); ok && ne.Timeout() {
			t.Fatalf("not closed within %v of silence: the connect timeout did not reach the relay", hang)
		}
		return
	}
}
