//go:build !wasip1

package main

// These tests prove that verifying signatures with the host's
// verify_signature (host/hostcrypto, the Go twin of Envoy's) decides exactly
// like verifying them in the module, over a matrix of every algorithm and
// the ways a signature can be wrong. Envoy's own answers on the same kinds
// of signatures are checked by plugin/internal/hostcrypto's Envoy test.

import (
	"crypto/ecdsa"
	"encoding/base64"
	"math/big"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tokengate/tokengate/host"
	"github.com/tokengate/tokengate/host/hostcrypto"
	"github.com/tokengate/tokengate/internal/issuer"
	"github.com/tokengate/tokengate/testhost"
)

var allAlgorithms = []issuer.Algorithm{issuer.RS256, issuer.RS384, issuer.RS512, issuer.PS256, issuer.PS384,
	issuer.PS512, issuer.ES256, issuer.ES384, issuer.ES512, issuer.EdDSA}

// signatureCase is one token and whether it must be accepted.
type signatureCase struct {
	name   string
	token  string
	accept bool
	// host: the host's verify_signature must be asked (RS* and ES* with a
	// well-formed signature).
	host bool
}

func matrixConfig(idp *issuer.Issuer) string {
	return `{"realm": "matrix", "cache_size": 0,
  "providers": {"corp": {"issuer": "` + iss + `", "audiences": ["` + aud + `"], "jwks": ` + string(idp.JWKS()) + `}},
  "rules": [{"match": {"prefix": "/"}, "requires": {"providers": ["corp"]}}]}`
}

// signatureMatrix mints, for every algorithm, a valid token and tokens whose
// signature is wrong in each way that matters to a verifier.
func signatureMatrix(t *testing.T, idp, other *issuer.Issuer) []signatureCase {
	t.Helper()
	b64 := base64.RawURLEncoding
	split := func(tok string) (string, []byte) {
		i := strings.LastIndexByte(tok, '.')
		sig, err := b64.DecodeString(tok[i+1:])
		if err != nil {
			t.Fatal(err)
		}
		return tok[:i], sig
	}
	join := func(input string, sig []byte) string { return input + "." + b64.EncodeToString(sig) }
	var cases []signatureCase
	for _, alg := range allAlgorithms {
		a := string(alg)
		kid := a + "-1"
		viaHost := alg[0] == 'R' || alg[0] == 'E' && alg != issuer.EdDSA
		valid := token(t, idp, issuer.Claims{"jti": a}, issuer.WithKey(kid))
		input, sig := split(valid)
		flipped := append([]byte(nil), sig...)
		flipped[len(flipped)/2] ^= 0x01
		otherInput, otherSig := split(token(t, idp, issuer.Claims{"jti": a + "-other"}, issuer.WithKey(kid)))
		_ = otherInput
		cases = append(cases,
			signatureCase{a + " valid", valid, true, viaHost},
			signatureCase{a + " with one bit of the signature flipped", join(input, flipped), false, viaHost},
			signatureCase{a + " signed by another key with the same kid", token(t, other, issuer.Claims{"jti": a}, issuer.WithKey(kid)), false, viaHost},
			signatureCase{a + " with the signature of another token", join(input, otherSig), false, viaHost},
			signatureCase{a + " with the last signature byte cut off", join(input, sig[:len(sig)-1]), false, false},
			signatureCase{a + " with a zero byte before the signature", join(input, append([]byte{0}, sig...)), false, false},
			signatureCase{a + " valid but expired", token(t, idp, issuer.Claims{"jti": a + "-exp"}, issuer.WithKey(kid), issuer.WithTTL(-time.Hour)), false, viaHost},
		)
		switch alg[0] {
		case 'R', 'P':
			ff := make([]byte, len(sig))
			for i := range ff {
				ff[i] = 0xff
			}
			cases = append(cases, signatureCase{a + " with a signature larger than the modulus", join(input, ff), false, alg[0] == 'R'})
		case 'E':
			if alg == issuer.EdDSA {
				break
			}
			pub := idp.Key(kid).Private.Public().(*ecdsa.PublicKey)
			size := len(sig) / 2
			zeroR := append(make([]byte, size), sig[size:]...)
			// s and n−s both verify in ECDSA; a verifier that enforces low s
			// would decide differently.
			n := pub.Curve.Params().N
			s := new(big.Int).SetBytes(sig[size:])
			highS := append(append([]byte(nil), sig[:size]...), new(big.Int).Sub(n, s).FillBytes(make([]byte, size))...)
			cases = append(cases,
				signatureCase{a + " with r = 0", join(input, zeroR), false, true},
				signatureCase{a + " with s replaced by n−s", join(input, highS), true, true})
		}
	}
	return cases
}

func TestHostVerificationDecidesLikeTheModule(t *testing.T) {
	idp, err := issuer.New(iss, allAlgorithms...)
	if err != nil {
		t.Fatal(err)
	}
	other, err := issuer.New(iss, allAlgorithms...)
	if err != nil {
		t.Fatal(err)
	}
	cfg := matrixConfig(idp)
	var calls atomic.Int64
	counted := func(args []byte) ([]byte, error) {
		calls.Add(1)
		return hostcrypto.VerifySignature(args)
	}
	// The module path: a verify_signature that always fails its self-test,
	// so the outcome does not depend on what testhost registers by default.
	inModule := testhost.New(t, cfg, testhost.WithHostOption(host.WithForeignFunction(hostcrypto.FunctionName,
		func([]byte) ([]byte, error) { return nil, errAlways })))
	onHost := testhost.New(t, cfg, testhost.WithHostOption(host.WithForeignFunction(hostcrypto.FunctionName, counted)))
	for _, c := range signatureMatrix(t, idp, other) {
		t.Run(c.name, func(t *testing.T) {
			req := testhost.Request{Path: "/api", Headers: [][2]string{{"authorization", "Bearer " + c.token}}}
			want := inModule.Do(t, req)
			before := calls.Load()
			got := onHost.Do(t, req)
			asked := calls.Load() > before
			if want.Continued != c.accept {
				t.Fatalf("in the module: accepted=%v (%d %s), want %v", want.Continued, want.Status, want.Body, c.accept)
			}
			if got.Continued != want.Continued || got.Status != want.Status || got.Header("www-authenticate") != want.Header("www-authenticate") {
				t.Fatalf("the host path decided %v/%d %q, the module %v/%d %q", got.Continued, got.Status,
					got.Header("www-authenticate"), want.Continued, want.Status, want.Header("www-authenticate"))
			}
			if asked != c.host {
				t.Fatalf("verify_signature asked: %v, want %v", asked, c.host)
			}
		})
	}
}

func TestHostVerificationIsUsedOnlyWhenItPassesItsSelfTest(t *testing.T) {
	idp, err := issuer.New(iss, issuer.RS256)
	if err != nil {
		t.Fatal(err)
	}
	cfg := matrixConfig(idp)
	valid := token(t, idp, nil)
	forged := valid[:len(valid)-8] + "AAAAAAAA"
	tests := []struct {
		name string
		fn   func([]byte) ([]byte, error)
	}{
		{"a host that accepts every signature is not trusted", func([]byte) ([]byte, error) { return []byte{0x08, 0x01}, nil }},
		{"a host whose function always fails is not used", func([]byte) ([]byte, error) { return nil, errAlways }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls atomic.Int64
			th := testhost.New(t, cfg, testhost.WithHostOption(host.WithForeignFunction(hostcrypto.FunctionName,
				func(b []byte) ([]byte, error) { calls.Add(1); return tt.fn(b) })))
			afterConfigure := calls.Load()
			if afterConfigure == 0 {
				t.Fatal("the plugin never checked the host's function")
			}
			if res := th.Do(t, testhost.Request{Headers: [][2]string{{"authorization", "Bearer " + forged}}}); res.Continued {
				t.Fatal("a forged token was accepted")
			}
			if res := th.Do(t, testhost.Request{Headers: [][2]string{{"authorization", "Bearer " + valid}}}); !res.Continued {
				t.Fatalf("a valid token was refused: %d %s", res.Status, res.Body)
			}
			if calls.Load() != afterConfigure {
				t.Fatal("the function was used for requests after failing its self-test")
			}
		})
	}
}

type constError string

func (e constError) Error() string { return string(e) }

const errAlways = constError("verification backend unavailable")
