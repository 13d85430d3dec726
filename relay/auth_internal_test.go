package relay

import (
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// In fake time: a refused CONNECT gets its CONNECT_ERROR at once and the
// connection is closed refusedCloseAfter later, not sooner, and more bad
// CONNECTs meanwhile do not put the close off; a valid CONNECT within
// that second keeps the connection.
func TestRefusedConnectIsClosedAfterItsError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv, err := NewServer(Config{AuthSecret: fuzzSecret, PingInterval: time.Hour, PingTimeout: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		defer srv.Close()
		refused, rescued := newSocket(srv), newSocket(srv)
		for _, s := range []*socket{refused, rescued} {
			srv.register(s)
			s.startTimers()
			if err := s.handleEIO([]byte("40")); err != nil {
				t.Fatal(err)
			}
		}
		pkts, _, _ := refused.w.pollBatch(nil)
		if len(pkts) != 1 || string(pkts[0]) != `44{"message":"access token missing: connect with auth {token}"}` {
			t.Fatalf("refused CONNECT answered %q", pkts)
		}
		time.Sleep(refusedCloseAfter / 2)
		refused.handleEIO([]byte(`40{"token":"x"}`))
		tok, err := SignToken(fuzzSecret, TokenClaims{Expires: time.Now().Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		rescued.handleEIO([]byte(`40{"token":"` + tok + `"}`))
		time.Sleep(refusedCloseAfter/2 - time.Nanosecond)
		synctest.Wait()
		if refused.isClosed() {
			t.Fatal("closed before refusedCloseAfter")
		}
		time.Sleep(time.Nanosecond)
		synctest.Wait()
		if !refused.isClosed() {
			t.Error("a refused connection still open refusedCloseAfter after its first refusal")
		}
		pkts, _, _ = rescued.w.pollBatch(nil)
		if rescued.isClosed() || rescued.sid == "" || !strings.HasPrefix(string(pkts[len(pkts)-1]), `40{"sid":`) {
			t.Errorf("a valid CONNECT after a refusal: closed %v, sid %q, packets %q", rescued.isClosed(), rescued.sid, pkts)
		}
		if n := srv.Stats().ConnectsRefused; n != 3 {
			t.Errorf("connects refused %d, want 3", n)
		}
	})
}
