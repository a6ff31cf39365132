package gate

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"slices"

	"github.com/tokengate/tokengate/internal/jwk"
	"github.com/tokengate/tokengate/plugin/internal/jwa"
)

// algorithm is one JWS algorithm the verifier accepts: asymmetric only
// (RFC 8725 §3.1). "none" and HMAC are not in the table, so they can be
// neither configured nor accepted.
type algorithm struct {
	method *jwa.Method
	kty    string
	crv    string // required curve for EC and OKP keys
}

var algorithms = map[string]algorithm{
	"RS256":   {jwa.RS256, "RSA", ""},
	"RS384":   {jwa.RS384, "RSA", ""},
	"RS512":   {jwa.RS512, "RSA", ""},
	"PS256":   {jwa.PS256, "RSA", ""}, // salt as long as the hash (RFC 7518 §3.5)
	"PS384":   {jwa.PS384, "RSA", ""},
	"PS512":   {jwa.PS512, "RSA", ""},
	"ES256":   {jwa.ES256, "EC", "P-256"},
	"ES384":   {jwa.ES384, "EC", "P-384"},
	"ES512":   {jwa.ES512, "EC", "P-521"},
	"EdDSA":   {jwa.EdDSA, "OKP", "Ed25519"},
	"Ed25519": {jwa.EdDSA, "OKP", "Ed25519"}, // RFC 9864's fully-specified name
}

// allAlgorithms is the default allow-list, in a stable order for docs and
// errors.
var allAlgorithms = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
	"ES256", "ES384", "ES512", "EdDSA", "Ed25519"}

// fits reports whether key k may verify a token signed with alg
// (RFC 7517 §4.4 and docs/security-rules.md: type and curve must match, a published
// "alg" must be equal).
func fits(k *jwk.Key, alg string, a algorithm) bool {
	if k.Kty != a.kty || (a.crv != "" && k.Crv != a.crv) {
		return false
	}
	if k.Alg != "" && k.Alg != alg {
		return false
	}
	switch k.Public.(type) {
	case *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey:
		return true
	}
	return false
}

// maxSignatureTries bounds the signature checks one token can cause per
// provider. Without it a forged kid-less token costs one check per key of the
// set, so a large key set turns every unauthenticated request into seconds of
// CPU. Real sets hold a handful of keys per algorithm.
const maxSignatureTries = 8

// maxKeysTried bounds the signature checks of one token: a token without a
// kid is tried against at most this many fitting keys (in set order).
const maxKeysTried = 8

// verifySignature checks t's signature with the keys of p: the key named by
// kid, or, without a kid, every key that fits, at most maxSignatureTries of
// them in set order. It reports ErrUnknownKey when no key could even be tried.
func (p *provider) verifySignature(t *jws) error { return p.verifyWith(t, p.keys) }

// verifyWith is verifySignature with the key set keys: p's, or, for a
// multi-tenant provider, the key set of the tenant the token's "iss" names
// (tenant.go).
func (p *provider) verifyWith(t *jws, keys *jwk.Set) error {
	a, ok := algorithms[t.alg]
	if !ok || !slices.Contains(p.algorithms, t.alg) {
		return ErrAlgorithmNotAllowed
	}
	if keys == nil {
		return ErrKeysUnavailable
	}
	tries := 0
	for _, k := range keys.Keys {
		if t.kid != "" && k.Kid != t.kid {
			continue
		}
		if !fits(k, t.alg, a) {
			continue
		}
		if tries == maxSignatureTries {
			break
		}
		tries++
		if p.gate.verifySignature(a, t.alg, k.Public, t.signingInput, t.signature) {
			return nil
		}
	}
	if tries == 0 {
		return ErrUnknownKey
	}
	return ErrSignatureInvalid
}

// Verifier checks one signature outside the module, typically with the
// proxy's native crypto (Envoy's verify_signature foreign function). It
// reports handled=false for what it cannot check, and the gate then verifies
// in the module; a Verifier never makes a signature valid that the in-module
// path would refuse, which tests prove on the whole matrix.
type Verifier func(alg string, key crypto.PublicKey, signingInput string, signature []byte) (ok, handled bool)

// WithVerifier makes the gate try v first for every signature.
func WithVerifier(v Verifier) Option { return func(g *Gate) { g.verifier = v } }

func (g *Gate) verifySignature(a algorithm, alg string, key crypto.PublicKey, input string, sig []byte) bool {
	if g.verifier != nil {
		if ok, handled := g.verifier(alg, key, input, sig); handled {
			return ok
		}
	}
	return a.method.Verify(input, sig, key) == nil
}
