package der

import (
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"testing"
)

// TestCertificateRSAKeyTakesOnlyTheExpectedShape: every element must carry
// the tag its place requires, an empty TBSCertificate is malformed (never a
// panic), and an exponent of four octets is read like crypto/x509 reads it.
func TestCertificateRSAKeyTakesOnlyTheExpectedShape(t *testing.T) {
	t.Parallel()
	signer, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	valid := certificate(t, &signer.PublicKey, signer)
	retag := func(b []byte, at int, tag byte) []byte {
		c := append([]byte(nil), b...)
		c[at] = tag
		return c
	}
	for _, tc := range []struct {
		name string
		cert []byte
	}{
		{"a SET instead of the Certificate SEQUENCE", retag(valid, 0, 0x31)},
		{"a SET instead of the TBSCertificate SEQUENCE", retag(valid, 4, 0x31)},
		{"an empty TBSCertificate", element(tagSequence, element(tagSequence))},
		{"an empty Certificate", element(tagSequence)},
	} {
		t.Run(tc.name+" is refused", func(t *testing.T) {
			if _, err := CertificateRSAKey(tc.cert); !errors.Is(err, ErrMalformed) {
				t.Fatalf("err = %v, want ErrMalformed", err)
			}
		})
	}
	t.Run("a four-octet exponent is read", func(t *testing.T) {
		pub := &rsa.PublicKey{N: signer.N, E: 0x01000001}
		got, err := CertificateRSAKey(certificate(t, pub, signer))
		if err != nil || got.E != pub.E || got.N.Cmp(pub.N) != 0 {
			t.Fatalf("got %v, %v; want E = %d", got, err, pub.E)
		}
	})
}

// TestNextReadsALengthOfFourOctets: the longest length DER allows here has
// four octets (an element of 16 MiB or more); it is read, not refused.
func TestNextReadsALengthOfFourOctets(t *testing.T) {
	t.Parallel()
	const n = 1 << 24
	in := append([]byte{0x04, 0x84, 0x01, 0x00, 0x00, 0x00}, make([]byte, n)...)
	tag, content, rest, err := next(in)
	if err != nil || tag != 0x04 || len(content) != n || len(rest) != 0 {
		t.Fatalf("next = %#x, %d octets, %d left, %v", tag, len(content), len(rest), err)
	}
}
