package relay_test

import (
	"crypto/tls"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/jambridge/jambridge/internal/testcert"
	"github.com/jambridge/jambridge/relay"
)

// tlsRelay is a relay serving HTTPS with a certificate for 127.0.0.1
// signed by a CA of the test's own.
func tlsRelay(t *testing.T) (url string, ca *testcert.CA) {
	t.Helper()
	srv, err := relay.NewServer(relay.Config{})
	if err != nil {
		t.Fatal(err)
	}
	ca = testcert.NewCA(t, "jambridge test CA")
	leaf := ca.Leaf(t, "127.0.0.1")
	cert, err := tls.X509KeyPair(leaf.Cert, leaf.Key)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewUnstartedServer(srv)
	hs.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	hs.StartTLS()
	t.Cleanup(func() { srv.Close(); hs.Close() })
	return hs.URL, ca
}

func TestClientVerifiesTheRelaysCertificate(t *testing.T) {
	url, ca := tlsRelay(t)
	ctx, cancel := contextWithWait()
	defer cancel()
	c, err := relay.Dial(ctx, relay.ClientConfig{URL: url, TLS: &tls.Config{RootCAs: ca.Pool()}})
	if err != nil {
		t.Fatalf("with the CA: %v", err)
	}
	c.Close()

	_, err = relay.Dial(ctx, relay.ClientConfig{URL: url}) // the system's roots
	var te *relay.TLSError
	if !errors.As(err, &te) {
		t.Fatalf("without the CA: %v, want a *relay.TLSError", err)
	}
	if want := "relay " + url + " cannot be trusted: its certificate does not verify: "; !strings.HasPrefix(err.Error(), want) ||
		!strings.Contains(err.Error(), "unknown authority") {
		t.Errorf("error %q, want it to start %q and name the unknown authority", err, want)
	}

	other := testcert.NewCA(t, "someone else's CA")
	_, err = relay.Dial(ctx, relay.ClientConfig{URL: url, TLS: &tls.Config{RootCAs: other.Pool()}})
	if !errors.As(err, &te) {
		t.Errorf("with another CA: %v, want a *relay.TLSError", err)
	}
}

// A certificate that does not verify ends Run with the error at once: it
// is not retried.
func TestSessionDoesNotRetryAnUntrustedRelay(t *testing.T) {
	url, _ := tlsRelay(t)
	sess, err := relay.NewSession(relay.SessionConfig{URL: url, Name: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := contextWithWait()
	defer cancel()
	err = sess.Run(ctx)
	var te *relay.TLSError
	if !errors.As(err, &te) || ctx.Err() != nil {
		t.Fatalf("Run = %v (ctx %v), want a *relay.TLSError before the wait ends", err, ctx.Err())
	}
}

func TestClientSaysWhenTheRelayDoesNotSpeakTLS(t *testing.T) {
	r := newRelay(t, relay.Config{})
	url := "https" + strings.TrimPrefix(r.URL, "http")
	ctx, cancel := contextWithWait()
	defer cancel()
	_, err := relay.Dial(ctx, relay.ClientConfig{URL: url})
	if want := "relay " + url + " does not speak TLS: is it an http:// relay?"; err == nil || err.Error() != want {
		t.Errorf("err = %v, want %q", err, want)
	}
}
