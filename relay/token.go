package relay

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Access tokens are HS256 JWTs signed with the relay's auth secret
// (Config.AuthSecret). A relay with a secret refuses every Socket.IO
// CONNECT without a valid one. Claims: exp (required), room (the only
// session the holder may create or join) and name (the participant's
// name, which the client cannot change).

// MinAuthSecret is the shortest auth secret accepted, in bytes: HS256
// wants a key of at least its hash's size to be worth anything.
const MinAuthSecret = 32

// Token errors, the reasons a CONNECT is refused; their text is what the
// client reads in the CONNECT_ERROR.
var (
	ErrTokenMissing   = errors.New("access token missing: connect with auth {token}")
	ErrTokenExpired   = errors.New("access token expired")
	ErrTokenSignature = errors.New("access token has a bad signature")
	ErrTokenMalformed = errors.New("access token malformed")
)

// TokenClaims are what an access token grants.
type TokenClaims struct {
	Room    string    // the only session the holder may create or join; "" for any
	Name    string    // the holder's participant name; "" lets the client choose
	Expires time.Time // required
}

// jwtClaims is the JSON of a token's claims.
type jwtClaims struct {
	Room string `json:"room,omitempty"`
	Name string `json:"name,omitempty"`
	jwt.RegisteredClaims
}

// SignToken returns an HS256 JWT of c signed with secret.
func SignToken(secret []byte, c TokenClaims) (string, error) {
	if len(secret) < MinAuthSecret {
		return "", fmt.Errorf("sign token: the auth secret has %d bytes; it needs at least %d", len(secret), MinAuthSecret)
	}
	if c.Expires.IsZero() {
		return "", errors.New("sign token: a token needs an expiry")
	}
	if c.Room != "" {
		code, ok := normalizeRoomCode(c.Room)
		if !ok {
			return "", fmt.Errorf("sign token: room %q is not a room code (3 to 32 letters, digits or '-')", c.Room)
		}
		c.Room = code
	}
	if len(c.Name) > maxNameLen {
		return "", fmt.Errorf("sign token: name %q is longer than %d characters", c.Name, maxNameLen)
	}
	t := jwt.NewWithClaims(jwt.SigningMethodHS256, jwtClaims{
		Room: c.Room, Name: c.Name,
		RegisteredClaims: jwt.RegisteredClaims{ExpiresAt: jwt.NewNumericDate(c.Expires)},
	})
	return t.SignedString(secret)
}

// VerifyToken checks token against secret at now and returns its claims;
// its errors wrap ErrTokenMissing, ErrTokenExpired, ErrTokenSignature or
// ErrTokenMalformed. Only HS256 is accepted (never "none").
func VerifyToken(secret []byte, token string, now time.Time) (TokenClaims, error) {
	if token == "" {
		return TokenClaims{}, ErrTokenMissing
	}
	var c jwtClaims
	_, err := jwt.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return secret, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(func() time.Time { return now }))
	switch {
	case err == nil:
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return TokenClaims{}, ErrTokenSignature
	case errors.Is(err, jwt.ErrTokenExpired):
		return TokenClaims{}, ErrTokenExpired
	default:
		return TokenClaims{}, ErrTokenMalformed
	}
	out := TokenClaims{Name: truncate(c.Name, maxNameLen), Expires: c.ExpiresAt.Time}
	if c.Room != "" {
		code, ok := normalizeRoomCode(c.Room)
		if !ok {
			return TokenClaims{}, fmt.Errorf("%w: room claim %q is not a room code", ErrTokenMalformed, truncate(c.Room, 40))
		}
		out.Room = code
	}
	return out, nil
}

// ReadAuthSecret reads an auth secret from path: the file's bytes with
// surrounding whitespace (a trailing newline) trimmed, at least
// MinAuthSecret of them.
func ReadAuthSecret(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read auth secret: %w", err)
	}
	b = bytes.TrimSpace(b)
	if len(b) < MinAuthSecret {
		return nil, fmt.Errorf("auth secret file %s holds %d bytes; it needs at least %d (make one with `head -c 32 /dev/urandom | base64 > %s`)",
			path, len(b), MinAuthSecret, path)
	}
	return b, nil
}
