package main

import (
	"context"
	"crypto/tls"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jambridge/jambridge/internal/testcert"
	"github.com/jambridge/jambridge/relay"
)

// jamrelay --tls-cert --tls-key serves WSS to a client trusting the CA,
// and a SIGHUP serves a renewed certificate without a restart.
func TestBinaryServesTLSAndReloadsOnSIGHUP(t *testing.T) {
	ca := testcert.NewCA(t, "rehearsal room CA")
	dir := t.TempDir()
	certFile, keyFile := testcert.WriteFiles(t, dir, ca.Leaf(t, "127.0.0.1"))
	cmd, url, _ := startBinary(t, nil, "--tls-cert", certFile, "--tls-key", keyFile)
	url = "https" + strings.TrimPrefix(url, "http")
	trust := &tls.Config{RootCAs: ca.Pool()}
	serial := func() string {
		res, err := (&http.Client{Timeout: hang, Transport: &http.Transport{TLSClientConfig: trust, DisableKeepAlives: true}}).Get(url + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.TLS.PeerCertificates[0].SerialNumber.String()
	}
	ctx, cancel := context.WithTimeout(context.Background(), hang)
	defer cancel()
	c, err := relay.Dial(ctx, relay.ClientConfig{URL: url, TLS: trust})
	if err != nil {
		t.Fatalf("wss with the CA: %v", err)
	}
	defer c.Close()
	before := serial()
	testcert.WriteFiles(t, dir, ca.Leaf(t, "127.0.0.1"))
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(hang)
	for serial() == before {
		if time.Now().After(deadline) {
			t.Fatalf("certificate not reloaded within %v of SIGHUP", hang)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if _, err := c.Call(ctx, "clock:sync", map[string]any{}); err != nil {
		t.Errorf("member connected before the reload: %v", err)
	}
	stopWithSIGTERM(t, cmd)
}
