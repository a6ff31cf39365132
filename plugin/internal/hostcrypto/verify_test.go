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
	"errors"
	"fmt"
	"hash"
	"testing"

	"github.com/tokengate/tokengate/internal/verifysig"
)

// fakeHost decodes VerifySignatureArguments and verifies like the proxy would.
func fakeHost(t *testing.T) CallFunc {
	return func(name string, args []byte) ([]byte, error) {
		if name != ForeignFunctionName {
			return nil, errors.New("unknown function " + name)
		}
		a, err := verifysig.DecodeArguments(args)
		if err != nil {
			t.Fatalf("the plugin sent arguments the host cannot decode: %v", err)
		}
		pub, err := x509.ParsePKIXPublicKey(a.PublicKey)
		if err != nil {
			return nil, err
		}
		var h hash.Hash
		var ch crypto.Hash
		switch a.HashFunction {
		case "sha256":
			h, ch = sha256.New(), crypto.SHA256
		case "sha384":
			h, ch = sha512.New384(), crypto.SHA384
		case "sha512":
			h, ch = sha512.New(), crypto.SHA512
		}
		h.Write(a.Text)
		d := h.Sum(nil)
		ok := false
		switch k := pub.(type) {
		case *rsa.PublicKey:
			ok = rsa.VerifyPKCS1v15(k, ch, d, a.Signature) == nil
		case *ecdsa.PublicKey:
			ok = ecdsa.VerifyASN1(k, d, a.Signature)
		}
		if ok {
			return verifysig.EncodeResult(verifysig.Result{OK: true}), nil
		}
		return verifysig.EncodeResult(verifysig.Result{Error: "bad"}), nil
	}
}

func TestVerify(t *testing.T) {
	t.Parallel()
	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	ek, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	input := []byte("header.payload")
	d := sha256.Sum256(input)
	rsig, _ := rsa.SignPKCS1v15(rand.Reader, rk, crypto.SHA256, d[:])
	r, s, _ := ecdsa.Sign(rand.Reader, ek, d[:])
	esig := make([]byte, 64)
	r.FillBytes(esig[:32])
	s.FillBytes(esig[32:])
	tamper := func(b []byte) []byte { c := append([]byte(nil), b...); c[len(c)-1] ^= 1; return c }
	_, edpub, _ := ed25519.GenerateKey(rand.Reader)

	for _, tc := range []struct {
		name               string
		alg                string
		pub                crypto.PublicKey
		sig                []byte
		ok, supported, err bool
	}{
		{"a valid RS256 signature is accepted", "RS256", &rk.PublicKey, rsig, true, true, false},
		{"a tampered RS256 signature is refused", "RS256", &rk.PublicKey, tamper(rsig), false, true, false},
		{"a valid ES256 signature is accepted", "ES256", &ek.PublicKey, esig, true, true, false},
		{"a tampered ES256 signature is refused", "ES256", &ek.PublicKey, tamper(esig), false, true, false},
		{"a short ES256 signature is an error", "ES256", &ek.PublicKey, esig[:63], false, true, true},
		{"an RSA algorithm with an EC key is an error", "RS256", &ek.PublicKey, esig, false, true, true},
		{"PS256 is left to the module", "PS256", &rk.PublicKey, rsig, false, false, false},
		{"EdDSA is left to the module", "EdDSA", edpub, rsig, false, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ok, sup, err := Verify(fakeHost(t), tc.alg, tc.pub, input, tc.sig)
			if ok != tc.ok || sup != tc.supported || (err != nil) != tc.err {
				t.Fatalf("got ok=%v supported=%v err=%v", ok, sup, err)
			}
		})
	}
	t.Run("a failing host call is an error, not a success", func(t *testing.T) {
		ok, _, err := Verify(func(string, []byte) ([]byte, error) { return nil, errors.New("boom") }, "RS256", &rk.PublicKey, input, rsig)
		if ok || err == nil {
			t.Fatalf("got ok=%v err=%v", ok, err)
		}
	})
}

func TestDecodeResult(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		in   []byte
		ok   bool
		err  bool
	}{
		{"an empty message means false", nil, false, false},
		{"result true is success", []byte{0x08, 0x01}, true, false},
		{"an unknown field is skipped", []byte{0x18, 0x05, 0x08, 0x01}, true, false},
		{"a truncated string is an error", []byte{0x12, 0x05, 'a'}, false, true},
		{"success with an error string fails closed", []byte{0x08, 0x01, 0x12, 0x01, 'x'}, false, true},
		{"a truncated varint is an error", []byte{0x08, 0x80}, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ok, _, err := DecodeResult(tc.in)
			if ok != tc.ok || (err != nil) != tc.err {
				t.Fatalf("got ok=%v err=%v", ok, err)
			}
		})
	}
}

func ExampleEncodeArguments() {
	b := EncodeArguments("sha256", []byte{0x30}, []byte{1}, []byte("t"))
	fmt.Printf("%x\n", b) // pass to the host's verify_signature foreign function
	// Output: 0a067368613235361201301a0101220174
}

func TestKey(t *testing.T) {
	t.Parallel()
	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	ek, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	_, edpub, _ := ed25519.GenerateKey(rand.Reader)
	input := []byte("header.payload")
	d := sha256.Sum256(input)
	rsig, _ := rsa.SignPKCS1v15(rand.Reader, rk, crypto.SHA256, d[:])
	t.Run("a prepared RSA key verifies again and again", func(t *testing.T) {
		k, sup, err := NewKey(&rk.PublicKey)
		if err != nil || !sup {
			t.Fatalf("NewKey: supported=%v err=%v", sup, err)
		}
		for i := 0; i < 3; i++ {
			if ok, sup, err := k.Verify(fakeHost(t), "RS256", input, rsig); !ok || !sup || err != nil {
				t.Fatalf("check %d: ok=%v supported=%v err=%v", i, ok, sup, err)
			}
		}
		if ok, _, _ := k.Verify(fakeHost(t), "RS256", []byte("other.input"), rsig); ok {
			t.Fatal("a signature over other input verified")
		}
	})
	t.Run("an Ed25519 key is not for the host", func(t *testing.T) {
		if _, sup, err := NewKey(edpub); sup || err != nil {
			t.Fatalf("supported=%v err=%v", sup, err)
		}
	})
	t.Run("a P-384 key with ES256 is an error", func(t *testing.T) {
		k, _, err := NewKey(&ek.PublicKey)
		if err != nil {
			t.Fatal(err)
		}
		if ok, sup, err := k.Verify(fakeHost(t), "ES256", input, make([]byte, 64)); ok || !sup || err == nil {
			t.Fatalf("ok=%v supported=%v err=%v", ok, sup, err)
		}
	})
	t.Run("an unknown algorithm is left to the module", func(t *testing.T) {
		k, _, _ := NewKey(&rk.PublicKey)
		if _, sup, _ := k.Verify(fakeHost(t), "PS256", input, rsig); sup {
			t.Fatal("PS256 claimed supported")
		}
	})
}

func ExampleNewKey() {
	var pub crypto.PublicKey // an *rsa.PublicKey or *ecdsa.PublicKey from the JWK Set
	var callForeign CallFunc // e.g. proxywasm.CallForeignFunction
	k, supported, err := NewKey(pub)
	if !supported || err != nil {
		return // verify in the module
	}
	ok, supported, err := k.Verify(callForeign, "RS256", []byte("header.payload"), []byte("signature"))
	_, _, _ = ok, supported, err
}
