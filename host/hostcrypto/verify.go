package hostcrypto

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"sync"

	"github.com/tokengate/tokengate/internal/verifysig"
)

// FunctionName is the name Envoy registers the function under and plugins
// call it by (internal/verifysig owns it, with the message format).
const FunctionName = verifysig.FunctionName

// VerifySignature is the verify_signature foreign function: args is a
// serialized VerifySignatureArguments message, the reply a serialized
// VerifySignatureResult. Its signature fits host.WithForeignFunction.
//
// The reply says result true only for a signature that verifies. A wrong
// signature, an unknown hash or an unusable key type is result false with a
// reason; arguments that do not decode, or a key that does not parse, are an
// error, which the host answers with a failure status.
func VerifySignature(args []byte) ([]byte, error) {
	a, err := verifysig.DecodeArguments(args)
	if err != nil {
		return nil, fmt.Errorf("hostcrypto: the verify_signature arguments do not decode: %w", err)
	}
	pub, err := publicKey(a)
	if err != nil {
		return nil, err
	}
	h, ok := hashes[a.HashFunction]
	if !ok {
		return encodeResult(false, "unsupported hash function "+quote(a.HashFunction)+"; use sha1, sha224, sha256, sha384 or sha512"), nil
	}
	hh := h.New()
	hh.Write(a.Text)
	digest := hh.Sum(nil)
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if rsa.VerifyPKCS1v15(k, h, digest, a.Signature) != nil {
			return encodeResult(false, "signature does not verify"), nil
		}
	case *ecdsa.PublicKey:
		if !ecdsa.VerifyASN1(k, digest, a.Signature) {
			return encodeResult(false, "signature does not verify"), nil
		}
	default:
		return encodeResult(false, "key type cannot verify a digest signature; only RSA and ECDSA keys can"), nil
	}
	return encodeResult(true, ""), nil
}

var hashes = map[string]crypto.Hash{
	"sha1":   crypto.SHA1,
	"sha224": crypto.SHA224,
	"sha256": crypto.SHA256,
	"sha384": crypto.SHA384,
	"sha512": crypto.SHA512,
}

// The hash implementations must be linked for crypto.Hash.New to work.
var _, _, _ = sha1.New, sha256.New, sha512.New

// publicKey parses the DER key, or else the PEM one.
func publicKey(a verifysig.Arguments) (crypto.PublicKey, error) {
	der := a.PublicKey
	if len(der) == 0 {
		if len(a.PublicKeyPEM) == 0 {
			return nil, errors.New("hostcrypto: verify_signature arguments carry no public key; set public_key (DER) or public_key_pem")
		}
		block, _ := pem.Decode(a.PublicKeyPEM)
		if block == nil {
			return nil, errors.New("hostcrypto: public_key_pem is not PEM; send a \"PUBLIC KEY\" PEM block, or public_key as DER")
		}
		der = block.Bytes
	}
	if pub := parsed.get(der); pub != nil {
		return pub, nil
	}
	pub, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("hostcrypto: the public key is not a DER SubjectPublicKeyInfo; send public_key as x509.MarshalPKIXPublicKey writes it: %w", err)
	}
	parsed.put(der, pub)
	return pub, nil
}

// parsed holds the keys parsed lately, by their DER bytes: a plugin sends
// the same few keys with every signature, and parsing one costs about as
// much as a third of an RSA check.
var parsed = keyCache{keys: map[string]crypto.PublicKey{}}

// maxParsedKeys bounds the cache; when it is full it starts again empty.
const maxParsedKeys = 64

type keyCache struct {
	mu   sync.Mutex
	keys map[string]crypto.PublicKey
}

func (c *keyCache) get(der []byte) crypto.PublicKey {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.keys[string(der)]
}

func (c *keyCache) put(der []byte, pub crypto.PublicKey) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.keys) >= maxParsedKeys {
		clear(c.keys)
	}
	c.keys[string(der)] = pub
}

// encodeResult is the reply: result true only for a signature that
// verifies, a reason for every other answer.
func encodeResult(ok bool, reason string) []byte {
	return verifysig.EncodeResult(verifysig.Result{OK: ok, Error: reason})
}

func quote(s string) string {
	if len(s) > 32 {
		s = s[:32] + "…"
	}
	return `"` + s + `"`
}
