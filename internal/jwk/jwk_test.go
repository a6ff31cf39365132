package jwk_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/tokengate/tokengate/internal/jwk"
)

var enc = base64.RawURLEncoding.EncodeToString

func rsaKey(t testing.TB, bits int) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func rsaJWK(k *rsa.PublicKey, extra string) string {
	return `{"kty":"RSA","kid":"r","n":"` + enc(k.N.Bytes()) + `","e":"` + enc(big.NewInt(int64(k.E)).Bytes()) + `"` + extra + `}`
}

func ecJWK(t testing.TB, c elliptic.Curve, crv, extra string) string {
	t.Helper()
	k, err := ecdsa.GenerateKey(c, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	size := (c.Params().BitSize + 7) / 8
	x := make([]byte, size)
	y := make([]byte, size)
	k.X.FillBytes(x)
	k.Y.FillBytes(y)
	return `{"kty":"EC","kid":"e","crv":"` + crv + `","x":"` + enc(x) + `","y":"` + enc(y) + `"` + extra + `}`
}

func TestParse(t *testing.T) {
	r2048 := rsaKey(t, 2048)
	r1024 := rsaKey(t, 1024)
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	okp := `{"kty":"OKP","crv":"Ed25519","kid":"o","x":"` + enc(pub) + `"}`
	p256 := ecJWK(t, elliptic.P256(), "P-256", "")

	// A point that is not on the curve.
	offCurve := `{"kty":"EC","kid":"bad","crv":"P-256","x":"` + enc(make([]byte, 32)) + `","y":"` + enc(append(make([]byte, 31), 1)) + `"}`

	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "signer"},
		NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &r2048.PublicKey, r2048)
	if err != nil {
		t.Fatal(err)
	}
	x5c := `{"kty":"RSA","kid":"x","x5c":["` + base64.StdEncoding.EncodeToString(der) + `"]}`

	tests := []struct {
		name     string
		set      string
		keys     int
		warnings []string // substrings, one per expected warning
		err      bool
	}{
		{name: "RSA", set: `{"keys":[` + rsaJWK(&r2048.PublicKey, `,"alg":"RS256","use":"sig"`) + `]}`, keys: 1},
		{name: "EC P-256", set: `{"keys":[` + p256 + `]}`, keys: 1},
		{name: "EC P-384 with alg", set: `{"keys":[` + ecJWK(t, elliptic.P384(), "P-384", `,"alg":"ES384"`) + `]}`, keys: 1},
		{name: "EC P-521", set: `{"keys":[` + ecJWK(t, elliptic.P521(), "P-521", "") + `]}`, keys: 1},
		{name: "Ed25519", set: `{"keys":[` + okp + `]}`, keys: 1},
		{name: "RSA from x5c", set: `{"keys":[` + x5c + `]}`, keys: 1},
		{name: "empty set", set: `{"keys":[]}`, keys: 0},
		{name: "extra members are fine", set: `{"keys":[` + p256 + `],"extra":1}`, keys: 1},
		{name: "small RSA is skipped", set: `{"keys":[` + rsaJWK(&r1024.PublicKey, "") + `,` + p256 + `]}`, keys: 1,
			warnings: []string{`keys[0] (kid "r"): RSA modulus is 1024 bits; at least 2048 are required`}},
		{name: "enc keys are skipped", set: `{"keys":[` + rsaJWK(&r2048.PublicKey, `,"use":"enc"`) + `]}`, warnings: []string{`"use" is "enc"`}},
		{name: "key_ops without verify", set: `{"keys":[` + rsaJWK(&r2048.PublicKey, `,"key_ops":["encrypt"]`) + `]}`, warnings: []string{`"key_ops"`}},
		{name: "symmetric keys are skipped", set: `{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}`, warnings: []string{"symmetric (oct) keys are never accepted"}},
		{name: "private RSA members", set: `{"keys":[` + rsaJWK(&r2048.PublicKey, `,"d":"AQAB"`) + `]}`, warnings: []string{`private member "d"`}},
		{name: "unknown kty", set: `{"keys":[{"kty":"XYZ","kid":"q"}]}`, warnings: []string{`keys[0] (kid "q"): unsupported kty "XYZ"`}},
		{name: "missing kty", set: `{"keys":[{"kid":"q"}]}`, warnings: []string{`missing "kty"`}},
		{name: "kty not a string", set: `{"keys":[{"kty":1}]}`, warnings: []string{`"kty" must be a string`}},
		{name: "key not an object", set: `{"keys":[1]}`, warnings: []string{`keys[0]: not a JSON object`}},
		{name: "unknown curve", set: `{"keys":[{"kty":"EC","crv":"secp256k1","x":"AA","y":"AA"}]}`, warnings: []string{`unsupported EC curve`}},
		{name: "point off the curve", set: `{"keys":[` + offCurve + `]}`, warnings: []string{`not on curve`}},
		{name: "short EC coordinate", set: `{"keys":[{"kty":"EC","crv":"P-256","x":"AAAA","y":"AAAA"}]}`, warnings: []string{`must be 32 octets`}},
		{name: "padded base64", set: `{"keys":[` + strings.Replace(okp, `"}`, `="}`, 1) + `]}`, warnings: []string{`"x" is not valid unpadded base64url`}},
		{name: "base64 with newline", set: `{"keys":[` + strings.Replace(p256, `","y"`, `\n","y"`, 1) + `]}`, warnings: []string{`"x" is not valid`}},
		{name: "alg that does not fit", set: `{"keys":[` + ecJWK(t, elliptic.P256(), "P-256", `,"alg":"ES384"`) + `]}`, warnings: []string{`"alg" "ES384" does not fit`}},
		{name: "HMAC alg on RSA key", set: `{"keys":[` + rsaJWK(&r2048.PublicKey, `,"alg":"HS256"`) + `]}`, warnings: []string{`"alg" "HS256"`}},
		{name: "even exponent", set: `{"keys":[{"kty":"RSA","n":"` + enc(r2048.N.Bytes()) + `","e":"Ag"}]}`, warnings: []string{`"e" is not a valid`}},
		{name: "not JSON", set: `{"keys":[`, err: true},
		{name: "no keys member", set: `{"key":[]}`, err: true},
		{name: "keys not an array", set: `{"keys":{}}`, err: true},
		{name: "array document", set: `[{"keys":[]}]`, err: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set, warnings, err := jwk.Parse([]byte(tt.set))
			if tt.err {
				if err == nil {
					t.Fatalf("Parse succeeded, want an error")
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if len(set.Keys) != tt.keys {
				t.Errorf("got %d keys, want %d (warnings %q)", len(set.Keys), tt.keys, warnings)
			}
			if len(warnings) != len(tt.warnings) {
				t.Fatalf("warnings = %q, want %d matching %q", warnings, len(tt.warnings), tt.warnings)
			}
			for i, w := range tt.warnings {
				if !strings.Contains(warnings[i], w) {
					t.Errorf("warning %q does not contain %q", warnings[i], w)
				}
			}
			for _, k := range set.Keys {
				if k.Public == nil {
					t.Errorf("key %q has no public key", k.Kid)
				}
			}
		})
	}
}

func TestParseKeepsMembers(t *testing.T) {
	r := rsaKey(t, 2048)
	set, _, err := jwk.Parse([]byte(`{"keys":[` + rsaJWK(&r.PublicKey, `,"alg":"PS256","use":"sig"`) + `]}`))
	if err != nil {
		t.Fatal(err)
	}
	k := set.Keys[0]
	if k.Kid != "r" || k.Kty != "RSA" || k.Alg != "PS256" || k.Use != "sig" {
		t.Fatalf("key = %+v", k)
	}
	if got := k.Public.(*rsa.PublicKey); got.N.Cmp(r.N) != 0 || got.E != r.E {
		t.Fatalf("public key differs from the one published")
	}
}

func TestDecodeSegment(t *testing.T) {
	for _, s := range []string{"QQ==", "QQ\n", "Q Q", "QR", "Q+", "Q/"} {
		if _, err := jwk.DecodeSegment(s); err == nil {
			t.Errorf("DecodeSegment(%q) succeeded, want an error", s)
		}
	}
	if b, err := jwk.DecodeSegment("QQ"); err != nil || string(b) != "A" {
		t.Errorf("DecodeSegment(QQ) = %q, %v", b, err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"keys":[{"kty":"EC","crv":"P-256","x":"AA","y":"AA"}]}`))
	f.Add([]byte(`{"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB"}]}`))
	f.Add([]byte(`{"keys":[{"kty":"OKP","crv":"Ed25519","x":"AA"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		set, warnings, err := jwk.Parse(data)
		if err != nil {
			return
		}
		for _, k := range set.Keys {
			if k.Public == nil {
				t.Fatalf("usable key without a public key: %+v", k)
			}
		}
		_ = warnings
	})
}

func ExampleParse() {
	set, warnings, err := jwk.Parse([]byte(`{"keys":[{"kty":"oct","kid":"shared","k":"c2VjcmV0"}]}`))
	if err != nil {
		panic(err)
	}
	fmt.Println(len(set.Keys), "usable keys")
	fmt.Println(warnings[0])
	// Output:
	// 0 usable keys
	// keys[0] (kid "shared"): symmetric (oct) keys are never accepted; key ignored
}
