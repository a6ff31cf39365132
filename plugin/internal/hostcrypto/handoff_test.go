package hostcrypto

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"testing"
)

func TestComparable(t *testing.T) {
	t.Parallel()
	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	ek, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	edpub, _, _ := ed25519.GenerateKey(rand.Reader)
	d := sha256.Sum256([]byte("x"))
	sig, _ := rsa.SignPKCS1v15(rand.Reader, rk, 0, d[:])
	for _, tc := range []struct {
		name string
		pub  any
		sig  []byte
		want bool
	}{
		{"an RSA signature as long as the modulus goes to the host", &rk.PublicKey, sig, true},
		{"an RSA signature one octet short stays in the module", &rk.PublicKey, sig[1:], false},
		{"an RSA signature with a zero octet prepended stays in the module", &rk.PublicKey, append([]byte{0}, sig...), false},
		{"an RSA exponent of 2^31-1 goes to the host", &rsa.PublicKey{N: rk.N, E: 1<<31 - 1}, sig, true},
		{"an RSA exponent above 2^31-1 stays in the module", &rsa.PublicKey{N: rk.N, E: 1 << 31}, sig, false},
		{"a nil RSA key stays in the module", (*rsa.PublicKey)(nil), sig, false},
		{"an RSA key without a modulus stays in the module", &rsa.PublicKey{E: 65537}, sig, false},
		{"an ECDSA key goes to the host", &ek.PublicKey, make([]byte, 64), true},
		{"a nil ECDSA key stays in the module", (*ecdsa.PublicKey)(nil), make([]byte, 64), false},
		{"an Ed25519 key stays in the module", edpub, make([]byte, 64), false},
		{"no key stays in the module", nil, sig, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Comparable(tc.pub, tc.sig); got != tc.want {
				t.Fatalf("got %v", got)
			}
		})
	}
}
