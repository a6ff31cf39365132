package keybundle

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"

	"github.com/tokengate/tokengate/internal/jwk"
)

// PublicKey is a pinned bundle-signing key: an Ed25519 public key and its
// ID, which a bundle names so that the reader knows which pinned key to try.
type PublicKey struct {
	id  string
	key ed25519.PublicKey
}

// NewPublicKey returns pub as a PublicKey.
func NewPublicKey(pub ed25519.PublicKey) PublicKey {
	return PublicKey{id: keyID(pub), key: append(ed25519.PublicKey(nil), pub...)}
}

// ParsePublicKey reads a pinned key as the configuration writes it: the 32
// bytes of the Ed25519 public key in unpadded base64url (what String
// returns, what `jwksfetch keygen` prints, the "x" of an Ed25519 JWK). A key
// of small order, which would verify forged signatures, is refused like in
// a key set.
func ParsePublicKey(s string) (PublicKey, error) {
	raw, err := jwk.DecodeSegment(s)
	if err != nil || len(raw) != ed25519.PublicKeySize {
		got := "is not unpadded base64url"
		if err == nil {
			got = "decodes to " + strconv.Itoa(len(raw)) + " bytes"
		}
		return PublicKey{}, errors.New("a pinned bundle key must be the 32-byte Ed25519 public key in unpadded base64url " +
			"(43 characters, as `jwksfetch keygen` prints it; of openssl's 44-byte DER public key, the last 32 bytes); this one " + got)
	}
	// The same checks as an Ed25519 key in a key set: a point on the curve,
	// not of small order.
	set, warnings, err := jwk.Parse([]byte(`{"keys":[{"kty":"OKP","crv":"Ed25519","use":"sig","x":"` + s + `"}]}`))
	if err != nil || len(set.Keys) != 1 {
		why := "it is not a usable Ed25519 public key"
		if len(warnings) > 0 {
			why = strings.TrimSuffix(strings.TrimPrefix(warnings[0], "keys[0]: "), "; key ignored")
		}
		return PublicKey{}, errors.New("a pinned bundle key is refused: " + why)
	}
	return NewPublicKey(ed25519.PublicKey(raw)), nil
}

// ID is the key's ID: the first 8 bytes of the SHA-256 of the public key, in
// unpadded base64url.
func (k PublicKey) ID() string { return k.id }

// String returns the key as ParsePublicKey reads it.
func (k PublicKey) String() string { return base64.RawURLEncoding.EncodeToString(k.key) }

// Equal reports whether k and o are the same key.
func (k PublicKey) Equal(o PublicKey) bool { return k.key.Equal(o.key) }

func keyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return base64.RawURLEncoding.EncodeToString(sum[:8])
}
