package main

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jambridge/jambridge/cmd/internal/relayhost"
	"github.com/jambridge/jambridge/internal/testcert"
	"github.com/jambridge/jambridge/relay"
)

// tlsHosted hosts a relay over TLS with a certificate for names, signed
// by a CA of the test's, and returns it with the CA's PEM file.
func tlsHosted(t *testing.T, names ...string) (h *hostedRelay, caFile string) {
	t.Helper()
	ca := testcert.NewCA(t, "rehearsal room CA")
	dir := t.TempDir()
	certFile, keyFile := testcert.WriteFiles(t, dir, ca.Leaf(t, names...))
	caFile = filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, ca.PEM, 0o600); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	cert, err := relayhost.LoadCertificate(certFile, keyFile, log)
	if err != nil {
		t.Fatal(err)
	}
	h, err = hostRelayTLS("127.0.0.1:0", nil, log, cert)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h, caFile
}

// monitor over wss: without --ca the relay's certificate does not verify
// and the command ends at once in one sentence that says what to do;
// with --ca (or JAMBRIDGE_CA) it reaches the relay, which answers.
func TestMonitorOverTLSNeedsTheCA(t *testing.T) {
	h, caFile := tlsHosted(t, "127.0.0.1")
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	args := []string{"jambridge", "monitor", "--relay", h.localURL, "--room", "NOBODY-1"}
	err := run(ctx, args, &syncBuf{}, &syncBuf{})
	if err == nil || strings.Contains(err.Error(), "\n") || ctx.Err() != nil ||
		!strings.Contains(err.Error(), "cannot be trusted: its certificate does not verify") || !strings.Contains(err.Error(), "--ca FILE") {
		t.Fatalf("without --ca: %v, want one sentence, at once, about the certificate and --ca", err)
	}
	err = run(ctx, append(args, "--ca", caFile), &syncBuf{}, &syncBuf{})
	var re *relay.RelayError
	if !errors.As(err, &re) || re.Code != relay.CodeSessionNotFound {
		t.Errorf("with --ca: %v, want the relay's session_not_found", err)
	}
	t.Setenv("JAMBRIDGE_CA", caFile)
	err = run(ctx, args, &syncBuf{}, &syncBuf{})
	if !errors.As(err, &re) || re.Code != relay.CodeSessionNotFound {
		t.Errorf("with JAMBRIDGE_CA: %v, want the relay's session_not_found", err)
	}
	os.Unsetenv("JAMBRIDGE_CA") // t.Setenv restores it
	config := filepath.Join(t.TempDir(), "jambridge.yaml")
	os.WriteFile(config, []byte("ca: "+caFile+"\n"), 0o600)
	err = run(ctx, append(args, "--config", config), &syncBuf{}, &syncBuf{})
	if !errors.As(err, &re) || re.Code != relay.CodeSessionNotFound {
		t.Errorf("with config key ca: %v, want the relay's session_not_found", err)
	}
	err = run(ctx, append(args, "--ca", filepath.Join(t.TempDir(), "none.pem")), &syncBuf{}, &syncBuf{})
	if err == nil || !strings.HasPrefix(err.Error(), "--ca: ") {
		t.Errorf("missing CA file: %v, want an error naming --ca", err)
	}
}

// The hosting jambridge reaches its own TLS relay even when the
// certificate names only the public host, by trusting exactly that
// certificate.
func TestHostOverTLSTrustsItsOwnCertificate(t *testing.T) {
	h, _ := tlsHosted(t, "jam.example.org")
	if !strings.HasPrefix(h.localURL, "https://127.0.0.1:") || !strings.HasPrefix(h.shareURL, "https://") {
		t.Fatalf("local %s, share %s: want https", h.localURL, h.shareURL)
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	c, err := relay.Dial(ctx, relay.ClientConfig{URL: h.localURL, TLS: pinnedTLS(h.cert)})
	if err != nil {
		t.Fatalf("own connection: %v", err)
	}
	c.Close()
	var te *relay.TLSError
	if _, err := relay.Dial(ctx, relay.ClientConfig{URL: h.localURL}); !errors.As(err, &te) {
		t.Errorf("a stranger without the CA: %v, want a *relay.TLSError", err)
	}
}
