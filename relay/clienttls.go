package relay

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
)

// TLSError says that a relay reached over https or wss could not be
// trusted: its certificate does not verify (an unknown authority, a
// name it is not for, expired), or it does not speak TLS at all.
// Retrying cannot change that, so a Session's Run returns it.
type TLSError struct {
	URL string
	Err error
}

func (e *TLSError) Error() string {
	var rh tls.RecordHeaderError
	if errors.As(e.Err, &rh) {
		return fmt.Sprintf("relay %s does not speak TLS: is it an http:// relay?", e.URL)
	}
	return fmt.Sprintf("relay %s cannot be trusted: its certificate does not verify: %v", e.URL, e.Err)
}

func (e *TLSError) Unwrap() error { return e.Err }

// tlsFailure reports whether err is a TLS verification failure, or a
// TLS handshake with a peer that answers in plain text.
func tlsFailure(err error) bool {
	var (
		ve *tls.CertificateVerificationError
		ua x509.UnknownAuthorityError
		he x509.HostnameError
		ci x509.CertificateInvalidError
		rh tls.RecordHeaderError
	)
	return errors.As(err, &ve) || errors.As(err, &ua) || errors.As(err, &he) ||
		errors.As(err, &ci) || errors.As(err, &rh)
}
