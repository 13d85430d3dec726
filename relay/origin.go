package relay

import (
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// origin is a browser origin taken apart: lowercase scheme and host (an
// IPv6 host without brackets) and the port, the scheme's default filled
// in.
type origin struct {
	scheme, host, port string
}

// parseOrigin reads scheme://host[:port] (a trailing slash allowed).
func parseOrigin(s string) (origin, bool) {
	u, err := url.Parse(strings.TrimSuffix(s, "/"))
	if err != nil || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
		return origin{}, false
	}
	o := origin{scheme: strings.ToLower(u.Scheme), host: strings.ToLower(u.Hostname()), port: u.Port()}
	defaultPort := map[string]string{"http": "80", "ws": "80", "https": "443", "wss": "443"}[o.scheme]
	if defaultPort == "" {
		return origin{}, false
	}
	if o.port == "" {
		o.port = defaultPort
	}
	// Browsers send no IPv6 zone (nor anything to unescape) in a host.
	return o, o.host != "" && !strings.ContainsAny(o.host, "%/ ")
}

// badOrigin returns the first of list that is not an origin, or "".
func badOrigin(list []string) string {
	for _, o := range list {
		if _, ok := parseOrigin(o); !ok {
			return o
		}
	}
	return ""
}

// ownOrigin reports whether o is one of the relay's own origins:
// Config.PublicOrigins, or the address the request came in on (its IP
// and port, and localhost on loopback, or one of Config.HostNames on
// that port), with http or https as the connection is. The Host header
// plays no part.
func (s *Server) ownOrigin(r *http.Request, o origin) bool {
	for _, p := range s.cfg.PublicOrigins {
		if po, _ := parseOrigin(p); po == o {
			return true
		}
	}
	local, _ := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	if local == nil {
		return false
	}
	ap, err := netip.ParseAddrPort(local.String())
	if err != nil {
		return false
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if o.scheme != scheme || o.port != strconv.Itoa(int(ap.Port())) {
		return false
	}
	if a, err := netip.ParseAddr(o.host); err == nil {
		return a.Unmap() == ap.Addr().Unmap().WithZone("")
	}
	if o.host == "localhost" && ap.Addr().IsLoopback() {
		return true
	}
	for _, n := range s.cfg.HostNames {
		if strings.EqualFold(strings.TrimSuffix(n, "."), o.host) {
			return true
		}
	}
	return false
}

// originPolicy says how a request's Origin fares: own (the relay's own,
// or listed in AllowOrigins: echoed, with credentials), any (allowed
// only by "*": answered with "*", never with credentials), or refused.
func (s *Server) originPolicy(r *http.Request) (own, any bool) {
	raw := r.Header.Get("Origin")
	if raw == "" {
		return true, false // not a browser page: the bridge, scripts
	}
	o, ok := parseOrigin(raw)
	if ok && s.ownOrigin(r, o) {
		return true, false
	}
	for _, a := range s.cfg.AllowOrigins {
		if a == "*" {
			any = true
		} else if ao, aok := parseOrigin(a); ok && aok && ao == o {
			return true, false
		}
	}
	return false, any
}

// checkOrigin allows clients without an Origin header, the relay's own
// origins and the configured allow-list.
func (s *Server) checkOrigin(r *http.Request) bool {
	own, any := s.originPolicy(r)
	return own || any
}

// cors checks the origin and sets the headers a cross-origin long-polling
// browser needs. It reports whether the request may go on. An origin
// allowed only by "*" gets "Access-Control-Allow-Origin: *" and no
// credentials: the two together would hand any site the relay's cookies.
func (s *Server) cors(w http.ResponseWriter, r *http.Request) bool {
	own, any := s.originPolicy(r)
	if !own && !any {
		s.refuse(s.clientAddress(r), refuseOrigin, "origin", r.Header.Get("Origin"))
		return false
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	h := w.Header()
	if own {
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Allow-Credentials", "true")
		h.Set("Vary", "Origin")
	} else {
		h.Set("Access-Control-Allow-Origin", "*")
	}
	if r.Method == http.MethodOptions {
		h.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
		if req := r.Header.Get("Access-Control-Request-Headers"); req != "" {
			h.Set("Access-Control-Allow-Headers", req)
		}
	}
	return true
}
