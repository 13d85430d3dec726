package relay

import (
	"net"
	"testing"
)

func TestParseOrigin(t *testing.T) {
	cases := []struct {
		in   string
		want origin
		ok   bool
	}{
		{"http://localhost:5173", origin{"http", "localhost", "5173"}, true},
		{"HTTPS://Jam.Example.org/", origin{"https", "jam.example.org", "443"}, true},
		{"http://[::1]:3001", origin{"http", "::1", "3001"}, true},
		{"http://192.168.1.20", origin{"http", "192.168.1.20", "80"}, true},
		{"jam.example.org", origin{}, false},
		{"ftp://jam.example.org", origin{}, false},
		{"http://jam.example.org/path", origin{}, false},
		{"http://user@jam.example.org", origin{}, false},
		{"null", origin{}, false},
	}
	for _, c := range cases {
		got, ok := parseOrigin(c.in)
		if got != c.want || ok != c.ok {
			t.Errorf("parseOrigin(%q) = %+v, %v; want %+v, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

// FuzzParseOrigin: an origin that parses, written back out, parses to
// itself.
func FuzzParseOrigin(f *testing.F) {
	for _, s := range []string{"http://localhost:5173", "https://jam.example.org/", "http://[fe80::1%25eth0]:80", "ws://x", "http://a:b@c", "%"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		o, ok := parseOrigin(s)
		if !ok {
			return
		}
		again, ok := parseOrigin(o.scheme + "://" + net.JoinHostPort(o.host, o.port))
		if !ok || again != o {
			t.Fatalf("%q parsed to %+v, which reparses to %+v, %v", s, o, again, ok)
		}
	})
}
