package gate

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"testing"

	"github.com/tokengate/tokengate/internal/jwk"
)

// TestVerifySignatureTriesOnlyKeysOfTheTokensCurve: a kid-less token is
// tried only against keys of its algorithm's type and curve, and of its "alg"
// when the key names one; with none left it is an unknown key, not a bad
// signature, and no signature check is spent.
func TestVerifySignatureTriesOnlyKeysOfTheTokensCurve(t *testing.T) {
	t.Parallel()
	ecJWK := func(c elliptic.Curve, crv, alg string) string {
		k, err := ecdsa.GenerateKey(c, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		size := (c.Params().BitSize + 7) / 8
		enc := func(b []byte) string {
			return base64.RawURLEncoding.EncodeToString(append(make([]byte, size-len(b)), b...))
		}
		extra := ""
		if alg != "" {
			extra = `,"alg":"` + alg + `"`
		}
		pub := k.PublicKey
		x, y := pub.X.Bytes(), pub.Y.Bytes()
		return `{"kty":"EC","crv":"` + crv + `","x":"` + enc(x) + `","y":"` + enc(y) + `"` + extra + `}`
	}
	p256, p384 := ecJWK(elliptic.P256(), "P-256", ""), ecJWK(elliptic.P384(), "P-384", "")
	p256ES384 := ecJWK(elliptic.P256(), "P-256", "ES384")
	for _, tc := range []struct {
		name, alg, keys string
		want            error
	}{
		{"an ES256 token and only a P-384 key", "ES256", p384, ErrUnknownKey},
		{"an ES384 token and only a P-256 key", "ES384", p256, ErrUnknownKey},
		{"an ES256 token and a P-256 key that names ES384", "ES256", p256ES384, ErrUnknownKey},
		{"an EdDSA token and only an EC key", "EdDSA", p256, ErrUnknownKey},
		{"an RS256 token and only an EC key", "RS256", p256, ErrUnknownKey},
		{"an ES256 token and a P-256 key is tried", "ES256", p256, ErrSignatureInvalid},
		{"an ES256 token and both keys tries the P-256 one", "ES256", p384 + "," + p256, ErrSignatureInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			set, _, err := jwk.Parse([]byte(`{"keys":[` + tc.keys + `]}`))
			if err != nil {
				t.Fatal(err)
			}
			tries := 0
			g := &Gate{verifier: func(string, crypto.PublicKey, string, []byte) (bool, bool) { tries++; return false, true }}
			p := &provider{gate: g, keys: set, algorithms: allAlgorithms}
			tok := &jws{alg: tc.alg, signingInput: "e30.e30", signature: make([]byte, 64)}
			if err := p.verifySignature(tok); !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if (tries == 0) != errors.Is(tc.want, ErrUnknownKey) {
				t.Fatalf("%d signature checks", tries)
			}
		})
	}
}
