//go:build !wasip1

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
	"encoding/hex"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/tokengate/tokengate/internal/envoytest"
)

// probeCase is one question to the host: does this signature verify?
type probeCase struct {
	name, alg, hash string
	spki, sig, text []byte
	iterations      int
	want            string // "accepted" or "refused" (a prefix of the answer); "" when only recorded
}

func (c probeCase) line() string {
	return strings.Join([]string{c.name, c.alg, c.hash, hex.EncodeToString(c.spki), hex.EncodeToString(c.sig),
		hex.EncodeToString(c.text), strconv.Itoa(c.iterations)}, " ")
}

// probeCases signs a JWS-like input with every JWS algorithm and asks for
// the valid signature, a tampered one, and a few malformed forms. want is set
// for what Verify claims the host supports: those answers are required.
func probeCases(t *testing.T) []probeCase {
	t.Helper()
	text := []byte("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSIsImF1ZCI6ImFwaTovL3Njb3JpbmcifQ")
	digest := func(bits int) (crypto.Hash, []byte) {
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
	tamper := func(b []byte) []byte { c := append([]byte(nil), b...); c[len(c)/2] ^= 0x10; return c }
	spki := func(pub any) []byte {
		b, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	var cases []probeCase
	add := func(c probeCase, tampered []byte) {
		cases = append(cases, c)
		bad := c
		bad.name, bad.sig, bad.iterations = c.name+"/tampered", tampered, 0
		if c.want != "" {
			bad.want = "refused"
		}
		cases = append(cases, bad)
	}
	for _, bits := range []int{256, 384, 512} {
		h, d := digest(bits)
		hash := "sha" + strconv.Itoa(bits)
		sig, _ := rsa.SignPKCS1v15(rand.Reader, rk, h, d)
		alg := "RS" + strconv.Itoa(bits)
		_, supported := hashFor(alg)
		want := ""
		if supported {
			want = "accepted"
		}
		add(probeCase{name: alg, alg: alg, hash: hash, spki: spki(&rk.PublicKey), sig: sig, text: text, iterations: 200, want: want}, tamper(sig))
		pss, _ := rsa.SignPSS(rand.Reader, rk, h, d, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
		palg := "PS" + strconv.Itoa(bits)
		add(probeCase{name: palg, alg: palg, hash: hash, spki: spki(&rk.PublicKey), sig: pss, text: text}, tamper(pss))
		if bits == 256 {
			ff := make([]byte, len(sig))
			for i := range ff {
				ff[i] = 0xff
			}
			cases = append(cases,
				probeCase{name: "RS256/above-modulus", alg: alg, hash: hash, spki: spki(&rk.PublicKey), sig: ff, text: text, want: "refused"},
				probeCase{name: "RS256/short", alg: alg, hash: hash, spki: spki(&rk.PublicKey), sig: sig[1:], text: text, want: "refused"},
				probeCase{name: "RS256/zero-prefixed", alg: alg, hash: hash, spki: spki(&rk.PublicKey), sig: append([]byte{0}, sig...), text: text},
				probeCase{name: "RS256/wrong-hash", alg: alg, hash: "sha384", spki: spki(&rk.PublicKey), sig: sig, text: text, want: "refused"})
		}
	}
	for _, c := range []struct {
		alg   string
		curve elliptic.Curve
		bits  int
		n     int
	}{{"ES256", elliptic.P256(), 256, 100}, {"ES384", elliptic.P384(), 384, 20}, {"ES512", elliptic.P521(), 512, 20}} {
		k, _ := ecdsa.GenerateKey(c.curve, rand.Reader)
		_, d := digest(c.bits)
		r, s, _ := ecdsa.Sign(rand.Reader, k, d)
		size := (c.curve.Params().BitSize + 7) / 8
		jose := make([]byte, 2*size)
		r.FillBytes(jose[:size])
		s.FillBytes(jose[size:])
		der, err := JOSEToDER(jose, size)
		if err != nil {
			t.Fatal(err)
		}
		_, supported := hashFor(c.alg)
		want := ""
		if supported {
			want = "accepted"
		}
		hash := "sha" + strconv.Itoa(c.bits)
		badJose := tamper(jose)
		badDER, _ := JOSEToDER(badJose, size)
		add(probeCase{name: c.alg, alg: c.alg, hash: hash, spki: spki(&k.PublicKey), sig: der, text: text, iterations: c.n, want: want}, badDER)
		if c.alg == "ES256" {
			zeroR := append(make([]byte, size), jose[size:]...)
			zr, _ := JOSEToDER(zeroR, size)
			// ECDSA accepts s and n−s alike; Go does, and so must the host.
			highS := append(append([]byte(nil), jose[:size]...), new(big.Int).Sub(c.curve.Params().N, s).FillBytes(make([]byte, size))...)
			hs, _ := JOSEToDER(highS, size)
			cases = append(cases,
				probeCase{name: "ES256/high-s", alg: c.alg, hash: hash, spki: spki(&k.PublicKey), sig: hs, text: text, want: "accepted"},
				probeCase{name: "ES256/jose-not-der", alg: c.alg, hash: hash, spki: spki(&k.PublicKey), sig: jose, text: text, want: "refused"},
				probeCase{name: "ES256/zero-r", alg: c.alg, hash: hash, spki: spki(&k.PublicKey), sig: zr, text: text, want: "refused"})
		}
	}
	epub, epriv, _ := ed25519.GenerateKey(rand.Reader)
	esig := ed25519.Sign(epriv, text)
	add(probeCase{name: "EdDSA", alg: "EdDSA", hash: "sha512", spki: spki(epub), sig: esig, text: text}, tamper(esig))
	return cases
}

// TestEnvoyVerifySignature loads the probe module in Envoy and records, per
// JWS algorithm, what Envoy's verify_signature answers. It fails when an
// algorithm Verify sends to the host is not verified correctly there.
func TestEnvoyVerifySignature(t *testing.T) {
	envoytest.Binary(t)
	cases := probeCases(t)
	cfg := []string{"detect"}
	for _, c := range cases {
		cfg = append(cfg, c.line())
	}
	answers, log := runProbe(t, cfg)
	times := map[string]string{}
	for _, m := range regexp.MustCompile(`probe-time (\S+) (host_ns=\d+ module_ns=\d+ module_ok=\w+)`).FindAllStringSubmatch(log, -1) {
		if _, seen := times[m[1]]; !seen {
			times[m[1]] = m[2]
		}
	}
	// A filter detects the function with one call without arguments: any
	// answer but NotFound means it is there.
	t.Logf("empty arguments: %s", answers["detect"])
	if a := answers["detect"]; a == "" || strings.Contains(a, "not_found") {
		t.Errorf("calling verify_signature without arguments answered %q, want an answer that is not NotFound", a)
	}
	for _, c := range cases {
		got := answers[c.name]
		t.Logf("%-20s %-12s %s", c.name, got, times[c.name])
		if got == "" {
			t.Errorf("%s: no answer in the log", c.name)
			continue
		}
		if c.want != "" && !strings.HasPrefix(got, c.want) {
			t.Errorf("%s: Envoy answered %s, want %s: Verify must not send this algorithm to the host", c.name, got, c.want)
		}
	}
}
