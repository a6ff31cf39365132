package der

import (
	"bytes"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/asn1"
	"errors"
	"math/big"
	"testing"
)

// asn1Sig is the ASN.1 form of an ECDSA signature, for encoding/asn1 to
// produce the reference encoding.
type asn1Sig struct{ R, S *big.Int }

// joseOf writes r||s in size-byte halves.
func joseOf(r, s *big.Int, size int) []byte {
	out := make([]byte, 2*size)
	r.FillBytes(out[:size])
	s.FillBytes(out[size:])
	return out
}

func TestECDSASignatureEdgeCases(t *testing.T) {
	t.Parallel()
	n256 := elliptic.P256().Params().N
	n521 := elliptic.P521().Params().N
	max := func(size int) *big.Int {
		return new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), uint(8*size)), big.NewInt(1))
	}
	for _, tc := range []struct {
		name string
		r, s *big.Int
		size int
	}{
		{"r and s of one octet keep no leading zeros", big.NewInt(1), big.NewInt(2), 32},
		{"zero r and s encode as INTEGER 0", big.NewInt(0), big.NewInt(0), 32},
		{"a high bit gets a zero octet so the INTEGER stays positive", big.NewInt(0x80), new(big.Int).Lsh(big.NewInt(0x80), 248), 32},
		{"r equal to the order is encoded as it is, for the host to refuse", n256, big.NewInt(1), 32},
		{"all-ones r and s (above the order) are passed on unchanged", max(32), max(32), 32},
		{"a P-384 pair with leading zero octets is minimal", new(big.Int).Lsh(big.NewInt(1), 300), big.NewInt(7), 48},
		{"P-521 halves need the long DER length form", new(big.Int).Sub(n521, big.NewInt(1)), new(big.Int).Sub(n521, big.NewInt(2)), 66},
		{"P-521 with the top octet zero", new(big.Int).Rsh(n521, 16), big.NewInt(1), 66},
		{"halves of 66 all-ones octets need a zero pad each", max(66), max(66), 66},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ECDSASignature(joseOf(tc.r, tc.s, tc.size), tc.size)
			if err != nil {
				t.Fatal(err)
			}
			want, err := asn1.Marshal(asn1Sig{tc.r, tc.s})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("got  %x\nwant %x", got, want)
			}
		})
	}
	for _, tc := range []struct {
		name string
		sig  []byte
		size int
	}{
		{"an empty signature is refused", nil, 32},
		{"one octet short is refused", make([]byte, 63), 32},
		{"one octet long is refused", make([]byte, 65), 32},
		{"a P-256 signature for a P-384 key is refused", make([]byte, 64), 48},
		{"a DER signature is not mistaken for r||s", []byte{0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01}, 32},
		{"a zero size is refused", nil, 0},
		{"a negative size is refused", make([]byte, 4), -2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			der, err := ECDSASignature(tc.sig, tc.size)
			if !errors.Is(err, ErrSignatureLength) {
				t.Fatalf("gave %x, %v; want ErrSignatureLength", der, err)
			}
		})
	}
}

// TestECDSASignatureRoundTrips checks random pairs, many with leading zero
// octets, against encoding/asn1 on every curve.
func TestECDSASignatureRoundTrips(t *testing.T) {
	t.Parallel()
	for _, size := range []int{32, 48, 66} {
		for i := range 300 {
			b := make([]byte, 2*size)
			rand.Read(b)
			// Zero a prefix of each half, of a length that varies with i.
			clear(b[:i%(size+1)])
			clear(b[size : size+(i/3)%(size+1)])
			got, err := ECDSASignature(b, size)
			if err != nil {
				t.Fatal(err)
			}
			var back asn1Sig
			if rest, err := asn1.Unmarshal(got, &back); err != nil || len(rest) != 0 {
				t.Fatalf("size %d: %x does not parse as DER: %v", size, got, err)
			}
			want, _ := asn1.Marshal(back)
			if !bytes.Equal(got, want) || !bytes.Equal(joseOf(back.R, back.S, size), b) {
				t.Fatalf("size %d: %x did not round-trip through %x", size, b, got)
			}
		}
	}
}

func TestAppendLength(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		n    int
		want []byte
	}{
		{0, []byte{0x00}},
		{0x7f, []byte{0x7f}},
		{0x80, []byte{0x81, 0x80}},
		{0xff, []byte{0x81, 0xff}},
		{0x100, []byte{0x82, 0x01, 0x00}},
		{0x40e, []byte{0x82, 0x04, 0x0e}},
		{0xffff, []byte{0x82, 0xff, 0xff}},
		{0x10000, []byte{0x83, 0x01, 0x00, 0x00}},
	} {
		got := appendLength(nil, tc.n)
		if !bytes.Equal(got, tc.want) {
			t.Errorf("length %d: got %x, want %x", tc.n, got, tc.want)
		}
		// What the writer writes, the reader reads.
		tlv := append(append([]byte{tagOID}, got...), make([]byte, tc.n)...)
		if tag, content, rest, err := next(tlv); err != nil || tag != tagOID || len(content) != tc.n || len(rest) != 0 {
			t.Errorf("length %d: read back as tag %x, %d octets, %d left, %v", tc.n, tag, len(content), len(rest), err)
		}
	}
}
