package relay

import (
	"testing"
	"testing/synctest"
	"time"
)

// In fake time: a socket that sent the Socket.IO CONNECT is kept past
// ConnectTimeout, one that did not is closed at it, not before.
func TestConnectTimeoutSparesConnectedSockets(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv, err := NewServer(Config{ConnectTimeout: 10 * time.Second, PingInterval: time.Hour, PingTimeout: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		defer srv.Close()
		silent, connected := newSocket(srv), newSocket(srv)
		for _, s := range []*socket{silent, connected} {
			srv.register(s)
			s.startTimers()
		}
		if err := connected.handleEIO([]byte("40")); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10*time.Second - time.Nanosecond)
		synctest.Wait()
		if silent.isClosed() {
			t.Fatal("closed before ConnectTimeout")
		}
		time.Sleep(time.Nanosecond)
		synctest.Wait()
		if !silent.isClosed() || srv.Stats().ConnectTimeouts != 1 {
			t.Errorf("silent socket closed %v, connect timeouts %d: want closed at ConnectTimeout", silent.isClosed(), srv.Stats().ConnectTimeouts)
		}
		time.Sleep(time.Hour - 11*time.Second) // just before the first ping
		synctest.Wait()
		if connected.isClosed() {
			t.Error("a connected socket was closed by the connect timeout")
		}
	})
}

// In fake time: a ping every PingInterval; a pong keeps the socket, and
// silence for PingTimeout after a ping closes it.
func TestHeartbeatInFakeTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv, err := NewServer(Config{PingInterval: 25 * time.Second, PingTimeout: 20 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		defer srv.Close()
		s := newSocket(srv)
		srv.register(s)
		s.startTimers()
		s.handleEIO([]byte("40"))
		s.w.pollBatch(nil) // the CONNECT reply
		for i := range 3 {
			time.Sleep(25 * time.Second)
			synctest.Wait()
			if got, _, _ := s.w.pollBatch(nil); len(got) != 1 || string(got[0]) != "2" {
				t.Fatalf("ping %d: queued %q, want a ping", i, got)
			}
			time.Sleep(19 * time.Second)
			if err := s.handleEIO([]byte("3")); err != nil {
				t.Fatal(err)
			}
			synctest.Wait()
			if s.isClosed() {
				t.Fatalf("closed after pong %d", i)
			}
		}
		time.Sleep(25*time.Second + 20*time.Second)
		synctest.Wait()
		if !s.isClosed() {
			t.Error("silent for PingTimeout after a ping, but not closed")
		}
	})
}
