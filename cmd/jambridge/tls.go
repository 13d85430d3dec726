package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/jambridge/jambridge/cmd/internal/relayhost"
	"github.com/jambridge/jambridge/relay"
)

func caFlag() cli.Flag {
	return &cli.StringFlag{Name: "ca", EnvVars: []string{"JAMBRIDGE_CA"}, Usage: "PEM file of a private CA to trust for an https:// relay (default: the system's roots)"}
}

// tlsFlags are run's flags for hosting over TLS.
func tlsFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "tls-cert", EnvVars: []string{"JAMBRIDGE_TLS_CERT"}, Usage: "when hosting: PEM certificate file, to serve HTTPS and WSS only (reloaded on SIGHUP)"},
		&cli.StringFlag{Name: "tls-key", EnvVars: []string{"JAMBRIDGE_TLS_KEY"}, Usage: "when hosting: PEM private key file of --tls-cert"},
	}
}

// relayTLS is the client TLS config for an https relay: the system's
// roots (nil), or only the CA of --ca (env JAMBRIDGE_CA, config key ca).
func relayTLS(st settings) (*tls.Config, error) {
	path := st.str("ca", st.file.CA)
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", st.where("ca", st.file.CA), err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("%s: no PEM certificate in %s", st.where("ca", st.file.CA), path)
	}
	return &tls.Config{RootCAs: pool}, nil
}

// hostCertificate loads --tls-cert and --tls-key (config keys tls-cert,
// tls-key) for hosting; nil when neither is set.
func hostCertificate(st settings, log *slog.Logger) (*relayhost.Certificate, error) {
	certFile, keyFile := st.str("tls-cert", st.file.TLSCert), st.str("tls-key", st.file.TLSKey)
	if certFile == "" && keyFile == "" {
		return nil, nil
	}
	if certFile == "" || keyFile == "" {
		return nil, errors.New("--tls-cert and --tls-key go together: give both, or neither")
	}
	cert, err := relayhost.LoadCertificate(certFile, keyFile, quietRelayLog(log))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", st.where("tls-cert", st.file.TLSCert), err)
	}
	return cert, nil
}

// pinnedTLS is the TLS config of our own connection to the relay we
// host: it trusts exactly the certificate we serve, whatever names it
// holds (127.0.0.1 is rarely one of them).
func pinnedTLS(cert *relayhost.Certificate) *tls.Config {
	return &tls.Config{
		InsecureSkipVerify: true, // verified below, against our own certificate
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 || !bytes.Equal(cs.PeerCertificates[0].Raw, cert.Leaf().Raw) {
				return errors.New("the hosted relay served a certificate that is not ours")
			}
			return nil
		},
	}
}

// caHint adds what to do to an error about a relay whose certificate
// does not verify.
func caHint(err error) error {
	var te *relay.TLSError
	var rh tls.RecordHeaderError
	if errors.As(err, &te) && !errors.As(err, &rh) {
		return fmt.Errorf("%w (for a relay with a private CA, give --ca FILE)", err)
	}
	return err
}
