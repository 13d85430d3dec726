package relay

import (
	"testing"
	"time"
)

// No packet is sent under the hub's lock: while one session's fan-out is
// held up inside its room lock (here a receiver's writer lock, held by
// the test), other sessions are created, joined and left as usual.
func TestSessionsDoNotWaitForEachOther(t *testing.T) {
	srv, err := NewServer(Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	sock := func() *socket {
		s := newSocket(srv)
		srv.register(s)
		s.handleEIO([]byte("40"))
		return s
	}
	x, joiner := sock(), sock()
	a, err := srv.hub.create(x, "ROOM-A", Participant{ID: x.sid}, access{})
	if err != nil {
		t.Fatal(err)
	}
	x.w.mu.Lock() // x's writer is "busy": a send to x waits
	held := true
	defer func() { // before srv.Close, even when the test fails
		if held {
			x.w.mu.Unlock()
		}
	}()
	joined := make(chan error, 1)
	go func() {
		_, err := srv.hub.join(joiner, "ROOM-A", Participant{ID: joiner.sid}, access{})
		joined <- err
	}()
	deadline := time.Now().Add(5 * time.Second)
	for a.room.mu.TryLock() { // until the join holds room A, sending user-joined to x
		a.room.mu.Unlock()
		if time.Now().After(deadline) {
			t.Fatal("the join never reached room A")
		}
		time.Sleep(time.Millisecond)
	}

	done := make(chan struct{})
	go func() {
		defer close(done)
		b1, b2 := sock(), sock()
		m, err := srv.hub.create(b1, "", Participant{ID: b1.sid}, access{})
		if err == nil {
			_, err = srv.hub.join(b2, m.room.code, Participant{ID: b2.sid}, access{})
		}
		if err != nil {
			t.Errorf("session B: %v", err)
		}
		srv.hub.leave(b2)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("session B waited for session A's fan-out")
	}
	x.w.mu.Unlock()
	held = false
	if err := <-joined; err != nil {
		t.Errorf("join A: %v", err)
	}
}

// A key handed to a cluster and back admits what it admitted, and a key
// of the wrong size (no node writes one) admits nothing.
func TestRoomSecretThroughSessionKey(t *testing.T) {
	k := newRoomSecret("open sesame")
	back := roomSecretOf(k.sessionKey())
	if !back.admits("open sesame") || back.admits("open sesame!") || back.admits("") {
		t.Error("a key through the cluster admits other than the secret it was made from")
	}
	if roomSecretOf((*roomSecret)(nil).sessionKey()) != nil {
		t.Error("an open session's key came back private")
	}
	bad := roomSecretOf(SessionKey{Salt: []byte{1}, Sum: []byte{2}})
	if bad == nil || bad.admits("") || bad.admits("x") {
		t.Error("a key of the wrong size admits a secret")
	}
}
