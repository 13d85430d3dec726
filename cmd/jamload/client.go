package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// setupWait bounds each step of setting a connection up: the websocket
// handshake, the Engine.IO open packet, the Socket.IO connect and each
// session reply.
const setupWait = 10 * time.Second

// eioConn is a minimal Engine.IO 4 / Socket.IO 5 client over a raw
// websocket (wsconn.go), connected to namespace "/". During setup one
// goroutine owns it; afterwards it has one reader and at most one writer
// at a time.
type eioConn struct {
	ws   *wsConn
	sid  string // Socket.IO id: the relay's senderId for this connection
	room string // the session's room code, once created or joined
}

// dialEIO opens a websocket-only Engine.IO session at base (http://host:port)
// and connects it to "/".
func dialEIO(ctx context.Context, base string) (*eioConn, error) {
	u := "ws" + base[len("http"):] + "/socket.io/?EIO=4&transport=websocket"
	ws, err := dialWS(ctx, u)
	if err != nil {
		return nil, err
	}
	c := &eioConn{ws: ws}
	if err := c.connect(); err != nil {
		ws.close()
		return nil, err
	}
	return c, nil
}

// connect reads the open packet `0{...}`, sends `40` and waits for
// `40{"sid":...}`.
func (c *eioConn) connect() error {
	_ = c.ws.nc.SetReadDeadline(time.Now().Add(setupWait))
	defer c.ws.nc.SetReadDeadline(time.Time{})
	msg, err := c.ws.readMessage()
	if err != nil {
		return fmt.Errorf("read engine.io open packet: %w", err)
	}
	if len(msg) == 0 || msg[0] != '0' {
		return fmt.Errorf("want engine.io open packet, got %q", clip(msg))
	}
	if err := c.write([]byte("40")); err != nil {
		return err
	}
	reply, err := c.await([]byte("40"))
	if err != nil {
		return fmt.Errorf("socket.io connect: %w", err)
	}
	var v struct {
		SID string `json:"sid"`
	}
	if err := json.Unmarshal(reply, &v); err != nil || v.SID == "" {
		return fmt.Errorf("socket.io connect: bad reply %q", clip(reply))
	}
	c.sid = v.SID
	return nil
}

// errRelay is a Socket.IO `error` event or a CONNECT_ERROR from the relay.
var errRelay = errors.New("relay refused")

// await reads packets until one starts with prefix and returns the rest
// of it. Pings are answered, other packets (presence) skipped.
func (c *eioConn) await(prefix []byte) ([]byte, error) {
	for {
		msg, err := c.ws.readMessage()
		switch {
		case err != nil:
			return nil, err
		case bytes.HasPrefix(msg, prefix):
			return msg[len(prefix):], nil
		case isPing(msg):
			if err := c.write(pongPacket); err != nil {
				return nil, err
			}
		case bytes.HasPrefix(msg, []byte(`42["error"`)), bytes.HasPrefix(msg, []byte("44")):
			return nil, fmt.Errorf("%w: %s", errRelay, clip(msg))
		}
	}
}

// request emits event with arg (JSON) and returns the argument of the
// reply event want.
func (c *eioConn) request(event string, arg []byte, want string) ([]byte, error) {
	_ = c.ws.nc.SetReadDeadline(time.Now().Add(setupWait))
	defer c.ws.nc.SetReadDeadline(time.Time{})
	pkt := fmt.Appendf(nil, `42[%q,%s]`, event, arg)
	if err := c.write(pkt); err != nil {
		return nil, err
	}
	reply, err := c.await(fmt.Appendf(nil, `42[%q,`, want))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", event, err)
	}
	return bytes.TrimSuffix(reply, []byte("]")), nil
}

// createSession creates a session with a generated room code.
func (c *eioConn) createSession(name string) error {
	reply, err := c.request("session:create", nameArg(name, ""), "session:created")
	if err != nil {
		return err
	}
	var v struct {
		RoomCode string `json:"roomCode"`
	}
	if err := json.Unmarshal(reply, &v); err != nil || v.RoomCode == "" {
		return fmt.Errorf("session:created: bad reply %q", clip(reply))
	}
	c.room = v.RoomCode
	return nil
}

// joinSession joins the session room.
func (c *eioConn) joinSession(room, name string) error {
	if _, err := c.request("session:join", nameArg(name, room), "session:joined"); err != nil {
		return err
	}
	c.room = room
	return nil
}

func nameArg(name, room string) []byte {
	b := []byte(`{"name":` + strconv.Quote(name) + `,"kind":"load"`)
	if room != "" {
		b = append(b, `,"roomCode":`+strconv.Quote(room)...)
	}
	return append(b, '}')
}

func (c *eioConn) write(b []byte) error {
	return c.ws.writeFrame(opText, b)
}

// close drops the connection without a handshake: the benchmark is over.
func (c *eioConn) close() { c.ws.close() }

// answerPings is the reader of an idle connection: it answers pings
// itself, being the only writer once setup is over, and returns when the
// connection closes.
func (c *eioConn) answerPings() {
	for {
		msg, err := c.ws.readMessage()
		if err != nil {
			return
		}
		if isPing(msg) && c.write(pongPacket) != nil {
			return
		}
	}
}

// clip shortens a packet for an error message.
func clip(b []byte) []byte {
	if len(b) > 120 {
		return append(b[:120:120], "..."...)
	}
	return b
}
