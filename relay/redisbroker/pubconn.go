package redisbroker

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// The publisher's connection is its own, not the client's pool: after
// AUTH and SELECT (as the URL says) it sends CLIENT REPLY OFF, so Redis
// answers nothing on it and the publisher never waits for, nor reads, a
// reply. A write error marks Redis down; the heartbeat marks it down
// too when it stops answering, and the receiver when its subscriptions'
// connection breaks (a Redis restarted between two beats), and after
// each re-assertion the publisher dials again (Broker.epoch). What the publisher wrote between
// Redis going away and the first write that fails or the heartbeat that
// notices (at most a socket's buffer, within about a second) is lost and
// counted as published, not dropped. Without replies, a PUBLISH or
// leave that Redis refused is not seen: the commands are the broker's
// own and their keys and scripts fixed, and leaves that did not happen
// are undone by the next re-assertion.

// dialPublisher dials Redis as ro says and turns its replies off.
func dialPublisher(ctx context.Context, ro *redis.Options) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	c, err := dialRedis(ctx, ro, ro.Network, ro.Addr)
	if err != nil {
		return nil, fmt.Errorf("dial redis at %s to publish: %w", ro.Addr, err)
	}
	if err := handshake(c, ro); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// dialRedis is every connection's dialer, the client's (Options.Dialer)
// and the publisher's: TCP or a Unix socket with raw reads and writes
// (rawIO), under TLS when ro says so.
func dialRedis(ctx context.Context, ro *redis.Options, network, addr string) (net.Conn, error) {
	d := &net.Dialer{Timeout: opTimeout}
	c, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	c = rawIO(c)
	if ro.TLSConfig == nil {
		return c, nil
	}
	cfg := ro.TLSConfig
	if cfg.ServerName == "" {
		cfg = cfg.Clone()
		cfg.ServerName, _, _ = net.SplitHostPort(addr)
	}
	tc := tls.Client(c, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		c.Close()
		return nil, err
	}
	return tc, nil
}

// handshake authenticates and selects the database on c, reading those
// replies, then turns replies off.
func handshake(c net.Conn, ro *redis.Options) error {
	c.SetDeadline(time.Now().Add(opTimeout))
	defer c.SetDeadline(time.Time{})
	var cmds []byte
	answers := 0
	switch {
	case ro.Password != "" && ro.Username != "":
		cmds, answers = appendCommand(cmds, "AUTH", ro.Username, ro.Password), answers+1
	case ro.Password != "":
		cmds, answers = appendCommand(cmds, "AUTH", ro.Password), answers+1
	}
	if ro.DB != 0 {
		cmds, answers = appendCommand(cmds, "SELECT", strconv.Itoa(ro.DB)), answers+1
	}
	cmds = appendCommand(cmds, "CLIENT", "REPLY", "OFF") // answered by nothing
	if _, err := c.Write(cmds); err != nil {
		return fmt.Errorf("set up the redis connection to publish: %w", err)
	}
	r := bufio.NewReaderSize(c, 256)
	for range answers {
		line, err := r.ReadString('\n')
		if err != nil {
			return fmt.Errorf("set up the redis connection to publish: %w", err)
		}
		if !strings.HasPrefix(line, "+") {
			return fmt.Errorf("redis refused the publisher's connection: %s", strings.TrimSpace(line))
		}
	}
	return nil
}

// appendCommand appends one command in RESP, the form clients send.
func appendCommand(b []byte, args ...string) []byte {
	b = appendLen(b, '*', len(args))
	for _, a := range args {
		b = appendLen(b, '$', len(a))
		b = append(b, a...)
		b = append(b, "\r\n"...)
	}
	return b
}

// appendPublishEvent appends the PUBLISH of one event message (wire.go)
// to the channel of session code, encoding the message in place.
func appendPublishEvent(b []byte, prefix, code, node string, sentMicros int64, release bool, packet []byte) []byte {
	var t [20]byte
	msgLen := 1 + len(node) + 1 + len(strconv.AppendInt(t[:0], sentMicros, 10)) + 3 + len(packet)
	b = append(b, "*3\r\n$7\r\nPUBLISH\r\n"...)
	b = appendLen(b, '$', len(prefix)+len("ev:")+len(code))
	b = append(b, prefix...)
	b = append(b, "ev:"...)
	b = append(b, code...)
	b = append(b, "\r\n"...)
	b = appendLen(b, '$', msgLen)
	b = appendEvent(b, node, sentMicros, release, packet)
	return append(b, "\r\n"...)
}

// appendLen appends a RESP header: kind ('*' array, '$' bulk) and n.
func appendLen(b []byte, kind byte, n int) []byte {
	b = append(b, kind)
	b = strconv.AppendInt(b, int64(n), 10)
	return append(b, "\r\n"...)
}
