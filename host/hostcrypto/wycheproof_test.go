package hostcrypto

import (
	"encoding/asn1"
	"math/big"
	"strings"
	"testing"

	"github.com/tokengate/tokengate/internal/wycheproof"
)

// TestWycheproof feeds verify_signature every Wycheproof vector of the JWS
// algorithms, with Wycheproof's own DER key and, for ECDSA, the r||s
// signature re-encoded by encoding/asn1 (not by the plugin's encoder, which
// the plugin's tests prove against this function). RS* and ES* vectors must
// be decided as wycheproof.Want says. Valid PS* and all EdDSA vectors, which
// the plugin never sends, must be refused: as PKCS#1 v1.5 a PSS signature is
// invalid, and an Ed25519 key cannot verify a digest.
func TestWycheproof(t *testing.T) {
	t.Parallel()
	tally := wycheproof.Tally{}
	groups, err := wycheproof.Groups()
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range groups {
		name, alg := g.File, g.Alg
		hash := "sha" + strings.TrimPrefix(strings.ToLower(g.SHA), "sha-")
		if alg == "EdDSA" {
			hash = "sha512"
		}
		for _, tc := range g.Tests {
			want, err := wycheproof.Want(tc)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case alg == "EdDSA":
				want = false
			case alg[0] == 'P' && tc.Result == wycheproof.Valid:
				want = false
			case alg[0] == 'P':
				// Some invalid PSS vectors are PKCS#1 v1.5 signatures
				// (WrongPrimitive), which this function rightly accepts.
				tally.Skip(alg)
				continue
			}
			sig := tc.Sig
			if alg[0] == 'E' && alg != "EdDSA" {
				size := map[string]int{"ES256": 32, "ES384": 48, "ES512": 66}[alg]
				if len(sig) != 2*size {
					tally.Skip(alg) // not r||s of the curve's size: the plugin never sends it
					continue
				}
				sig = p1363ToDER(sig)
			}
			reply, err := VerifySignature(encodeArgs(hash, g.PublicKeyDER, nil, sig, tc.Msg))
			if err != nil {
				t.Fatalf("%s test %d: %v", name, tc.ID, err)
			}
			ok, reason := decodeResult(t, reply)
			if ok == (reason != "") {
				t.Fatalf("%s test %d: result %v with reason %q", name, tc.ID, ok, reason)
			}
			tally.Add(alg, tc, ok)
			if ok != want {
				t.Errorf("%s test %d (%s, %s %v): accepted=%v, want %v", name, tc.ID, tc.Comment, tc.Result, tc.Flags, ok, want)
			}
		}
	}
	t.Logf("verify_signature on the Wycheproof vectors (valid PS* and all EdDSA must be refused):\n%s", tally)
}

// p1363ToDER re-encodes r||s (equal halves) as an ASN.1 SEQUENCE.
func p1363ToDER(sig []byte) []byte {
	h := len(sig) / 2
	der, err := asn1.Marshal(struct{ R, S *big.Int }{new(big.Int).SetBytes(sig[:h]), new(big.Int).SetBytes(sig[h:])})
	if err != nil {
		panic(err) // two non-negative integers always encode
	}
	return der
}
