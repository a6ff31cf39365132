package hostcrypto

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"

	"github.com/tokengate/tokengate/internal/verifysig"
)

// encodeArgs builds VerifySignatureArguments the way a plugin does.
func encodeArgs(hash string, der, pemKey, sig, text []byte) []byte {
	return verifysig.EncodeArguments(verifysig.Arguments{HashFunction: hash, PublicKey: der, Signature: sig, Text: text, PublicKeyPEM: pemKey})
}

// decodeResult reads a VerifySignatureResult as the plugin does; a reply
// the plugin could not read fails the test.
func decodeResult(t testing.TB, b []byte) (ok bool, reason string) {
	t.Helper()
	r, err := verifysig.DecodeResult(b)
	if err != nil {
		t.Fatalf("the reply %x does not decode: %v", b, err)
	}
	return r.OK, r.Error
}

type fixture struct {
	text             []byte
	rsaKey           *rsa.PrivateKey
	ecKeys           map[int]*ecdsa.PrivateKey
	edPub            ed25519.PublicKey
	edSig            []byte
	rsaSig, ecSigDER map[int][]byte
}

func digest(bits int, text []byte) (crypto.Hash, []byte) {
	switch bits {
	case 384:
		d := sha512.Sum384(text)
		return crypto.SHA384, d[:]
	case 512:
		d := sha512.Sum512(text)
		return crypto.SHA512, d[:]
	}
	d := sha256.Sum256(text)
	return crypto.SHA256, d[:]
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	f := &fixture{text: []byte("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9"), ecKeys: map[int]*ecdsa.PrivateKey{},
		rsaSig: map[int][]byte{}, ecSigDER: map[int][]byte{}}
	var err error
	if f.rsaKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		t.Fatal(err)
	}
	curves := map[int]elliptic.Curve{256: elliptic.P256(), 384: elliptic.P384(), 512: elliptic.P521()}
	for _, bits := range []int{256, 384, 512} {
		h, d := digest(bits, f.text)
		f.rsaSig[bits], _ = rsa.SignPKCS1v15(rand.Reader, f.rsaKey, h, d)
		f.ecKeys[bits], _ = ecdsa.GenerateKey(curves[bits], rand.Reader)
		f.ecSigDER[bits], _ = ecdsa.SignASN1(rand.Reader, f.ecKeys[bits], d)
	}
	var priv ed25519.PrivateKey
	f.edPub, priv, _ = ed25519.GenerateKey(rand.Reader)
	f.edSig = ed25519.Sign(priv, f.text)
	return f
}

func spki(t testing.TB, pub any) []byte {
	t.Helper()
	b, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func tamper(b []byte) []byte {
	c := append([]byte(nil), b...)
	c[len(c)/2] ^= 0x10
	return c
}

func TestVerifySignature(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	rsaDER := spki(t, &f.rsaKey.PublicKey)
	rsaPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: rsaDER})
	tests := []struct {
		name   string
		args   []byte
		ok     bool
		reason string // substring of the reason when refused
	}{
		{"a valid RSA sha256 signature verifies", encodeArgs("sha256", rsaDER, nil, f.rsaSig[256], f.text), true, ""},
		{"a valid RSA sha384 signature verifies", encodeArgs("sha384", rsaDER, nil, f.rsaSig[384], f.text), true, ""},
		{"a valid RSA sha512 signature verifies", encodeArgs("sha512", rsaDER, nil, f.rsaSig[512], f.text), true, ""},
		{"a PEM key works like a DER one", encodeArgs("sha256", nil, rsaPEM, f.rsaSig[256], f.text), true, ""},
		{"a tampered RSA signature is refused", encodeArgs("sha256", rsaDER, nil, tamper(f.rsaSig[256]), f.text), false, "does not verify"},
		{"a tampered text is refused", encodeArgs("sha256", rsaDER, nil, f.rsaSig[256], tamper(f.text)), false, "does not verify"},
		{"an RSA signature with the wrong hash is refused", encodeArgs("sha384", rsaDER, nil, f.rsaSig[256], f.text), false, "does not verify"},
		{"a zero-prefixed RSA signature is refused", encodeArgs("sha256", rsaDER, nil, append([]byte{0}, f.rsaSig[256]...), f.text), false, "does not verify"},
		{"a valid P-256 DER signature verifies", encodeArgs("sha256", spki(t, &f.ecKeys[256].PublicKey), nil, f.ecSigDER[256], f.text), true, ""},
		{"a valid P-384 DER signature verifies", encodeArgs("sha384", spki(t, &f.ecKeys[384].PublicKey), nil, f.ecSigDER[384], f.text), true, ""},
		{"a valid P-521 DER signature verifies", encodeArgs("sha512", spki(t, &f.ecKeys[512].PublicKey), nil, f.ecSigDER[512], f.text), true, ""},
		{"a tampered ECDSA signature is refused", encodeArgs("sha256", spki(t, &f.ecKeys[256].PublicKey), nil, tamper(f.ecSigDER[256]), f.text), false, "does not verify"},
		{"an Ed25519 key is refused as Envoy does", encodeArgs("sha512", spki(t, f.edPub), nil, f.edSig, f.text), false, "only RSA and ECDSA"},
		{"an unknown hash is refused", encodeArgs("md5", rsaDER, nil, f.rsaSig[256], f.text), false, "unsupported hash"},
		{"an empty hash is refused", encodeArgs("", rsaDER, nil, f.rsaSig[256], f.text), false, "unsupported hash"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := VerifySignature(tt.args)
			if err != nil {
				t.Fatal(err)
			}
			ok, reason := decodeResult(t, out)
			if ok != tt.ok || (tt.ok && reason != "") || !strings.Contains(reason, tt.reason) {
				t.Fatalf("got ok=%v reason=%q, want ok=%v reason containing %q", ok, reason, tt.ok, tt.reason)
			}
		})
	}
}

func TestVerifySignatureRefusesBadArguments(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tests := []struct {
		name string
		args []byte
	}{
		{"no arguments at all", nil},
		{"no public key", encodeArgs("sha256", nil, nil, f.rsaSig[256], f.text)},
		{"a key that is not DER", encodeArgs("sha256", []byte{0x30, 0x03, 1, 2, 3}, nil, f.rsaSig[256], f.text)},
		{"a PEM key that is not PEM", encodeArgs("sha256", nil, []byte("-----BEGIN nothing"), f.rsaSig[256], f.text)},
		{"a truncated field", []byte{verifysig.FieldText<<3 | 2, 10, 'a'}},
		{"a truncated tag", []byte{0x80}},
		{"an unsupported wire type", []byte{verifysig.FieldText<<3 | 3}},
		{"field number zero", []byte{0x02, 0x00}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if out, err := VerifySignature(tt.args); err == nil {
				t.Fatalf("accepted, answered %x", out)
			}
		})
	}
	t.Run("unknown fields are skipped", func(t *testing.T) {
		args := append([]byte{9 << 3, 1, 10<<3 | 1, 0, 0, 0, 0, 0, 0, 0, 0, 11<<3 | 5, 0, 0, 0, 0},
			encodeArgs("sha256", spki(t, &f.rsaKey.PublicKey), nil, f.rsaSig[256], f.text)...)
		out, err := VerifySignature(args)
		if err != nil {
			t.Fatal(err)
		}
		if ok, reason := decodeResult(t, out); !ok {
			t.Fatalf("refused: %s", reason)
		}
	})
}

func FuzzVerifySignature(f *testing.F) {
	fx := newFixture(f)
	f.Add(encodeArgs("sha256", spki(f, &fx.rsaKey.PublicKey), nil, fx.rsaSig[256], fx.text))
	f.Add(encodeArgs("sha256", spki(f, &fx.ecKeys[256].PublicKey), nil, fx.ecSigDER[256], fx.text))
	f.Add([]byte{verifysig.FieldText<<3 | 2, 10, 'a'})
	f.Fuzz(func(t *testing.T, args []byte) {
		out, err := VerifySignature(args)
		if err != nil {
			return
		}
		ok, reason := decodeResult(t, out)
		if ok && reason != "" {
			t.Fatalf("success with a reason: %q", reason)
		}
	})
}
