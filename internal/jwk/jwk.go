package jwk

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"math/big"
	"strconv"

	"github.com/tidwall/gjson"

	"github.com/tokengate/tokengate/internal/der"
	"github.com/tokengate/tokengate/internal/jsonstrict"
)

// MinRSABits is the smallest RSA modulus accepted (RFC 7518 §3.3, RFC 8725).
const MinRSABits = 2048

// maxRSABits bounds the cost of a single verification; keys above it are
// almost certainly mistakes or attempts to slow the proxy down.
const maxRSABits = 8192

// Key is one usable public key of a set.
type Key struct {
	Kid string // "kid", may be empty
	Kty string // "RSA", "EC" or "OKP"
	Alg string // "alg" as published, may be empty
	Use string // "use" as published, may be empty (only "sig" is kept)
	Crv string // "P-256", "P-384", "P-521" or "Ed25519" for EC and OKP keys

	// Public is *rsa.PublicKey, *ecdsa.PublicKey or ed25519.PublicKey.
	Public crypto.PublicKey
}

// Set is the usable part of a JWK Set, in document order.
type Set struct {
	Keys []*Key
}

// ErrNotASet reports a document that is not a JWK Set.
var ErrNotASet = errors.New(`not a JWK Set: want a JSON object with a "keys" array`)

// Parse parses an RFC 7517 JWK Set. It fails only when data is not a JSON
// object with a "keys" array. Each key that cannot be used to verify
// signatures is skipped and produces one warning naming it by index and kid.
func Parse(data []byte) (*Set, []string, error) {
	if err := jsonstrict.Check(data); err != nil {
		// Duplicate members at any depth, invalid UTF-8, or nesting deep
		// enough to exhaust a Wasm engine's stack: readers disagree on such
		// a document, so no key of it is used.
		return nil, nil, notASet{err}
	}
	doc := gjson.ParseBytes(data)
	keys := doc.Get("keys")
	if !doc.IsObject() || !keys.IsArray() {
		return nil, nil, ErrNotASet
	}
	set := &Set{}
	var warnings []string
	i := 0
	keys.ForEach(func(_, v gjson.Result) bool {
		k, err := parseKey(v)
		if err != nil {
			name := "keys[" + strconv.Itoa(i) + "]"
			if kid := v.Get("kid"); kid.Type == gjson.String {
				name += " (kid " + strconv.Quote(kid.Str) + ")"
			}
			warnings = append(warnings, name+": "+err.Error()+"; key ignored")
		} else {
			set.Keys = append(set.Keys, k)
		}
		i++
		return true
	})
	return set, warnings, nil
}

func parseKey(v gjson.Result) (*Key, error) {
	if !v.IsObject() {
		return nil, errors.New("not a JSON object")
	}
	k := &Key{}
	var err error
	if k.Kty, err = member(v, "kty", true); err != nil {
		return nil, err
	}
	if k.Kid, err = member(v, "kid", false); err != nil {
		return nil, err
	}
	if k.Alg, err = member(v, "alg", false); err != nil {
		return nil, err
	}
	if k.Use, err = member(v, "use", false); err != nil {
		return nil, err
	}
	if k.Use != "" && k.Use != "sig" {
		return nil, errors.New(`"use" is ` + strconv.Quote(k.Use) + `; only "sig" keys verify tokens`)
	}
	if ops := v.Get("key_ops"); ops.Exists() {
		if !ops.IsArray() {
			return nil, errors.New(`"key_ops" must be an array`)
		}
		verify := false
		for _, op := range ops.Array() {
			if op.Type == gjson.String && op.Str == "verify" {
				verify = true
			}
		}
		if !verify {
			return nil, errors.New(`"key_ops" does not include "verify"`)
		}
	}
	if k.Kty == "oct" {
		return nil, errors.New("symmetric (oct) keys are never accepted")
	}
	for _, private := range []string{"d", "p", "q", "dp", "dq", "qi", "k"} {
		if v.Get(private).Exists() {
			return nil, errors.New("contains private member " + strconv.Quote(private) + "; publish public keys only")
		}
	}
	switch k.Kty {
	case "RSA":
		err = parseRSA(v, k)
	case "EC":
		err = parseEC(v, k)
	case "OKP":
		err = parseOKP(v, k)
	default:
		err = errors.New("unsupported kty " + strconv.Quote(k.Kty))
	}
	if err != nil {
		return nil, err
	}
	if k.Alg != "" && !algFits(k) {
		return nil, errors.New(`"alg" ` + strconv.Quote(k.Alg) + " does not fit a " + k.Kty + " " + k.Crv + " key")
	}
	return k, nil
}

// algFits reports whether the key's published alg can be used with its type.
func algFits(k *Key) bool {
	switch k.Alg {
	case "RS256", "RS384", "RS512", "PS256", "PS384", "PS512":
		return k.Kty == "RSA"
	case "ES256":
		return k.Crv == "P-256"
	case "ES384":
		return k.Crv == "P-384"
	case "ES512":
		return k.Crv == "P-521"
	case "EdDSA", "Ed25519":
		return k.Crv == "Ed25519"
	}
	return false
}

// member returns a string member, failing when it has another type.
func member(v gjson.Result, name string, required bool) (string, error) {
	m := v.Get(name)
	switch {
	case !m.Exists():
		if required {
			return "", errors.New("missing " + strconv.Quote(name))
		}
		return "", nil
	case m.Type != gjson.String:
		return "", errors.New(strconv.Quote(name) + " must be a string")
	}
	return m.Str, nil
}

// b64 decodes a required base64url member strictly: no padding, no
// whitespace, no stray bits.
func b64(v gjson.Result, name string) ([]byte, error) {
	s, err := member(v, name, true)
	if err != nil {
		return nil, err
	}
	b, err := DecodeSegment(s)
	if err != nil || len(b) == 0 {
		return nil, errors.New(strconv.Quote(name) + " is not valid unpadded base64url")
	}
	return b, nil
}

// DecodeSegment decodes unpadded base64url strictly. Go's decoder skips CR
// and LF, which JOSE does not allow, so the alphabet is checked first.
func DecodeSegment(s string) ([]byte, error) {
	for i := 0; i < len(s); i++ {
		if !base64URL[s[i]] {
			return nil, errBase64
		}
	}
	return base64.RawURLEncoding.Strict().DecodeString(s)
}

// base64URL marks the 64 characters of the base64url alphabet. A table
// look-up per byte: a token's segments are checked on every new token.
var base64URL = func() (t [256]bool) {
	for _, c := range "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_" {
		t[c] = true
	}
	return t
}()

var errBase64 = errors.New("invalid base64url character")

func parseRSA(v gjson.Result, k *Key) error {
	if !v.Get("n").Exists() && !v.Get("e").Exists() && v.Get("x5c").Exists() {
		return parseX5C(v, k)
	}
	n, err := b64(v, "n")
	if err != nil {
		return err
	}
	e, err := b64(v, "e")
	if err != nil {
		return err
	}
	if n[0] == 0 {
		return errors.New(`"n" has leading zero octets`)
	}
	if len(e) > 4 || e[0] == 0 {
		return errors.New(`"e" is not a valid public exponent`)
	}
	exp := 0
	for _, b := range e {
		exp = exp<<8 | int(b)
	}
	if exp < 3 || exp%2 == 0 {
		return errors.New(`"e" is not a valid public exponent`)
	}
	pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: exp}
	return checkRSA(pub, k)
}

func checkRSA(pub *rsa.PublicKey, k *Key) error {
	bits := pub.N.BitLen()
	if bits < MinRSABits {
		return errors.New("RSA modulus is " + strconv.Itoa(bits) + " bits; at least " + strconv.Itoa(MinRSABits) + " are required")
	}
	if bits > maxRSABits {
		return errors.New("RSA modulus is " + strconv.Itoa(bits) + " bits; at most " + strconv.Itoa(maxRSABits) + " are accepted")
	}
	k.Public = pub
	return nil
}

func parseEC(v gjson.Result, k *Key) error {
	var err error
	if k.Crv, err = member(v, "crv", true); err != nil {
		return err
	}
	var curve elliptic.Curve
	switch k.Crv {
	case "P-256":
		curve = elliptic.P256()
	case "P-384":
		curve = elliptic.P384()
	case "P-521":
		curve = elliptic.P521()
	default:
		return errors.New("unsupported EC curve " + strconv.Quote(k.Crv))
	}
	size := (curve.Params().BitSize + 7) / 8
	x, err := b64(v, "x")
	if err != nil {
		return err
	}
	y, err := b64(v, "y")
	if err != nil {
		return err
	}
	if len(x) != size || len(y) != size {
		return errors.New("EC coordinates must be " + strconv.Itoa(size) + " octets for " + k.Crv)
	}
	// Build the uncompressed point and let crypto/ecdh-backed parsing check
	// that it is on the curve.
	point := make([]byte, 0, 1+2*size)
	point = append(point, 4)
	point = append(point, x...)
	point = append(point, y...)
	pub, err := ecdsa.ParseUncompressedPublicKey(curve, point)
	if err != nil {
		return errors.New("EC point is not on curve " + k.Crv)
	}
	k.Public = pub
	return nil
}

func parseOKP(v gjson.Result, k *Key) error {
	var err error
	if k.Crv, err = member(v, "crv", true); err != nil {
		return err
	}
	if k.Crv != "Ed25519" {
		return errors.New("unsupported OKP curve " + strconv.Quote(k.Crv))
	}
	x, err := b64(v, "x")
	if err != nil {
		return err
	}
	if len(x) != ed25519.PublicKeySize {
		return errors.New("Ed25519 public key must be 32 octets")
	}
	if small, ok := ed25519SmallOrder(x); !ok || small {
		return errors.New("Ed25519 public key is not a point of prime order; it would verify forged signatures")
	}
	k.Public = ed25519.PublicKey(x)
	return nil
}

// parseX5C takes the public key from the first certificate of "x5c"
// (RFC 7517 §4.7). Only the key is used: the chain is not validated, because
// trust comes from where the set was obtained, not from the certificate.
func parseX5C(v gjson.Result, k *Key) error {
	chain := v.Get("x5c")
	if !chain.IsArray() || len(chain.Array()) == 0 || chain.Array()[0].Type != gjson.String {
		return errors.New(`"x5c" must be a non-empty array of base64 certificates`)
	}
	cert, err := base64.StdEncoding.Strict().DecodeString(chain.Array()[0].Str)
	if err != nil {
		return errors.New(`"x5c"[0] is not valid base64`)
	}
	pub, err := der.CertificateRSAKey(cert)
	switch {
	case err == der.ErrNotRSA:
		return errors.New(`"x5c"[0] does not hold an RSA key`)
	case err != nil:
		return errors.New(`"x5c"[0] is not a valid certificate`)
	}
	if pub.E < 3 || pub.E%2 == 0 {
		return errors.New(`"x5c"[0] has an invalid RSA exponent`)
	}
	return checkRSA(pub, k)
}

// HasKid reports whether the set holds a key with this kid.
func (s *Set) HasKid(kid string) bool {
	for _, k := range s.Keys {
		if k.Kid == kid {
			return true
		}
	}
	return false
}

// notASet is ErrNotASet with the reason the strict reader gave.
type notASet struct{ err error }

func (e notASet) Error() string   { return "not a usable JWK Set: " + e.err.Error() }
func (e notASet) Unwrap() []error { return []error{ErrNotASet, e.err} }
