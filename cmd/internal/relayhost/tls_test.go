package relayhost

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jambridge/jambridge/internal/testcert"
	"github.com/jambridge/jambridge/relay"
)

// tlsHost serves a relay over TLS with a certificate for 127.0.0.1 from
// files in a temporary directory, signed by ca.
func tlsHost(t *testing.T, ca *testcert.CA, logs io.Writer) (h *Host, addr, dir string) {
	t.Helper()
	dir = t.TempDir()
	certFile, keyFile := testcert.WriteFiles(t, dir, ca.Leaf(t, "127.0.0.1"))
	log := slog.New(slog.NewTextHandler(logs, nil))
	cert, err := LoadCertificate(certFile, keyFile, log)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := relay.NewServer(relay.Config{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	h = New(srv, log)
	h.SetTLS(cert)
	addr = h.Serve(listen(t)).Addr().String()
	t.Cleanup(func() { h.Close() })
	return h, addr, dir
}

// servedSerial is the serial number of the certificate a new handshake
// with addr gets.
func servedSerial(t *testing.T, addr string, ca *testcert.CA) string {
	t.Helper()
	c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: ca.Pool()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.ConnectionState().PeerCertificates[0].SerialNumber.String()
}

func dialRelay(t *testing.T, url string, ca *testcert.CA) *relay.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), hang)
	defer cancel()
	c, err := relay.Dial(ctx, relay.ClientConfig{URL: url, TLS: &tls.Config{RootCAs: ca.Pool()}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// HTTPS and WSS only: a client trusting the CA connects; plain HTTP to
// the port gets no session.
func TestHostServesTLSOnly(t *testing.T) {
	ca := testcert.NewCA(t, "rehearsal room CA")
	_, addr, _ := tlsHost(t, ca, io.Discard)
	dialRelay(t, "https://"+addr, ca)

	res, err := http.Get("http://" + addr + "/socket.io/?EIO=4&transport=polling")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode == http.StatusOK || bytes.Contains(body, []byte(`"sid"`)) {
		t.Errorf("plain HTTP to the TLS port: %d %q, want no session", res.StatusCode, body)
	}
}

// SIGHUP swaps the certificate for new handshakes while a member stays
// connected; a reload that fails keeps the old certificate and says so
// in one line.
func TestSIGHUPReloadsTheCertificate(t *testing.T) {
	ca := testcert.NewCA(t, "rehearsal room CA")
	logs := &syncBuffer{}
	_, addr, dir := tlsHost(t, ca, logs)
	member := dialRelay(t, "https://"+addr, ca)
	before := servedSerial(t, addr, ca)

	testcert.WriteFiles(t, dir, ca.Leaf(t, "127.0.0.1"))
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(hang)
	for servedSerial(t, addr, ca) == before {
		if time.Now().After(deadline) {
			t.Fatalf("certificate not swapped within %v of SIGHUP", hang)
		}
		time.Sleep(time.Millisecond)
	}
	after := servedSerial(t, addr, ca)
	if _, err := member.Call(context.Background(), "clock:sync", map[string]any{}); err != nil {
		t.Errorf("member connected before the reload: %v", err)
	}

	os.WriteFile(dir+"/cert.pem", []byte("not a certificate"), 0o600)
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	for !strings.Contains(logs.String(), "certificate reload failed") {
		if time.Now().After(deadline) {
			t.Fatalf("no log line of the failed reload within %v:\n%s", hang, logs)
		}
		time.Sleep(time.Millisecond)
	}
	if got := servedSerial(t, addr, ca); got != after {
		t.Errorf("after a failed reload the relay serves %s, want the old %s", got, after)
	}
	if n := strings.Count(logs.String(), "certificate reload failed"); n != 1 {
		t.Errorf("%d lines about the failed reload, want 1:\n%s", n, logs)
	}
}

// An idle keep-alive connection is closed by the server after the idle
// timeout: the client reads EOF.
func TestIdleKeepAliveConnectionIsClosed(t *testing.T) {
	h := newHost(t)
	h.SetTimeouts(Timeouts{ReadHeader: hang, Idle: 50 * time.Millisecond})
	addr := h.Serve(listen(t)).Addr().String()
	defer h.Close()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	br := bufio.NewReader(c)
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.Close {
		t.Fatal("the server asked to close after one request: not a keep-alive test")
	}
	c.SetReadDeadline(time.Now().Add(hang))
	if n, err := br.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("idle keep-alive connection: read %d bytes, %v; want EOF from the server", n, err)
	}
}

// syncBuffer is a bytes.Buffer for a logger and a test at once.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// The relay's listener counts HTTP connections per address: with a limit
// of 2, a third idle connection from the same address is closed
// unanswered.
func TestHostCountsConnectionsPerAddress(t *testing.T) {
	srv, err := relay.NewServer(relay.Config{MaxConnectionsPerIP: 2, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	h := New(srv, slog.New(slog.DiscardHandler))
	addr := h.Serve(listen(t)).Addr().String()
	defer h.Close()
	var conns []net.Conn
	for range 3 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns = append(conns, c)
	}
	conns[2].SetReadDeadline(time.Now().Add(hang))
	if n, err := conns[2].Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("third connection: read %d bytes, %v; want EOF", n, err)
	}
	fmt.Fprintf(conns[0], "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	conns[0].SetReadDeadline(time.Now().Add(hang))
	if _, err := http.ReadResponse(bufio.NewReader(conns[0]), nil); err != nil {
		t.Errorf("first connection: %v", err)
	}
}
