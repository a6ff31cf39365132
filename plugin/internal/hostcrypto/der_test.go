package hostcrypto

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"math/big"
	"testing"
)

// derSig is the ASN.1 form of an ECDSA signature, for encoding/asn1 to
// produce the reference encoding.
type derSig struct{ R, S *big.Int }

// joseOf writes r||s in size-byte halves.
func joseOf(r, s *big.Int, size int) []byte {
	out := make([]byte, 2*size)
	r.FillBytes(out[:size])
	s.FillBytes(out[size:])
	return out
}

func TestJOSEToDEREdgeCases(t *testing.T) {
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
			got, err := JOSEToDER(joseOf(tc.r, tc.s, tc.size), tc.size)
			if err != nil {
				t.Fatal(err)
			}
			want, err := asn1.Marshal(derSig{tc.r, tc.s})
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
			if der, err := JOSEToDER(tc.sig, tc.size); err == nil {
				t.Fatalf("accepted, gave %x", der)
			}
		})
	}
}

// TestJOSEToDERRoundTrips checks random pairs, many with leading zero
// octets, against encoding/asn1 on every curve.
func TestJOSEToDERRoundTrips(t *testing.T) {
	t.Parallel()
	for _, size := range []int{32, 48, 66} {
		for i := range 300 {
			b := make([]byte, 2*size)
			rand.Read(b)
			// Zero a prefix of each half, of a length that varies with i.
			clear(b[:i%(size+1)])
			clear(b[size : size+(i/3)%(size+1)])
			got, err := JOSEToDER(b, size)
			if err != nil {
				t.Fatal(err)
			}
			var back derSig
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

func TestAppendDERLen(t *testing.T) {
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
	} {
		if got := appendDERLen(nil, tc.n); !bytes.Equal(got, tc.want) {
			t.Errorf("length %d: got %x, want %x", tc.n, got, tc.want)
		}
	}
}

func TestMarshalSPKIEdgeCases(t *testing.T) {
	t.Parallel()
	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	big4096 := new(big.Int).Lsh(big.NewInt(1), 4095)
	big4096.Add(big4096, big.NewInt(1))
	for _, tc := range []struct {
		name string
		pub  any
	}{
		{"exponent 3", &rsa.PublicKey{N: rk.N, E: 3}},
		{"exponent 2^31-1", &rsa.PublicKey{N: rk.N, E: 1<<31 - 1}},
		{"a 4096-bit modulus with a two-octet DER length", &rsa.PublicKey{N: big4096, E: 65537}},
	} {
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
	k224, _ := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	edpub, _, _ := ed25519.GenerateKey(rand.Reader)
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
		{"an Ed25519 key", edpub},
	} {
		t.Run(tc.name+" is refused", func(t *testing.T) {
			if der, err := MarshalSPKI(tc.pub); err == nil {
				t.Fatalf("encoded as %x", der)
			}
		})
	}
}

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
