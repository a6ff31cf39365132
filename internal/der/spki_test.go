package der

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"math/big"
	"testing"
)

func TestMarshalSPKIMatchesX509(t *testing.T) {
	t.Parallel()
	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	big4096 := new(big.Int).Lsh(big.NewInt(1), 4095)
	big4096.Add(big4096, big.NewInt(1))
	tests := []struct {
		name string
		pub  any
	}{
		{"an RSA-2048 key", &rk.PublicKey},
		{"exponent 3", &rsa.PublicKey{N: rk.N, E: 3}},
		{"exponent 2^31-1", &rsa.PublicKey{N: rk.N, E: 1<<31 - 1}},
		{"a 4096-bit modulus with a two-octet DER length", &rsa.PublicKey{N: big4096, E: 65537}},
	}
	for _, c := range []elliptic.Curve{elliptic.P256(), elliptic.P384(), elliptic.P521()} {
		k, _ := ecdsa.GenerateKey(c, rand.Reader)
		tests = append(tests, struct {
			name string
			pub  any
		}{"an EC " + c.Params().Name + " key", &k.PublicKey})
	}
	for _, tc := range tests {
		t.Run(tc.name+" encodes like crypto/x509", func(t *testing.T) {
			got, err := MarshalSPKI(tc.pub)
			if err != nil {
				t.Fatal(err)
			}
			want, err := x509.MarshalPKIXPublicKey(tc.pub)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("got  %x\nwant %x", got, want)
			}
		})
	}
}

func TestMarshalSPKIRefusesWhatItCannotEncode(t *testing.T) {
	t.Parallel()
	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	k224, _ := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	edpub, _, _ := ed25519.GenerateKey(rand.Reader)
	offCurve := &ecdsa.PublicKey{Curve: elliptic.P256(), X: big.NewInt(1), Y: big.NewInt(1)}
	for _, tc := range []struct {
		name string
		pub  any
	}{
		{"a nil RSA key", (*rsa.PublicKey)(nil)},
		{"an RSA key without a modulus", &rsa.PublicKey{E: 65537}},
		{"an RSA key with a zero modulus", &rsa.PublicKey{N: new(big.Int), E: 65537}},
		{"an RSA key with a zero exponent", &rsa.PublicKey{N: rk.N}},
		{"a nil EC key", (*ecdsa.PublicKey)(nil)},
		{"an EC key without a curve", &ecdsa.PublicKey{}},
		{"a P-224 key", &k224.PublicKey},
		{"a P-256 point off the curve", offCurve},
		{"an Ed25519 key", edpub},
		{"no key", nil},
	} {
		t.Run(tc.name+" is refused", func(t *testing.T) {
			der, err := MarshalSPKI(tc.pub)
			if !errors.Is(err, ErrUnsupportedKey) {
				t.Fatalf("encoded as %x, %v; want ErrUnsupportedKey", der, err)
			}
		})
	}
}
