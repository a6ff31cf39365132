package wycheproof

import (
	"encoding/json"
	"errors"
	"testing"
)

func TestEveryFileLoadsAndIsJOSE(t *testing.T) {
	t.Parallel()
	names := Files()
	if len(names) != 15 {
		t.Fatalf("%d vector files embedded, want 15: %v", len(names), names)
	}
	for _, name := range names {
		t.Run(name+" loads and names a JWS algorithm", func(t *testing.T) {
			f, err := Load(name)
			if err != nil {
				t.Fatal(err)
			}
			for _, g := range f.Groups {
				if _, err := g.Algorithm(f); err != nil {
					t.Fatal(err)
				}
				if _, err := g.JWK(); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

func TestLoadRefusesWhatItCannotTrust(t *testing.T) {
	t.Parallel()
	if _, err := Load("no_such_test.json"); err == nil {
		t.Fatal("a missing file loaded")
	}
}

func TestAlgorithmRefusesNonJOSEParameters(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		f    File
		g    Group
		want string
	}{
		{"PKCS#1 v1.5 with SHA-256 is RS256", File{Algorithm: "RSASSA-PKCS1-v1_5"}, Group{Type: "RsassaPkcs1Verify", SHA: "SHA-256"}, "RS256"},
		{"PKCS#1 v1.5 with SHA-224 is nothing", File{Algorithm: "RSASSA-PKCS1-v1_5"}, Group{Type: "RsassaPkcs1Verify", SHA: "SHA-224"}, ""},
		{"PSS with a 48-byte salt over SHA-384 is PS384", File{Algorithm: "RSASSA-PSS"}, Group{Type: "RsassaPssVerify", SHA: "SHA-384", MGF: "MGF1", MGFSHA: "SHA-384", SaltLen: 48}, "PS384"},
		{"PSS with a 32-byte salt over SHA-512 is nothing", File{Algorithm: "RSASSA-PSS"}, Group{Type: "RsassaPssVerify", SHA: "SHA-512", MGF: "MGF1", MGFSHA: "SHA-512", SaltLen: 32}, ""},
		{"PSS with MGF1 over another hash is nothing", File{Algorithm: "RSASSA-PSS"}, Group{Type: "RsassaPssVerify", SHA: "SHA-256", MGF: "MGF1", MGFSHA: "SHA-1", SaltLen: 32}, ""},
		{"PSS with no salt is nothing", File{Algorithm: "RSASSA-PSS"}, Group{Type: "RsassaPssVerify", SHA: "SHA-256", MGF: "MGF1", MGFSHA: "SHA-256"}, ""},
		{"P1363 ECDSA on P-521 with SHA-512 is ES512", File{Algorithm: "ECDSA"}, Group{Type: "EcdsaP1363Verify", SHA: "SHA-512", PublicKey: PublicKey{Curve: "secp521r1"}}, "ES512"},
		{"P1363 ECDSA on P-256 with SHA-512 is nothing", File{Algorithm: "ECDSA"}, Group{Type: "EcdsaP1363Verify", SHA: "SHA-512", PublicKey: PublicKey{Curve: "secp256r1"}}, ""},
		{"DER ECDSA is nothing", File{Algorithm: "ECDSA"}, Group{Type: "EcdsaVerify", SHA: "SHA-256", PublicKey: PublicKey{Curve: "secp256r1"}}, ""},
		{"Ed448 is nothing", File{Algorithm: "EDDSA"}, Group{Type: "EddsaVerify", PublicKey: PublicKey{Curve: "edwards448"}}, ""},
		{"Ed25519 is EdDSA", File{Algorithm: "EDDSA"}, Group{Type: "EddsaVerify", PublicKey: PublicKey{Curve: "edwards25519"}}, "EdDSA"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.g.Algorithm(&tc.f)
			if got != tc.want || (tc.want == "") != errors.Is(err, ErrNotJOSE) {
				t.Fatalf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestJWKEncodesTheRawKey(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		key  PublicKey
		want map[string]string
	}{
		{"an RSA modulus loses its sign octet",
			PublicKey{Modulus: Hex{0, 0xc1, 0x02}, PublicExponent: Hex{0, 1, 0, 1}},
			map[string]string{"kty": "RSA", "n": "wQI", "e": "AQAB"}},
		{"a short EC coordinate is padded to the field size",
			PublicKey{Curve: "secp256r1", WX: Hex{1}, WY: append(Hex{0}, make(Hex, 32)...)},
			map[string]string{"kty": "EC", "crv": "P-256", "x": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAE", "y": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}},
		{"an Ed25519 key is copied",
			PublicKey{Curve: "edwards25519", PK: make(Hex, 32)},
			map[string]string{"kty": "OKP", "crv": "Ed25519", "x": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := (&Group{PublicKey: tc.key}).JWK()
			if err != nil {
				t.Fatal(err)
			}
			var got map[string]string
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for k, v := range tc.want {
				if got[k] != v {
					t.Fatalf("%s = %q, want %q (%s)", k, got[k], v, b)
				}
			}
		})
	}
	t.Run("a coordinate longer than the field is an error", func(t *testing.T) {
		if _, err := (&Group{PublicKey: PublicKey{Curve: "secp256r1", WX: make(Hex, 33), WY: Hex{1}}}).JWK(); err != nil {
			t.Fatalf("33 zero octets are the integer 0 and fit: %v", err)
		}
		wx := append(Hex{1}, make(Hex, 32)...)
		if _, err := (&Group{PublicKey: PublicKey{Curve: "secp256r1", WX: wx, WY: Hex{1}}}).JWK(); err == nil {
			t.Fatal("a 33-octet coordinate was accepted")
		}
	})
	t.Run("a group without a key is an error", func(t *testing.T) {
		if _, err := (&Group{}).JWK(); err == nil {
			t.Fatal("no error")
		}
	})
}

func TestGroupsListsEveryGroupWithItsAlgorithm(t *testing.T) {
	t.Parallel()
	groups, err := Groups()
	if err != nil {
		t.Fatal(err)
	}
	want, tests, algs := 0, 0, map[string]bool{}
	for _, name := range Files() {
		f, err := Load(name)
		if err != nil {
			t.Fatal(err)
		}
		want += len(f.Groups)
	}
	for i, g := range groups {
		if g.Alg == "" || g.Group == nil || g.File == "" {
			t.Fatalf("group %d is incomplete: %+v", i, g)
		}
		if i > 0 && g.File == groups[i-1].File && g.Index != groups[i-1].Index+1 {
			t.Fatalf("group %d of %s follows group %d", g.Index, g.File, groups[i-1].Index)
		}
		tests += len(g.Tests)
		algs[g.Alg] = true
	}
	if len(groups) != want || tests == 0 {
		t.Fatalf("Groups returned %d groups (%d tests), the files hold %d", len(groups), tests, want)
	}
	for _, a := range []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"} {
		if !algs[a] {
			t.Errorf("no group for %s", a)
		}
	}
}
