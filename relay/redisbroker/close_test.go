package redisbroker_test

import (
	"testing"
	"time"

	"github.com/jambridge/jambridge/internal/redistest"
	"github.com/jambridge/jambridge/relay/redisbroker"
)

// Close ends the receiver's blocking read itself instead of waiting for
// it to time out: with the read's timeout an hour long, Close returns
// (within the tests' bound on anything that must happen) only because
// it did.
func TestCloseEndsTheReceiversRead(t *testing.T) {
	redis := redistest.Start(t)
	b, err := redisbroker.New(redisbroker.Options{URL: redis.URL()})
	if err != nil {
		t.Fatal(err)
	}
	b.SetReceiveTimeout(time.Hour)
	b.Bind(nopPeer{})
	waitUntil(t, "broker up", b.Up) // the receiver reads, and nothing is published to it
	closed := make(chan error, 1)
	go func() { closed <- b.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Errorf("close: %v", err)
		}
	case <-timeAfterWait():
		t.Fatalf("Close did not return within %v: it waits for the receiver's read to time out", wait)
	}
}
