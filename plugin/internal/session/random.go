package session

import (
	"crypto/sha256"
	"encoding/base64"
)

// Token returns n bytes from read, base64url-encoded without padding: the
// state, nonce and PKCE verifier of a sign-in. It fails with ErrRandom when
// read does.
func Token(read func([]byte) error, n int) (string, error) {
	if read == nil {
		read = SystemRandom
	}
	b := make([]byte, n)
	if err := read(b); err != nil {
		return "", ErrRandom
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// Challenge returns the PKCE code challenge of verifier with the S256
// method (RFC 7636 §4.2): base64url of its SHA-256, without padding.
func Challenge(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// VerifierBytes is the randomness of a PKCE verifier: 32 bytes make the
// 43 characters RFC 7636 §4.1 asks for at least.
const VerifierBytes = 32
