package relay

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"time"
)

// Config holds every tunable of a Server. The zero value of a field means
// its default; DefaultConfig returns them all filled in.
type Config struct {
	// PingInterval is how often the server pings each client;
	// PingTimeout how long it waits for the pong. A peer silent for
	// both is dropped.
	PingInterval time.Duration
	PingTimeout  time.Duration

	// MaxPayload is the largest Engine.IO packet (and long-polling
	// request body) accepted, in bytes.
	MaxPayload int64
	// MaxEventPayload is the largest `payload` of one event:broadcast,
	// as JSON bytes.
	MaxEventPayload int
	// EventRate and EventBurst shape each connection's token bucket:
	// events per second sustained, and the burst above it.
	EventRate  float64
	EventBurst int
	// MaxMembers is the most members one session holds.
	MaxMembers int

	// MaxConnections is the most Engine.IO sessions served at once;
	// more are refused with 503.
	MaxConnections int

	// SendQueue is the most packets each connection's outbound queue
	// holds, and SendQueueBytes the most bytes; past either the oldest
	// relayed events are dropped.
	SendQueue      int
	SendQueueBytes int
	// WriteTimeout bounds one write to a client; a client whose queue
	// stays full and undrained this long is disconnected.
	WriteTimeout time.Duration

	// ConnectTimeout is how long a connection may go without sending
	// the Socket.IO CONNECT packet before it is closed.
	ConnectTimeout time.Duration

	// AllowOrigins lists browser origins (scheme://host[:port]) allowed
	// besides the relay's own; "*" allows any. Clients that send no
	// Origin header (the bridge, scripts) are always allowed.
	AllowOrigins []string

	// Private sessions and access tokens.
	//
	// FailedJoins is how many failed joins (an unknown code, a wrong
	// secret, a taken code) one client address may make in a minute;
	// past them its joins get rate_limited until the minute is over,
	// except a valid return to a session it has been a member of.
	FailedJoins int
	// AuthSecret, when set, is the HS256 key of access tokens: every
	// Socket.IO CONNECT must carry auth {token} signed with it
	// (MinAuthSecret bytes at least).
	AuthSecret []byte
	// A public relay's defences (README "The relay: jamrelay").
	//
	// MaxConnectionsPerIP is the most one client address (an IPv6
	// address's /64) holds at once: Engine.IO sessions, websocket or
	// long-polling, plus HTTP connections not (yet) a websocket, idle
	// keep-alive ones included. More are refused: 429, a websocket
	// close, or an HTTP connection closed unanswered.
	MaxConnectionsPerIP int
	// HandshakeWindow is how long a new long-polling session has to poll
	// again or start its upgrade; one that does neither is expired.
	HandshakeWindow time.Duration
	// TrustedProxies are the peers (reverse proxies, load balancers)
	// whose X-Forwarded-For names the client; from anyone else it is
	// ignored.
	TrustedProxies []netip.Prefix
	// PublicOrigins are the relay's own origins (scheme://host[:port],
	// as the jam page's address bar shows them, e.g. behind a proxy),
	// allowed with credentials. Besides them the relay's own are always
	// the address each connection came in on (its IP and port, with
	// http or https as the connection is; localhost too on loopback)
	// and, on that port, HostNames. The Host header is never trusted
	// for this: a DNS-rebinding page names any host it likes.
	PublicOrigins []string
	// HostNames are names of this machine itself (its host name, its
	// mDNS name.local), own origins on the port and scheme a connection
	// came in on. Only names the operator controls belong here.
	HostNames []string
	// Cluster shares sessions with other relay nodes (see Cluster); nil
	// serves them alone.
	Cluster Cluster

	// Logger receives the relay's logs; nil discards them.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now. Tests inject their own.
	Now func() time.Time
}

// DefaultHandshakeWindow is HandshakeWindow's default: a real client
// polls again (or upgrades) within milliseconds of its handshake.
const DefaultHandshakeWindow = 5 * time.Second

// DefaultConfig returns the defaults of PROTOCOL.md.
func DefaultConfig() Config {
	return Config{
		PingInterval:    25 * time.Second,
		PingTimeout:     20 * time.Second,
		MaxPayload:      1_000_000,
		MaxEventPayload: 16 << 10,
		EventRate:       200,
		EventBurst:      400,
		MaxMembers:      64,
		SendQueue:       1024,
		SendQueueBytes:  1 << 20,
		ConnectTimeout:  45 * time.Second,
		MaxConnections:  20000,
		WriteTimeout:    10 * time.Second,
		FailedJoins:     10,

		MaxConnectionsPerIP: 64,
		HandshakeWindow:     DefaultHandshakeWindow,
	}
}

// withDefaults fills zero fields from DefaultConfig.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.PingInterval == 0 {
		c.PingInterval = d.PingInterval
	}
	if c.PingTimeout == 0 {
		c.PingTimeout = d.PingTimeout
	}
	if c.MaxPayload == 0 {
		c.MaxPayload = d.MaxPayload
	}
	if c.MaxEventPayload == 0 {
		c.MaxEventPayload = d.MaxEventPayload
	}
	if c.EventRate == 0 {
		c.EventRate = d.EventRate
	}
	if c.EventBurst == 0 {
		c.EventBurst = d.EventBurst
	}
	if c.MaxMembers == 0 {
		c.MaxMembers = d.MaxMembers
	}
	if c.MaxConnections == 0 {
		c.MaxConnections = d.MaxConnections
	}
	if c.SendQueue == 0 {
		c.SendQueue = d.SendQueue
	}
	if c.SendQueueBytes == 0 {
		c.SendQueueBytes = d.SendQueueBytes
	}
	if c.ConnectTimeout == 0 {
		c.ConnectTimeout = d.ConnectTimeout
	}
	if c.WriteTimeout == 0 {
		c.WriteTimeout = d.WriteTimeout
	}
	if c.FailedJoins == 0 {
		c.FailedJoins = d.FailedJoins
	}
	if c.MaxConnectionsPerIP == 0 {
		c.MaxConnectionsPerIP = d.MaxConnectionsPerIP
	}
	if c.HandshakeWindow == 0 {
		c.HandshakeWindow = d.HandshakeWindow
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Validate reports the first setting that cannot work, in one sentence.
func (c Config) Validate() error {
	c = c.withDefaults()
	switch {
	case c.PingInterval < 0 || c.PingTimeout < 0 || c.WriteTimeout < 0 || c.ConnectTimeout < 0:
		return errors.New("ping interval, ping timeout, write timeout and connect timeout must be positive")
	case c.MaxPayload < 64:
		return fmt.Errorf("max payload %d is too small: use at least 64 bytes", c.MaxPayload)
	case int64(c.MaxEventPayload) > c.MaxPayload:
		return fmt.Errorf("max event payload %d is larger than max payload %d", c.MaxEventPayload, c.MaxPayload)
	case c.MaxEventPayload < 0 || c.EventRate < 0 || c.EventBurst < 0:
		return errors.New("limits must not be negative")
	case c.MaxMembers < 1:
		return fmt.Errorf("max members %d must be at least 1", c.MaxMembers)
	case c.MaxConnections < 1:
		return fmt.Errorf("max connections %d must be at least 1", c.MaxConnections)
	case c.MaxConnectionsPerIP < 1:
		return fmt.Errorf("max connections per ip %d must be at least 1", c.MaxConnectionsPerIP)
	case c.HandshakeWindow < 0:
		return fmt.Errorf("handshake window %v must be positive", c.HandshakeWindow)
	case badOrigin(c.PublicOrigins) != "":
		return fmt.Errorf("public url %q: want scheme://host[:port]", badOrigin(c.PublicOrigins))
	case c.SendQueue < 1:
		return fmt.Errorf("send queue %d must be at least 1", c.SendQueue)
	case c.FailedJoins < 0:
		return fmt.Errorf("failed joins %d must not be negative", c.FailedJoins)
	case c.AuthSecret != nil && len(c.AuthSecret) < MinAuthSecret:
		return fmt.Errorf("the auth secret has %d bytes; it needs at least %d", len(c.AuthSecret), MinAuthSecret)
	case c.SendQueueBytes < c.MaxEventPayload+relayEnvelope:
		return fmt.Errorf("send queue bytes %d must hold one relayed event of %d bytes", c.SendQueueBytes, c.MaxEventPayload+relayEnvelope)
	}
	return nil
}
