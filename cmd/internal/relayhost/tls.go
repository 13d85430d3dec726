package relayhost

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
)

// Certificate is the relay's TLS certificate and key, read from two PEM
// files and read again by Reload (on SIGHUP, see Host.SetTLS), so a
// renewed certificate needs no restart. Handshakes take the current one
// through GetCertificate; a reload swaps it atomically, and one that
// fails keeps the old one.
//
// Concurrency: safe for concurrent use; cur is swapped atomically.
type Certificate struct {
	certFile, keyFile string
	log               *slog.Logger
	cur               atomic.Pointer[tls.Certificate]
}

// LoadCertificate reads certFile and keyFile.
func LoadCertificate(certFile, keyFile string, log *slog.Logger) (*Certificate, error) {
	c := &Certificate{certFile: certFile, keyFile: keyFile, log: log}
	cert, err := c.read()
	if err != nil {
		return nil, err
	}
	c.cur.Store(cert)
	return c, nil
}

func (c *Certificate) read() (*tls.Certificate, error) {
	cert, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
	if err != nil {
		return nil, fmt.Errorf("tls certificate %s with key %s: %w", c.certFile, c.keyFile, err)
	}
	return &cert, nil
}

// Reload reads the files again and serves the new certificate from the
// next handshake on; connections open keep theirs. On failure it keeps
// the old certificate, logs one line and returns the error.
func (c *Certificate) Reload() error {
	cert, err := c.read()
	if err != nil {
		c.log.Error("certificate reload failed: still serving the old certificate", "err", err)
		return err
	}
	c.cur.Store(cert)
	c.log.Info("certificate reloaded", "cert", c.certFile, "expires", cert.Leaf.NotAfter)
	return nil
}

// GetCertificate is tls.Config.GetCertificate: the current certificate.
func (c *Certificate) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return c.cur.Load(), nil
}

// Leaf is the current certificate, parsed.
func (c *Certificate) Leaf() *x509.Certificate { return c.cur.Load().Leaf }

// TLSConfig is the server side: the current certificate, TLS 1.2 or
// later, and HTTP/1.1 only (websockets need it; an HTTP/2 connection
// cannot be upgraded).
func (c *Certificate) TLSConfig() *tls.Config {
	return &tls.Config{
		GetCertificate: c.GetCertificate,
		MinVersion:     tls.VersionTLS12,
		NextProtos:     []string{"http/1.1"},
	}
}

// reloadOnHUP reloads the certificate on every SIGHUP until stop is
// called, which waits for its goroutine.
func (c *Certificate) reloadOnHUP() (stop func()) {
	hup := make(chan os.Signal, 1) // a HUP during a reload is kept: one more reload
	signal.Notify(hup, syscall.SIGHUP)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-hup:
				_ = c.Reload() // logged
			case <-done:
				return
			}
		}
	})
	return func() {
		signal.Stop(hup)
		close(done)
		wg.Wait()
	}
}

// MachineNames are this machine's own names for relay.Config.HostNames:
// its host name and the mDNS name.local, so a page opened at
// http://jampi.local:3001 is the relay's own. None when the host name
// is unknown or localhost.
func MachineNames() []string {
	host, err := os.Hostname()
	if err != nil || host == "" || host == "localhost" {
		return nil
	}
	host = strings.ToLower(host)
	if strings.HasSuffix(host, ".local") {
		return []string{host}
	}
	return []string{host, host + ".local"}
}
