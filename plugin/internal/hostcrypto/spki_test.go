package hostcrypto

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"testing"
)

func TestMarshalSPKIMatchesX509(t *testing.T) {
	t.Parallel()
	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	keys := map[string]any{"an RSA-2048 key": &rk.PublicKey}
	for _, c := range []elliptic.Curve{elliptic.P256(), elliptic.P384(), elliptic.P521()} {
		k, _ := ecdsa.GenerateKey(c, rand.Reader)
		keys["an EC "+c.Params().Name+" key"] = &k.PublicKey
	}
	for name, pub := range keys {
		t.Run(name+" encodes like crypto/x509", func(t *testing.T) {
			got, err := MarshalSPKI(pub)
			if err != nil {
				t.Fatal(err)
			}
			want, _ := x509.MarshalPKIXPublicKey(pub)
			if !bytes.Equal(got, want) {
				t.Fatalf("SPKI differs from crypto/x509:\n got %x\nwant %x", got, want)
			}
		})
	}
	t.Run("an incomplete RSA key is refused", func(t *testing.T) {
		if _, err := MarshalSPKI(&rsa.PublicKey{}); err == nil {
			t.Fatal("accepted")
		}
	})
}
