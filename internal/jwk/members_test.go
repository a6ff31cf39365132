package jwk_test

import (
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/tokengate/tokengate/internal/jwk"
)

// TestParseKeepsVerifyKeysAndNamesEachSkippedOne: a key whose "key_ops"
// include "verify" is kept whatever else they list; one without it is
// skipped, and each warning names the skipped key by its own index.
func TestParseKeepsVerifyKeysAndNamesEachSkippedOne(t *testing.T) {
	t.Parallel()
	p256 := func(extra string) string { return ecJWK(t, elliptic.P256(), "P-256", extra) }
	for _, tc := range []struct {
		name     string
		keys     []string
		kept     int
		warnings []string // prefixes, in order
	}{
		{"key_ops of verify alone", []string{p256(`,"key_ops":["verify"]`)}, 1, nil},
		{"key_ops with verify last", []string{p256(`,"key_ops":["sign","verify"]`)}, 1, nil},
		{"key_ops without verify", []string{p256(`,"key_ops":["sign"]`)}, 0, []string{"keys[0]"}},
		{"key_ops with verify as a number", []string{p256(`,"key_ops":[1]`)}, 0, []string{"keys[0]"}},
		{"empty key_ops", []string{p256(`,"key_ops":[]`)}, 0, []string{"keys[0]"}},
		{"the third key is named keys[2]", []string{p256(""), p256(""), p256(`,"use":"enc"`)}, 2, []string{"keys[2]"}},
		{"two skipped keys are named by their own index", []string{p256(`,"use":"enc"`), p256(""), p256(`,"use":"enc"`)}, 1,
			[]string{"keys[0]", "keys[2]"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			set, warnings, err := jwk.Parse([]byte(`{"keys":[` + strings.Join(tc.keys, ",") + `]}`))
			if err != nil {
				t.Fatal(err)
			}
			if len(set.Keys) != tc.kept || len(warnings) != len(tc.warnings) {
				t.Fatalf("kept %d keys with warnings %q, want %d and %q", len(set.Keys), warnings, tc.kept, tc.warnings)
			}
			for i, w := range tc.warnings {
				if !strings.HasPrefix(warnings[i], w+" ") && !strings.HasPrefix(warnings[i], w+":") {
					t.Errorf("warning %q does not name %s", warnings[i], w)
				}
			}
		})
	}
}

// TestParseKeepsAKeyWhoseAlgFitsItsCurve: a published "alg" must name the
// key's own type and curve; each algorithm is accepted on its curve and
// refused on another.
func TestParseKeepsAKeyWhoseAlgFitsItsCurve(t *testing.T) {
	t.Parallel()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	okp := func(alg string) string {
		return `{"kty":"OKP","crv":"Ed25519","x":"` + enc(pub) + `","alg":"` + alg + `"}`
	}
	for _, tc := range []struct {
		name string
		key  string
		kept bool
	}{
		{"ES256 on P-256", ecJWK(t, elliptic.P256(), "P-256", `,"alg":"ES256"`), true},
		{"ES384 on P-384", ecJWK(t, elliptic.P384(), "P-384", `,"alg":"ES384"`), true},
		{"ES512 on P-521", ecJWK(t, elliptic.P521(), "P-521", `,"alg":"ES512"`), true},
		{"ES512 on P-256", ecJWK(t, elliptic.P256(), "P-256", `,"alg":"ES512"`), false},
		{"ES256 on P-521", ecJWK(t, elliptic.P521(), "P-521", `,"alg":"ES256"`), false},
		{"EdDSA on Ed25519", okp("EdDSA"), true},
		{"Ed25519 on Ed25519", okp("Ed25519"), true},
		{"ES256 on Ed25519", okp("ES256"), false},
		{"RS256 on an EC key", ecJWK(t, elliptic.P256(), "P-256", `,"alg":"RS256"`), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			set, warnings, err := jwk.Parse([]byte(`{"keys":[` + tc.key + `]}`))
			if err != nil {
				t.Fatal(err)
			}
			if (len(set.Keys) == 1) != tc.kept {
				t.Fatalf("kept %d keys (warnings %q), want kept=%v", len(set.Keys), warnings, tc.kept)
			}
		})
	}
}

// TestParseTakesRSAExponentsOfUpTo4OddOctets: "e" is an odd number of at most
// four octets, at least 3, without a leading zero.
func TestParseTakesRSAExponentsOfUpTo4OddOctets(t *testing.T) {
	t.Parallel()
	n := enc(rsaKey(t, 2048).N.Bytes())
	for _, tc := range []struct {
		name string
		e    []byte
		kept bool
	}{
		{"3", []byte{3}, true},
		{"65537", []byte{1, 0, 1}, true},
		{"four octets", []byte{1, 0, 0, 1}, true},
		{"five octets", []byte{1, 0, 0, 0, 1}, false},
		{"1", []byte{1}, false},
		{"an even exponent above 3", []byte{4}, false},
		{"an even exponent of three octets", []byte{1, 0, 0}, false},
		{"a leading zero", []byte{0, 1, 0, 1}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			set, warnings, err := jwk.Parse([]byte(`{"keys":[{"kty":"RSA","n":"` + n + `","e":"` + enc(tc.e) + `"}]}`))
			if err != nil {
				t.Fatal(err)
			}
			if (len(set.Keys) == 1) != tc.kept {
				t.Fatalf("kept %d keys (warnings %q), want kept=%v", len(set.Keys), warnings, tc.kept)
			}
		})
	}
}

// TestParseBoundsRSAModulusAndCertificateExponent: a modulus of exactly
// 8192 bits is kept and one of 8193 refused; a key from "x5c" needs an odd
// exponent of at least 3, like "e".
func TestParseBoundsRSAModulusAndCertificateExponent(t *testing.T) {
	t.Parallel()
	modulus := func(bits int) []byte { // the top bit set, odd; primality is not checked here
		n := make([]byte, (bits+7)/8)
		n[0] = 1 << ((bits - 1) % 8)
		n[len(n)-1] |= 1
		return n
	}
	signer := rsaKey(t, 2048)
	x5c := func(e int) string {
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "signer"},
			NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &rsa.PublicKey{N: signer.N, E: e}, signer)
		if err != nil {
			t.Fatal(err)
		}
		return `{"kty":"RSA","x5c":["` + base64.StdEncoding.EncodeToString(der) + `"]}`
	}
	rsaN := func(n []byte) string { return `{"kty":"RSA","n":"` + enc(n) + `","e":"AQAB"}` }
	for _, tc := range []struct {
		name string
		key  string
		kept bool
	}{
		{"a modulus of 8192 bits", rsaN(modulus(8192)), true},
		{"a modulus of 8193 bits", rsaN(modulus(8193)), false},
		{"a modulus of 2048 bits", rsaN(modulus(2048)), true},
		{"a modulus of 2047 bits", rsaN(modulus(2047)), false},
		{"a certificate with exponent 3", x5c(3), true},
		{"a certificate with exponent 65537", x5c(65537), true},
		{"a certificate with an even exponent", x5c(65538), false},
		{"a certificate with exponent 1", x5c(1), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			set, warnings, err := jwk.Parse([]byte(`{"keys":[` + tc.key + `]}`))
			if err != nil {
				t.Fatal(err)
			}
			if (len(set.Keys) == 1) != tc.kept {
				t.Fatalf("kept %d keys (warnings %q), want kept=%v", len(set.Keys), warnings, tc.kept)
			}
		})
	}
}
