package jwa

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

// keys are generated once per test binary: RSA generation is slow.
type testKeys struct {
	rsa                             *rsa.PrivateKey
	otherRSA                        *rsa.PrivateKey
	p256, p384, p521                *ecdsa.PrivateKey
	ed, otherEd                     ed25519.PrivateKey
	otherP256, otherP384, otherP521 *ecdsa.PrivateKey
}

func newKeys(t *testing.T) *testKeys {
	t.Helper()
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	var k testKeys
	var err error
	k.rsa, err = rsa.GenerateKey(rand.Reader, 2048)
	must(err)
	k.otherRSA, err = rsa.GenerateKey(rand.Reader, 2048)
	must(err)
	for _, p := range []struct {
		dst   **ecdsa.PrivateKey
		curve elliptic.Curve
	}{{&k.p256, elliptic.P256()}, {&k.p384, elliptic.P384()}, {&k.p521, elliptic.P521()},
		{&k.otherP256, elliptic.P256()}, {&k.otherP384, elliptic.P384()}, {&k.otherP521, elliptic.P521()}} {
		*p.dst, err = ecdsa.GenerateKey(p.curve, rand.Reader)
		must(err)
	}
	_, k.ed, err = ed25519.GenerateKey(rand.Reader)
	must(err)
	_, k.otherEd, err = ed25519.GenerateKey(rand.Reader)
	must(err)
	return &k
}

// reference is golang-jwt's method for alg, configured as tokengate used it
// before this package: PS* with the salt length fixed to the hash's size.
func reference(alg string) jwt.SigningMethod {
	pss := func(m *jwt.SigningMethodRSAPSS) jwt.SigningMethod {
		return &jwt.SigningMethodRSAPSS{SigningMethodRSA: m.SigningMethodRSA,
			Options: &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}}
	}
	switch alg {
	case "PS256":
		return pss(jwt.SigningMethodPS256)
	case "PS384":
		return pss(jwt.SigningMethodPS384)
	case "PS512":
		return pss(jwt.SigningMethodPS512)
	}
	return jwt.GetSigningMethod(alg)
}

func TestVerifyAgreesWithGolangJWT(t *testing.T) {
	k := newKeys(t)
	const input = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9"
	tests := []struct {
		alg              string
		signer           crypto.Signer
		public, wrongKey crypto.PublicKey // wrongKey: same type, another key
		otherType        crypto.PublicKey
	}{
		{alg: "RS256", signer: k.rsa, public: &k.rsa.PublicKey, wrongKey: &k.otherRSA.PublicKey, otherType: &k.p256.PublicKey},
		{alg: "RS384", signer: k.rsa, public: &k.rsa.PublicKey, wrongKey: &k.otherRSA.PublicKey, otherType: k.ed.Public()},
		{alg: "RS512", signer: k.rsa, public: &k.rsa.PublicKey, wrongKey: &k.otherRSA.PublicKey, otherType: &k.p521.PublicKey},
		{alg: "PS256", signer: k.rsa, public: &k.rsa.PublicKey, wrongKey: &k.otherRSA.PublicKey, otherType: &k.p256.PublicKey},
		{alg: "PS384", signer: k.rsa, public: &k.rsa.PublicKey, wrongKey: &k.otherRSA.PublicKey, otherType: k.ed.Public()},
		{alg: "PS512", signer: k.rsa, public: &k.rsa.PublicKey, wrongKey: &k.otherRSA.PublicKey, otherType: &k.p384.PublicKey},
		{alg: "ES256", signer: k.p256, public: &k.p256.PublicKey, wrongKey: &k.otherP256.PublicKey, otherType: &k.rsa.PublicKey},
		{alg: "ES384", signer: k.p384, public: &k.p384.PublicKey, wrongKey: &k.otherP384.PublicKey, otherType: k.ed.Public()},
		{alg: "ES512", signer: k.p521, public: &k.p521.PublicKey, wrongKey: &k.otherP521.PublicKey, otherType: &k.rsa.PublicKey},
		{alg: "EdDSA", signer: k.ed, public: k.ed.Public(), wrongKey: k.otherEd.Public(), otherType: &k.rsa.PublicKey},
	}
	for _, tt := range tests {
		t.Run(tt.alg, func(t *testing.T) {
			ref := reference(tt.alg)
			sig, err := ref.Sign(input, tt.signer)
			if err != nil {
				t.Fatal(err)
			}
			flipped := append([]byte(nil), sig...)
			flipped[len(flipped)/2] ^= 0x01
			cases := []struct {
				name      string
				input     string
				sig       []byte
				key       crypto.PublicKey
				wantValid bool
			}{
				{name: "a valid signature is accepted", input: input, sig: sig, key: tt.public, wantValid: true},
				{name: "a changed signing input is refused", input: input + "x", sig: sig, key: tt.public},
				{name: "a flipped signature bit is refused", input: input, sig: flipped, key: tt.public},
				{name: "a truncated signature is refused", input: input, sig: sig[:len(sig)-1], key: tt.public},
				{name: "a signature with a byte appended is refused", input: input, sig: append(append([]byte(nil), sig...), 0), key: tt.public},
				{name: "an empty signature is refused", input: input, sig: nil, key: tt.public},
				{name: "a key of another type is refused", input: input, sig: sig, key: tt.otherType},
				{name: "a nil key is refused", input: input, sig: sig, key: nil},
				{name: "another key of the same type is refused", input: input, sig: sig, key: tt.wrongKey},
			}
			m := Lookup(tt.alg)
			if m == nil || m.Name() != tt.alg {
				t.Fatalf("Lookup(%q) = %v", tt.alg, m)
			}
			for _, c := range cases {
				got := m.Verify(c.input, c.sig, c.key)
				refErr := ref.Verify(c.input, c.sig, c.key)
				if (got == nil) != c.wantValid {
					t.Errorf("%s: Verify = %v, want valid=%v", c.name, got, c.wantValid)
				}
				if (got == nil) != (refErr == nil) {
					t.Errorf("%s: jwa says %v, golang-jwt says %v", c.name, got, refErr)
				}
				if got != nil && !errors.Is(got, ErrKeyType) && !errors.Is(got, ErrSignatureInvalid) {
					t.Errorf("%s: error %v is neither ErrKeyType nor ErrSignatureInvalid", c.name, got)
				}
			}
		})
	}
}

func TestVerifyIsStricterThanGolangJWTWhereJOSEIs(t *testing.T) {
	k := newKeys(t)
	const input = "header.payload"
	t.Run("a PS256 signature with a salt shorter than the hash is refused", func(t *testing.T) {
		sig, err := rsa.SignPSS(rand.Reader, k.rsa, crypto.SHA256, digest256(input), &rsa.PSSOptions{SaltLength: 20})
		if err != nil {
			t.Fatal(err)
		}
		if err := PS256.Verify(input, sig, &k.rsa.PublicKey); !errors.Is(err, ErrSignatureInvalid) {
			t.Errorf("Verify = %v, want ErrSignatureInvalid", err)
		}
		if err := jwt.SigningMethodPS256.Verify(input, sig, &k.rsa.PublicKey); err != nil {
			t.Errorf("golang-jwt's stock PS256 now refuses it too (%v): update the package comment", err)
		}
	})
	t.Run("an ES256 signature checked with a P-384 key is a key error", func(t *testing.T) {
		sig, err := jwt.SigningMethodES256.Sign(input, k.p256)
		if err != nil {
			t.Fatal(err)
		}
		if err := ES256.Verify(input, sig, &k.p384.PublicKey); !errors.Is(err, ErrKeyType) {
			t.Errorf("Verify = %v, want ErrKeyType", err)
		}
	})
}

func TestLookupKnowsOnlyAsymmetricAlgorithms(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		want *Method
	}{
		{"RS256", RS256}, {"PS512", PS512}, {"ES512", ES512}, {"EdDSA", EdDSA}, {"Ed25519", EdDSA},
		{"HS256", nil}, {"none", nil}, {"", nil}, {"rs256", nil}, {"ES256K", nil},
	}
	for _, tt := range tests {
		if got := Lookup(tt.name); got != tt.want {
			t.Errorf("Lookup(%q) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func digest256(s string) []byte {
	h := crypto.SHA256.New()
	h.Write([]byte(s))
	return h.Sum(nil)
}
