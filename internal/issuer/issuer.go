// Package issuer is a tiny in-memory token issuer for demos and tests: it
// holds signing keys, publishes them as a JWK Set, and mints signed JWTs.
// It is not an OpenID provider (tests that need one run a real one); it
// exists so that every test and the demo mint fresh tokens instead of
// checking in tokens that expire.
//
//	iss, _ := issuer.New("https://issuer.test", issuer.RS256, issuer.ES256)
//	tok, _ := iss.Mint(issuer.Claims{"sub": "alice", "aud": "api"}, issuer.WithTTL(time.Minute))
//	jwks := iss.JWKS() // {"keys":[...]}
package issuer

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"strconv"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Algorithm names a JWS algorithm the issuer can sign with.
type Algorithm string

// Supported algorithms.
const (
	RS256 Algorithm = "RS256"
	RS384 Algorithm = "RS384"
	RS512 Algorithm = "RS512"
	PS256 Algorithm = "PS256"
	PS384 Algorithm = "PS384"
	PS512 Algorithm = "PS512"
	ES256 Algorithm = "ES256"
	ES384 Algorithm = "ES384"
	ES512 Algorithm = "ES512"
	EdDSA Algorithm = "EdDSA"
)

// Key is one signing key.
type Key struct {
	Kid     string
	Alg     Algorithm
	Private crypto.Signer
}

// Issuer signs tokens for one issuer URL.
type Issuer struct {
	URL  string
	Keys []*Key
	now  func() time.Time
}

// Claims are a token's claims.
type Claims map[string]any

// New creates an issuer with one fresh key per algorithm, named "<alg>-1".
func New(url string, algs ...Algorithm) (*Issuer, error) {
	iss := &Issuer{URL: url, now: time.Now}
	for _, a := range algs {
		k, err := NewKey(a, string(a)+"-1")
		if err != nil {
			return nil, err
		}
		iss.Keys = append(iss.Keys, k)
	}
	return iss, nil
}

// NewKey generates a key for alg.
func NewKey(alg Algorithm, kid string) (*Key, error) {
	var (
		s   crypto.Signer
		err error
	)
	switch alg {
	case RS256, RS384, RS512, PS256, PS384, PS512:
		s, err = rsa.GenerateKey(rand.Reader, 2048)
	case ES256:
		s, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case ES384:
		s, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case ES512:
		s, err = ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	case EdDSA:
		_, s, err = ed25519.GenerateKey(rand.Reader)
	default:
		return nil, errors.New("issuer: unsupported algorithm " + string(alg))
	}
	if err != nil {
		return nil, err
	}
	return &Key{Kid: kid, Alg: alg, Private: s}, nil
}

// Key returns the key with kid, or nil.
func (iss *Issuer) Key(kid string) *Key {
	for _, k := range iss.Keys {
		if k.Kid == kid {
			return k
		}
	}
	return nil
}

// MintOption changes one token.
type MintOption func(*mint)

type mint struct {
	key    *Key
	ttl    time.Duration
	header map[string]any
	noExp  bool
}

// WithKey signs with the key named kid instead of the first key.
func WithKey(kid string) MintOption { return func(m *mint) { m.key = &Key{Kid: kid} } }

// WithTTL sets exp to now+ttl (default 5 minutes); a negative ttl mints an
// expired token.
func WithTTL(ttl time.Duration) MintOption { return func(m *mint) { m.ttl = ttl } }

// WithoutExpiry leaves exp out.
func WithoutExpiry() MintOption { return func(m *mint) { m.noExp = true } }

// WithHeader sets a JOSE header member (nil deletes it, e.g. "kid").
func WithHeader(name string, value any) MintOption {
	return func(m *mint) { m.header[name] = value }
}

// Mint signs claims. iss, iat and exp are filled in unless claims sets them.
func (iss *Issuer) Mint(claims Claims, opts ...MintOption) (string, error) {
	if len(iss.Keys) == 0 {
		return "", errors.New("issuer: no keys")
	}
	m := &mint{key: iss.Keys[0], ttl: 5 * time.Minute, header: map[string]any{}}
	for _, o := range opts {
		o(m)
	}
	if k := iss.Key(m.key.Kid); k != nil {
		m.key = k
	} else if m.key.Private == nil {
		return "", errors.New("issuer: no key with kid " + strconv.Quote(m.key.Kid))
	}
	now := time.Now()
	if iss.now != nil {
		now = iss.now()
	}
	mc := jwt.MapClaims{"iss": iss.URL, "iat": now.Unix()}
	if !m.noExp {
		mc["exp"] = now.Add(m.ttl).Unix()
	}
	for k, v := range claims {
		mc[k] = v
	}
	tok := jwt.NewWithClaims(jwt.GetSigningMethod(string(m.key.Alg)), mc)
	tok.Header["kid"] = m.key.Kid
	for k, v := range m.header {
		if v == nil {
			delete(tok.Header, k)
		} else {
			tok.Header[k] = v
		}
	}
	return tok.SignedString(m.key.Private)
}

// JWKS returns the public keys as an RFC 7517 JWK Set.
func (iss *Issuer) JWKS() []byte {
	keys := make([]map[string]string, 0, len(iss.Keys))
	for _, k := range iss.Keys {
		keys = append(keys, k.JWK())
	}
	b, _ := json.Marshal(map[string]any{"keys": keys})
	return b
}

// JWK returns the public JWK of k, with kid, alg and use "sig".
func (k *Key) JWK() map[string]string {
	b64 := base64.RawURLEncoding.EncodeToString
	j := map[string]string{"kid": k.Kid, "alg": string(k.Alg), "use": "sig"}
	switch pub := k.Private.Public().(type) {
	case *rsa.PublicKey:
		j["kty"] = "RSA"
		j["n"] = b64(pub.N.Bytes())
		j["e"] = b64(big.NewInt(int64(pub.E)).Bytes())
	case *ecdsa.PublicKey:
		j["kty"] = "EC"
		j["crv"] = pub.Curve.Params().Name
		size := (pub.Curve.Params().BitSize + 7) / 8
		j["x"] = b64(pub.X.FillBytes(make([]byte, size)))
		j["y"] = b64(pub.Y.FillBytes(make([]byte, size)))
	case ed25519.PublicKey:
		j["kty"] = "OKP"
		j["crv"] = "Ed25519"
		j["x"] = b64(pub)
	}
	return j
}

// SignRaw signs exactly the given JOSE header and payload bytes, for tests
// of malformed or unusual tokens that Mint cannot express.
func (k *Key) SignRaw(header, payload []byte) (string, error) {
	b64 := base64.RawURLEncoding.EncodeToString
	input := b64(header) + "." + b64(payload)
	sig, err := jwt.GetSigningMethod(string(k.Alg)).Sign(input, k.Private)
	if err != nil {
		return "", err
	}
	return input + "." + b64(sig), nil
}
