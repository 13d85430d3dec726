package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/jambridge/jambridge/cmd/internal/relayhost"
	"github.com/jambridge/jambridge/relay"
)

// publicFlags are the flags of a relay facing the internet: TLS, the
// per-address limits, proxies and origins.
func publicFlags() []cli.Flag {
	d := relay.DefaultConfig()
	t := relayhost.DefaultTimeouts()
	return []cli.Flag{
		&cli.StringFlag{Name: "tls-cert", EnvVars: []string{"JAMRELAY_TLS_CERT"}, Usage: "PEM certificate (chain) file: serve HTTPS and WSS only; reloaded on SIGHUP"},
		&cli.StringFlag{Name: "tls-key", EnvVars: []string{"JAMRELAY_TLS_KEY"}, Usage: "PEM private key file of --tls-cert"},
		&cli.StringSliceFlag{Name: "public-url", EnvVars: []string{"JAMRELAY_PUBLIC_URL"}, Usage: "the relay's own origin as browsers see it, e.g. https://jam.example.org (repeat or comma list; default: the address a connection came in on)"},
		&cli.StringSliceFlag{Name: "trusted-proxy", EnvVars: []string{"JAMRELAY_TRUSTED_PROXY"}, Usage: "reverse proxy whose X-Forwarded-For names the client: a CIDR or an address (repeat or comma list)"},
		&cli.IntFlag{Name: "max-connections-per-ip", Value: d.MaxConnectionsPerIP, EnvVars: []string{"JAMRELAY_MAX_CONNECTIONS_PER_IP"}, Usage: "sessions plus open HTTP connections one client address (an IPv6 /64) may hold"},
		&cli.DurationFlag{Name: "handshake-window", Value: d.HandshakeWindow, EnvVars: []string{"JAMRELAY_HANDSHAKE_WINDOW"}, Usage: "expire a long-polling session that neither polls again nor upgrades this long after its handshake"},
		&cli.DurationFlag{Name: "idle-timeout", Value: t.Idle, EnvVars: []string{"JAMRELAY_IDLE_TIMEOUT"}, Usage: "close a keep-alive HTTP connection idle this long"},
	}
}

// publicConfig adds the public flags' settings to cfg.
func publicConfig(c *cli.Context, cfg *relay.Config) error {
	if c.Int("max-connections-per-ip") <= 0 {
		return fmt.Errorf("--max-connections-per-ip must be at least 1, got %d", c.Int("max-connections-per-ip"))
	}
	for _, name := range []string{"handshake-window", "idle-timeout"} {
		if c.Duration(name) <= 0 {
			return fmt.Errorf("--%s must be positive, got %v", name, c.Duration(name))
		}
	}
	proxies, err := parseProxies(c.StringSlice("trusted-proxy"))
	if err != nil {
		return err
	}
	cfg.MaxConnectionsPerIP = c.Int("max-connections-per-ip")
	cfg.HandshakeWindow = c.Duration("handshake-window")
	cfg.TrustedProxies = proxies
	cfg.HostNames = relayhost.MachineNames()
	for _, u := range c.StringSlice("public-url") {
		cfg.PublicOrigins = append(cfg.PublicOrigins, strings.TrimSuffix(strings.TrimSpace(u), "/"))
	}
	return nil
}

// parseProxies reads --trusted-proxy values: CIDRs, or single addresses.
func parseProxies(list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range list {
		s = strings.TrimSpace(s)
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("--trusted-proxy %q: want a CIDR such as 10.0.0.0/8 or an address", s)
		}
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// setupHost gives host its TLS certificate, when --tls-cert is set, and
// its HTTP timeouts.
func setupHost(c *cli.Context, host *relayhost.Host, log *slog.Logger) error {
	certFile, keyFile := c.String("tls-cert"), c.String("tls-key")
	if (certFile == "") != (keyFile == "") {
		return errors.New("--tls-cert and --tls-key go together: give both, or neither")
	}
	t := relayhost.DefaultTimeouts()
	t.Idle = c.Duration("idle-timeout")
	host.SetTimeouts(t)
	if certFile == "" {
		return nil
	}
	cert, err := relayhost.LoadCertificate(certFile, keyFile, log)
	if err != nil {
		return fmt.Errorf("--tls-cert: %w", err)
	}
	host.SetTLS(cert)
	log.Info("serving HTTPS and WSS only", "cert", certFile, "expires", cert.Leaf().NotAfter.Format(time.DateOnly))
	return nil
}
