package redisbroker

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"net"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/jambridge/jambridge/internal/testcert"
)

// fakeRedis accepts one connection on ln, reads exactly want, answers
// reply and then reads what follows into got until the client closes.
func fakeRedis(t *testing.T, ln net.Listener, want, reply string) <-chan []byte {
	t.Helper()
	got := make(chan []byte, 1)
	go func() {
		defer close(got)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		head := make([]byte, len(want))
		if _, err := io.ReadFull(c, head); err != nil || string(head) != want {
			got <- append([]byte("handshake: "), head...)
			return
		}
		io.WriteString(c, reply)
		rest, _ := io.ReadAll(c)
		got <- rest
	}()
	return got
}

func TestPublisherHandshake(t *testing.T) {
	off := string(appendCommand(nil, "CLIENT", "REPLY", "OFF"))
	for _, tc := range []struct {
		name, userinfo, db string
		want, reply        string
		refused            string // a word of the error, "" when the handshake succeeds
	}{
		{"no auth, db 0", "", "0", off, "", ""},
		{"password and db", ":pw@", "3", string(appendCommand(appendCommand(nil, "AUTH", "pw"), "SELECT", "3")) + off, "+OK\r\n+OK\r\n", ""},
		{"user and password", "ann:pw@", "0", string(appendCommand(nil, "AUTH", "ann", "pw")) + off, "+OK\r\n", ""},
		{"wrong password", ":bad@", "0", string(appendCommand(nil, "AUTH", "bad")) + off, "-WRONGPASS invalid username-password pair\r\n", "WRONGPASS"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			got := fakeRedis(t, ln, tc.want, tc.reply)
			ro, err := redis.ParseURL("redis://" + tc.userinfo + ln.Addr().String() + "/" + tc.db)
			if err != nil {
				t.Fatal(err)
			}
			checkPublisher(t, ro, got, tc.refused)
		})
	}
}

// TestPublisherHandshakeTLS: rediss:// dials TLS, checking the server's
// name against the address when the URL's options leave it empty.
func TestPublisherHandshakeTLS(t *testing.T) {
	ca := testcert.NewCA(t, "redis test CA")
	leaf := ca.Leaf(t, "127.0.0.1")
	cert, err := tls.X509KeyPair(leaf.Cert, leaf.Key)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := fakeRedis(t, ln, string(appendCommand(nil, "CLIENT", "REPLY", "OFF")), "")
	ro, err := redis.ParseURL("rediss://" + ln.Addr().String() + "/0")
	if err != nil {
		t.Fatal(err)
	}
	ro.TLSConfig.RootCAs, ro.TLSConfig.ServerName = ca.Pool(), ""
	checkPublisher(t, ro, got, "")
}

// checkPublisher dials the publisher's connection as ro says and, when
// the handshake succeeds, publishes one event on it: the server must
// read the handshake then the PUBLISH, and answer nothing.
func checkPublisher(t *testing.T, ro *redis.Options, got <-chan []byte, refused string) {
	t.Helper()
	c, err := dialPublisher(context.Background(), ro)
	if refused != "" {
		if err == nil || !strings.Contains(err.Error(), refused) {
			t.Fatalf("dial: got %v, want an error with %q", err, refused)
		}
		<-got // the server saw the connection closed
		return
	}
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	cmd := appendPublishEvent(nil, "jam:", "ABCD", "n1", 42, false, []byte(`42["x"]`))
	if _, err := c.Write(cmd); err != nil {
		t.Fatalf("write: %v", err)
	}
	c.Close()
	if rest := <-got; !bytes.Equal(rest, cmd) {
		t.Errorf("after the handshake the server read %q, want %q", rest, cmd)
	}
}

// The PUBLISH the publisher encodes in place is the one appendCommand
// makes of the channel and the message of wire.go.
func TestAppendPublishEvent(t *testing.T) {
	for _, release := range []bool{false, true} {
		packet := []byte(`2["event:broadcast",{"type":"drum_hit"}]`)
		got := appendPublishEvent([]byte("before"), "jam:", "ROOM", "node-1", 1_700_000_000_123_456, release, packet)
		msg := appendEvent(nil, "node-1", 1_700_000_000_123_456, release, packet)
		want := append([]byte("before"), appendCommand(nil, "PUBLISH", "jam:ev:ROOM", string(msg))...)
		if !bytes.Equal(got, want) {
			t.Errorf("release %v: got %q, want %q", release, got, want)
		}
	}
}
