package der

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"testing"
	"time"
)

func certificate(t testing.TB, pub, priv any) []byte {
	t.Helper()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(42), Subject: pkix.Name{CommonName: "signer", Organization: []string{"tokengate"}},
		NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour), DNSNames: []string{"idp.example.com"}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, priv)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// TestCertificateRSAKeyAgreesWithX509 checks the minimal DER reader against
// crypto/x509 on real certificates.
func TestCertificateRSAKeyAgreesWithX509(t *testing.T) {
	t.Parallel()
	for _, bits := range []int{2048, 3072} {
		k, err := rsa.GenerateKey(rand.Reader, bits)
		if err != nil {
			t.Fatal(err)
		}
		der := certificate(t, &k.PublicKey, k)
		got, err := CertificateRSAKey(der)
		if err != nil {
			t.Fatal(err)
		}
		cert, _ := x509.ParseCertificate(der)
		want := cert.PublicKey.(*rsa.PublicKey)
		if got.N.Cmp(want.N) != 0 || got.E != want.E {
			t.Fatalf("%d bits: key differs from crypto/x509's", bits)
		}
	}
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if _, err := CertificateRSAKey(certificate(t, &ec.PublicKey, ec)); err != ErrNotRSA {
		t.Fatalf("EC certificate: err = %v, want ErrNotRSA", err)
	}
	k, _ := rsa.GenerateKey(rand.Reader, 2048)
	der := certificate(t, &k.PublicKey, k)
	for i := 0; i < len(der); i += 7 {
		// Truncations must fail cleanly, never panic.
		if _, err := CertificateRSAKey(der[:i]); !errors.Is(err, ErrMalformed) {
			t.Fatalf("a certificate truncated to %d bytes gave %v, want ErrMalformed", i, err)
		}
	}
}

func TestNextRefusesWhatDERForbids(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   []byte
	}{
		{"an indefinite length", []byte{0x30, 0x80, 0x00, 0x00}},
		{"a long form for a short length", []byte{0x04, 0x81, 0x05, 1, 2, 3, 4, 5}},
		{"a length with a leading zero octet", []byte{0x04, 0x82, 0x00, 0x80}},
		{"a length of five octets", []byte{0x04, 0x85, 1, 0, 0, 0, 0}},
		{"a length past the end", []byte{0x04, 0x03, 1, 2}},
		{"a tag without a length", []byte{0x04}},
	}
	for _, tt := range tests {
		t.Run(tt.name+" is refused", func(t *testing.T) {
			if _, _, _, err := next(tt.in); !errors.Is(err, ErrMalformed) {
				t.Fatalf("err = %v, want ErrMalformed", err)
			}
		})
	}
}

func FuzzCertificateRSAKey(f *testing.F) {
	k, _ := rsa.GenerateKey(rand.Reader, 2048)
	f.Add(certificate(f, &k.PublicKey, k))
	f.Add([]byte{0x30, 0x82, 0x00, 0x01, 0x00})
	f.Fuzz(func(t *testing.T, der []byte) {
		pub, err := CertificateRSAKey(der)
		if err == nil && (pub.N == nil || pub.N.Sign() <= 0) {
			t.Fatalf("accepted a key without a modulus")
		}
		if err != nil && err != ErrNotRSA && !errors.Is(err, ErrMalformed) {
			t.Fatalf("an error that is neither ErrNotRSA nor ErrMalformed: %v", err)
		}
	})
}
