package relay

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// clientAddress is the address of the client behind r, the key of the
// per-address limits: the peer's IP, or, when the peer is one of
// Config.TrustedProxies, the rightmost X-Forwarded-For hop that is not a
// trusted proxy itself (hops left of it were written by the client and
// prove nothing). A malformed X-Forwarded-For entry ends the walk at the
// last trusted hop. IPv4-mapped IPv6 addresses are given as IPv4.
func (s *Server) clientAddress(r *http.Request) string {
	peer, ok := parseHop(r.RemoteAddr)
	if !ok {
		return r.RemoteAddr // not an IP (a test's pipe): its own key
	}
	if !s.trusted(peer) {
		return peer.String()
	}
	hops := r.Header.Values("X-Forwarded-For")
	last := peer
	for i := len(hops) - 1; i >= 0; i-- {
		parts := strings.Split(hops[i], ",")
		for j := len(parts) - 1; j >= 0; j-- {
			hop, ok := parseHop(parts[j])
			if !ok {
				return last.String()
			}
			if !s.trusted(hop) {
				return hop.String()
			}
			last = hop
		}
	}
	return last.String()
}

// trusted reports whether a is in one of the trusted proxies' prefixes.
func (s *Server) trusted(a netip.Addr) bool {
	for _, p := range s.cfg.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// parseHop reads one address as RemoteAddr or X-Forwarded-For give it:
// "ip", "ip:port" or "[ipv6]:port", spaces around allowed. Zones are
// dropped.
func parseHop(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap().WithZone(""), true
	}
	host, _, err := net.SplitHostPort(s)
	if err != nil {
		return netip.Addr{}, false
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap().WithZone(""), true
}

// addrKey is what the per-address limit counts by: the address itself
// for IPv4, its /64 for IPv6 (one host commonly holds a whole /64).
func addrKey(addr string) string {
	a, err := netip.ParseAddr(addr)
	if err != nil || !a.Is6() {
		return addr
	}
	p, _ := a.Prefix(64)
	return p.String()
}
