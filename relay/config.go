package relay

import (
	"errors"
	"fmt"
	"log/slog"
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

	// Cluster shares sessions with other relay nodes (see Cluster); nil
	// serves them alone.
	Cluster Cluster

	// Logger receives the relay's logs; nil discards them.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now. Tests inject their own.
	Now func() time.Time
}

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
	case c.SendQueue < 1:
		return fmt.Errorf("send queue %d must be at least 1", c.SendQueue)
	case c.SendQueueBytes < c.MaxEventPayload+relayEnvelope:
		return fmt.Errorf("send queue bytes %d must hold one relayed event of %d bytes", c.SendQueueBytes, c.MaxEventPayload+relayEnvelope)
	}
	return nil
}
