package relay

import (
	"net/http"
	"net/netip"
	"slices"
	"testing"
	"time"
)

func TestClientAddress(t *testing.T) {
	srv, err := NewServer(Config{TrustedProxies: []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8"),
	}})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		remote string
		xff    []string
		want   string
	}{
		{"direct peer", "203.0.113.9:5000", nil, "203.0.113.9"},
		{"untrusted peer's header ignored", "203.0.113.9:5000", []string{"198.51.100.1"}, "203.0.113.9"},
		{"trusted proxy, one hop", "10.1.2.3:443", []string{"198.51.100.1"}, "198.51.100.1"},
		{"client-written hops left of the real one", "10.1.2.3:443", []string{"1.1.1.1, 198.51.100.1"}, "198.51.100.1"},
		{"chain of trusted proxies", "10.1.2.3:443", []string{"198.51.100.1, 10.9.9.9"}, "198.51.100.1"},
		{"several headers, last one rightmost", "10.1.2.3:443", []string{"1.1.1.1", "198.51.100.1"}, "198.51.100.1"},
		{"hop with a port", "10.1.2.3:443", []string{"198.51.100.1:1234"}, "198.51.100.1"},
		{"ipv6 hop", "[fd00::1]:443", []string{"[2001:db8::7]:99"}, "2001:db8::7"},
		{"garbage hop: last trusted", "10.1.2.3:443", []string{"198.51.100.1, nonsense, 10.9.9.9"}, "10.9.9.9"},
		{"only trusted hops: the furthest", "10.1.2.3:443", []string{"10.4.4.4"}, "10.4.4.4"},
		{"trusted proxy without header", "10.1.2.3:443", nil, "10.1.2.3"},
		{"mapped ipv4 peer", "[::ffff:203.0.113.9]:5000", nil, "203.0.113.9"},
		{"remote not an address", "pipe", nil, "pipe"},
		{"empty entry", "10.1.2.3:443", []string{"198.51.100.1,"}, "10.1.2.3"},
	}
	for _, c := range cases {
		r := &http.Request{RemoteAddr: c.remote, Header: http.Header{}}
		for _, h := range c.xff {
			r.Header.Add("X-Forwarded-For", h)
		}
		if got := srv.clientAddress(r); got != c.want {
			t.Errorf("%s: clientAddress = %q, want %q", c.name, got, c.want)
		}
	}
}

func TestAddrKeyGroupsIPv6By64(t *testing.T) {
	for in, want := range map[string]string{
		"203.0.113.9":       "203.0.113.9",
		"2001:db8:1:2:3::4": "2001:db8:1:2::/64",
		"2001:db8:1:2:ff::": "2001:db8:1:2::/64",
		"pipe":              "pipe",
	} {
		if got := addrKey(in); got != want {
			t.Errorf("addrKey(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzClientAddress: any header gives an address that the peer or the
// header holds, never a panic, and an untrusted peer is never overridden.
func FuzzClientAddress(f *testing.F) {
	f.Add("10.1.2.3:443", "198.51.100.1, 10.9.9.9")
	f.Add("203.0.113.9:1", "1.1.1.1")
	f.Add("[fd00::1]:443", "[2001:db8::7]:99,,")
	f.Add("10.0.0.1:1", "::ffff:1.2.3.4%eth0, 300.1.1.1")
	srv, err := NewServer(Config{TrustedProxies: []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8"),
	}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, remote, xff string) {
		r := &http.Request{RemoteAddr: remote, Header: http.Header{"X-Forwarded-For": {xff}}}
		got := srv.clientAddress(r)
		peer, ok := parseHop(remote)
		if !ok {
			if got != remote {
				t.Fatalf("remote %q is no address: got %q, want it unchanged", remote, got)
			}
			return
		}
		if !srv.trusted(peer) && got != peer.String() {
			t.Fatalf("untrusted peer %q overridden by %q: got %q", remote, xff, got)
		}
		if _, err := netip.ParseAddr(got); err != nil {
			t.Fatalf("got %q, not an address", got)
		}
	})
}

func TestAddrLimitCountsAndLogsOncePerMinute(t *testing.T) {
	l := newAddrLimit(2)
	if !l.acquire("a") || !l.acquire("a") || l.acquire("a") {
		t.Fatal("want two acquires of a, then a refusal")
	}
	if !l.acquire("b") {
		t.Fatal("b refused while a is full")
	}
	l.release("a")
	if !l.acquire("a") {
		t.Fatal("a refused after a release")
	}
	l.release("a")
	l.release("a")
	l.release("b")
	if len(l.held) != 0 {
		t.Fatalf("held = %v after every release, want empty", l.held)
	}
	t0 := time.Unix(1_764_097_200, 0)
	logs := []bool{
		l.shouldLog("a", t0), l.shouldLog("a", t0.Add(30*time.Second)), l.shouldLog("b", t0.Add(30*time.Second)),
		l.shouldLog("a", t0.Add(refusalLogEvery)),
	}
	if want := []bool{true, false, true, true}; !slices.Equal(logs, want) {
		t.Errorf("logged %v, want %v", logs, want)
	}
}
