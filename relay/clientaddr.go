package relay

import (
	"net"
	"net/http"
)

// clientAddress is the address a request comes from, for the limits kept
// per client: the host part of r.RemoteAddr.
func (s *Server) clientAddress(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
