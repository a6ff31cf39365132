package jwa

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"math/big"
)

// Errors Verify returns. A caller must treat any error as an invalid
// signature; the sentinels only say why, for logs and tests.
var (
	// ErrKeyType means the key is not of the type the algorithm needs
	// (*rsa.PublicKey, *ecdsa.PublicKey on the algorithm's curve, or an
	// ed25519.PublicKey); pick keys with the JWK's kty and crv.
	ErrKeyType = errors.New("jwa: the key's type or curve does not fit the algorithm")
	// ErrSignatureInvalid means the signature does not verify with the key.
	ErrSignatureInvalid = errors.New("jwa: signature invalid")
)

type family int

const (
	rsaPKCS1 family = iota
	rsaPSS
	ecdsaP1363
	eddsa
)

// Method verifies the signatures of one JWS algorithm. Methods are
// immutable and safe for concurrent use.
type Method struct {
	name   string
	family family
	hash   crypto.Hash // not used by EdDSA, which hashes internally
	size   int         // ECDSA: bytes of r and of s
	curve  string      // ECDSA: the curve the algorithm names
}

// The methods, named after their "alg" header value.
var (
	RS256 = &Method{name: "RS256", family: rsaPKCS1, hash: crypto.SHA256}
	RS384 = &Method{name: "RS384", family: rsaPKCS1, hash: crypto.SHA384}
	RS512 = &Method{name: "RS512", family: rsaPKCS1, hash: crypto.SHA512}
	PS256 = &Method{name: "PS256", family: rsaPSS, hash: crypto.SHA256}
	PS384 = &Method{name: "PS384", family: rsaPSS, hash: crypto.SHA384}
	PS512 = &Method{name: "PS512", family: rsaPSS, hash: crypto.SHA512}
	ES256 = &Method{name: "ES256", family: ecdsaP1363, hash: crypto.SHA256, size: 32, curve: "P-256"}
	ES384 = &Method{name: "ES384", family: ecdsaP1363, hash: crypto.SHA384, size: 48, curve: "P-384"}
	ES512 = &Method{name: "ES512", family: ecdsaP1363, hash: crypto.SHA512, size: 66, curve: "P-521"}
	EdDSA = &Method{name: "EdDSA", family: eddsa}
)

var byName = map[string]*Method{
	"RS256": RS256, "RS384": RS384, "RS512": RS512,
	"PS256": PS256, "PS384": PS384, "PS512": PS512,
	"ES256": ES256, "ES384": ES384, "ES512": ES512,
	"EdDSA": EdDSA, "Ed25519": EdDSA, // RFC 9864's fully-specified name
}

// Lookup returns the method of the "alg" value name, or nil when the
// package has none (HMAC, "none" and unknown names).
func Lookup(name string) *Method { return byName[name] }

// Name returns the algorithm's "alg" value.
func (m *Method) Name() string { return m.name }

// Verify checks that sig is m's signature of signingInput (the JWS
// "header.payload") under key. It returns nil only for a valid signature.
func (m *Method) Verify(signingInput string, sig []byte, key crypto.PublicKey) error {
	switch m.family {
	case rsaPKCS1, rsaPSS:
		k, ok := key.(*rsa.PublicKey)
		if !ok || k == nil {
			return ErrKeyType
		}
		digest := m.digest(signingInput)
		var err error
		if m.family == rsaPKCS1 {
			err = rsa.VerifyPKCS1v15(k, m.hash, digest, sig)
		} else {
			err = rsa.VerifyPSS(k, m.hash, digest, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
		}
		if err != nil {
			return ErrSignatureInvalid
		}
		return nil
	case ecdsaP1363:
		k, ok := key.(*ecdsa.PublicKey)
		if !ok || k == nil || k.Curve == nil || k.Curve.Params().Name != m.curve {
			return ErrKeyType
		}
		// RFC 7518 §3.4: r and s, each left-padded to the curve's size.
		if len(sig) != 2*m.size {
			return ErrSignatureInvalid
		}
		r := new(big.Int).SetBytes(sig[:m.size])
		s := new(big.Int).SetBytes(sig[m.size:])
		if !ecdsa.Verify(k, m.digest(signingInput), r, s) {
			return ErrSignatureInvalid
		}
		return nil
	case eddsa:
		k, ok := key.(ed25519.PublicKey)
		if !ok || len(k) != ed25519.PublicKeySize {
			return ErrKeyType
		}
		if !ed25519.Verify(k, []byte(signingInput), sig) {
			return ErrSignatureInvalid
		}
		return nil
	}
	return ErrKeyType
}

// digest hashes the signing input without going through crypto.Hash.New,
// which needs the hash packages registered as a side effect of imports.
func (m *Method) digest(input string) []byte {
	switch m.hash {
	case crypto.SHA256:
		d := sha256.Sum256([]byte(input))
		return d[:]
	case crypto.SHA384:
		d := sha512.Sum384([]byte(input))
		return d[:]
	default:
		d := sha512.Sum512([]byte(input))
		return d[:]
	}
}
