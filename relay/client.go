package relay

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/jambridge/jambridge/internal/releasequeue"
)

// ErrClosed is returned by a Client's methods once its connection has
// ended.
var ErrClosed = errors.New("relay connection closed")

// ClientConfig configures Dial.
type ClientConfig struct {
	// URL of the relay: http(s)://host:port or ws(s)://host:port, with
	// or without the /socket.io/ path.
	URL string
	// OnEvent receives every event from the relay, on the client's
	// reader goroutine: it must not block.
	OnEvent func(Event)
	// Header is sent with the websocket handshake.
	Header http.Header
	// Token is the access token sent in the Socket.IO CONNECT
	// (auth {token}), for a relay that wants one; "" sends none.
	Token string
	// TLS configures an https or wss relay; nil verifies it against the
	// system's roots. A relay that fails verification is a *TLSError.
	TLS    *tls.Config
	Logger *slog.Logger
}

// Client is one Socket.IO connection to a relay over websocket.
//
// Concurrency: Emit, EmitHold, Call and Stats may be used from any
// goroutine and never block on the connection. One reader goroutine
// decodes inbound packets and runs OnEvent; one writer goroutine owns
// every write, pongs included. Close stops both and waits.
type Client struct {
	ws       *websocket.Conn
	id       string
	log      *slog.Logger
	onEvent  func(Event)
	queue    *clientSendQueue // bounded; see clientQueue
	pong     chan struct{}    // capacity 1: a pong is owed
	pongs    atomic.Uint64    // pongs written
	done     chan struct{}    // closed when the connection ends
	readDone chan struct{}    // closed when the reader has returned
	wg       sync.WaitGroup
	silence  time.Duration // drop the relay after this long without a packet

	mu     sync.Mutex // guards the fields below
	acks   map[int64]chan []json.RawMessage
	nextID int64
	err    error
}

// Dial connects to the relay and its namespace "/".
func Dial(ctx context.Context, cfg ClientConfig) (*Client, error) {
	u, err := wsURL(cfg.URL)
	if err != nil {
		return nil, err
	}
	d := *websocket.DefaultDialer
	d.TLSClientConfig = cfg.TLS
	ws, _, err := d.DialContext(ctx, u, cfg.Header)
	if err != nil {
		if tlsFailure(err) {
			return nil, &TLSError{URL: cfg.URL, Err: err}
		}
		return nil, fmt.Errorf("connect to relay %s: %w", cfg.URL, err)
	}
	c := &Client{
		ws: ws, log: cfg.Logger, onEvent: cfg.OnEvent,
		queue: releasequeue.New[struct{}, string, []byte](releasequeue.Config{Size: clientQueue, MaxReleases: maxHeldKeys}),
		pong:  make(chan struct{}, 1), done: make(chan struct{}), readDone: make(chan struct{}),
		acks: make(map[int64]chan []json.RawMessage),
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.onEvent == nil {
		c.onEvent = func(Event) {}
	}
	if err := c.handshake(ctx, cfg.Token); err != nil {
		ws.Close()
		return nil, fmt.Errorf("connect to relay %s: %w", cfg.URL, err)
	}
	c.wg.Add(2)
	go c.readLoop()
	go c.writeLoop()
	return c, nil
}

// wsURL turns a relay URL into its Engine.IO websocket endpoint.
func wsURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("relay URL %q: want http://host:port", raw)
	}
	switch u.Scheme {
	case "http", "ws":
		u.Scheme = "ws"
	case "https", "wss":
		u.Scheme = "wss"
	default:
		return "", fmt.Errorf("relay URL %q: scheme must be http, https, ws or wss", raw)
	}
	switch {
	case u.Path == "" || u.Path == "/":
		u.Path = "/socket.io/"
	case !strings.HasSuffix(u.Path, "/"):
		u.Path += "/"
	}
	u.RawQuery = "EIO=4&transport=websocket"
	return u.String(), nil
}

// ConnectRefusedError is a relay's CONNECT_ERROR: it refused the
// connection, for an access token missing, expired or invalid. Retrying
// with the same token cannot help.
type ConnectRefusedError struct {
	Message string // the relay's reason, as it wrote it
}

func (e *ConnectRefusedError) Error() string { return "relay refused the connection: " + e.Message }

// connectPacket is the Socket.IO CONNECT to "/", with auth {token} when
// there is a token.
func connectPacket(token string) []byte {
	if token == "" {
		return []byte("40")
	}
	b := []byte(`40{"token":`)
	b = appendJSONString(b, token)
	return append(b, '}')
}

// handshake reads the open packet, connects to "/" and reads our id.
func (c *Client) handshake(ctx context.Context, token string) error {
	if dl, ok := ctx.Deadline(); ok {
		c.ws.SetReadDeadline(dl)
		defer c.ws.SetReadDeadline(time.Time{})
	}
	_, msg, err := c.ws.ReadMessage()
	if err != nil || len(msg) == 0 || msg[0] != eioOpen {
		return fmt.Errorf("not a socket.io v4 relay (no open packet): %v", err)
	}
	var open struct{ PingInterval, PingTimeout int64 }
	if err := json.Unmarshal(msg[1:], &open); err != nil {
		return fmt.Errorf("bad open packet: %w", err)
	}
	c.silence = time.Duration(open.PingInterval+open.PingTimeout) * time.Millisecond
	if err := c.ws.WriteMessage(websocket.TextMessage, connectPacket(token)); err != nil {
		return err
	}
	for {
		_, msg, err := c.ws.ReadMessage()
		if err != nil {
			return err
		}
		switch {
		case strings.HasPrefix(string(msg), "40"):
			var r struct{ Sid string }
			if err := json.Unmarshal(msg[2:], &r); err != nil || r.Sid == "" {
				return fmt.Errorf("bad connect reply %q", msg)
			}
			c.id = r.Sid
			return nil
		case strings.HasPrefix(string(msg), "44"):
			var r struct{ Message string }
			if json.Unmarshal(msg[2:], &r) != nil || r.Message == "" {
				r.Message = truncate(string(msg[2:]), 80)
			}
			return &ConnectRefusedError{Message: r.Message}
		case string(msg) == "2":
			c.ws.WriteMessage(websocket.TextMessage, []byte("3"))
		}
	}
}

// ID is the Socket.IO id the relay gave this connection: our userId.
func (c *Client) ID() string { return c.id }

// Done is closed when the connection has ended; Err says why.
func (c *Client) Done() <-chan struct{} { return c.done }

// Err returns why the connection ended, or nil while it is up or after a
// normal Close.
func (c *Client) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Close leaves the relay cleanly and waits for the client's goroutines.
func (c *Client) Close() error {
	c.finish(nil)
	c.wg.Wait()
	return nil
}

// finish ends the connection once, recording why.
func (c *Client) finish(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	select {
	case <-c.done:
		return
	default:
	}
	c.err = err
	close(c.done)
}

func (c *Client) readLoop() {
	defer c.wg.Done()
	defer close(c.readDone)
	defer c.ws.Close()
	for {
		c.ws.SetReadDeadline(time.Now().Add(c.silence))
		_, msg, err := c.ws.ReadMessage()
		if err != nil {
			select {
			case <-c.done: // we closed it
			default:
				c.finish(fmt.Errorf("relay connection lost: %w", err))
			}
			return
		}
		if err := c.handle(msg); err != nil {
			c.finish(err)
			return
		}
	}
}

// handle processes one inbound Engine.IO packet.
func (c *Client) handle(msg []byte) error {
	if len(msg) == 0 {
		return fmt.Errorf("relay sent an empty packet")
	}
	switch msg[0] {
	case eioPing:
		select {
		case c.pong <- struct{}{}:
		default: // a pong is owed already: one answers both
		}
	case eioClose:
		return errors.New("relay closed the connection")
	case eioMessage:
		p, err := DecodePacket(msg[1:])
		if err != nil {
			return fmt.Errorf("relay sent a bad packet: %w", err)
		}
		return c.handlePacket(p)
	}
	return nil
}

func (c *Client) handlePacket(p Packet) error {
	switch p.Type {
	case sioEvent:
		ev, err := DecodeEvent(p)
		if err != nil {
			return fmt.Errorf("relay sent a bad event: %w", err)
		}
		c.onEvent(ev)
	case sioAck:
		ev, err := DecodeEvent(p)
		if err != nil {
			return fmt.Errorf("relay sent a bad ack: %w", err)
		}
		c.mu.Lock()
		reply := c.acks[p.ID]
		c.mu.Unlock()
		if reply != nil {
			select {
			case reply <- ev.Args:
			default: // a duplicate ack: the first one won
			}
		}
	case sioDisconnect:
		return errors.New("relay disconnected us")
	}
	return nil
}
