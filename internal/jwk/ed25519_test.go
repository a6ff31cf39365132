package jwk_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"strconv"
	"strings"
	"testing"

	"github.com/tokengate/tokengate/internal/jwk"
)

func okp(x []byte) []byte {
	return []byte(`{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"k","x":"` + base64.RawURLEncoding.EncodeToString(x) + `"}]}`)
}

// forgeable reports whether R = identity, S = 0 verifies one of a few
// messages under pub: true for every small-order key (for an order-8 key, one
// message in eight on average).
func forgeable(pub []byte) bool {
	sig := make([]byte, 64)
	sig[0] = 1
	for i := range 64 {
		if ed25519.Verify(ed25519.PublicKey(pub), []byte("message "+strconv.Itoa(i)), sig) {
			return true
		}
	}
	return false
}

// TestSmallOrderEd25519KeysAreIgnored is the regression test for a key that
// verifies forged signatures: an Ed25519 JWK holding a point of small order.
func TestSmallOrderEd25519KeysAreIgnored(t *testing.T) {
	mustHex := func(s string) []byte {
		b, err := hex.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	canonical := []struct {
		name string
		enc  []byte
	}{
		{"the identity", mustHex("0100000000000000000000000000000000000000000000000000000000000000")},
		{"the point of order 2", mustHex("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f")},
		{"a point of order 4", mustHex("0000000000000000000000000000000000000000000000000000000000000000")},
		{"the other point of order 4", mustHex("0000000000000000000000000000000000000000000000000000000000000080")},
		{"a point of order 8", mustHex("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05")},
		{"its negation", mustHex("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85")},
		{"another point of order 8", mustHex("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a")},
		{"its negation too", mustHex("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa")},
	}
	for _, tt := range canonical {
		t.Run(tt.name+" is refused", func(t *testing.T) {
			if !forgeable(tt.enc) {
				t.Fatalf("%x: the forgery does not verify, so this is not a small-order key", tt.enc)
			}
			set, warnings, err := jwk.Parse(okp(tt.enc))
			if err != nil || len(set.Keys) != 0 || len(warnings) != 1 || !strings.Contains(warnings[0], "prime order") {
				t.Fatalf("Parse = %d keys, %q, %v; want the key ignored with a warning", len(set.Keys), warnings, err)
			}
		})
	}
	// Non-canonical encodings (y >= p) of the identity and of the order-4
	// points: refused whatever a verifier would make of them.
	for _, enc := range []string{
		"eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
		"eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
		"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
		"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
		"0100000000000000000000000000000000000000000000000000000000000080",
	} {
		t.Run("the non-canonical encoding "+enc[:8]+"…"+enc[60:]+" is refused", func(t *testing.T) {
			set, _, err := jwk.Parse(okp(mustHex(enc)))
			if err != nil || len(set.Keys) != 0 {
				t.Fatalf("Parse kept %d keys (err %v), want none", len(set.Keys), err)
			}
		})
	}
	t.Run("genuine keys are kept", func(t *testing.T) {
		for range 100 {
			pub, _, err := ed25519.GenerateKey(rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			set, warnings, err := jwk.Parse(okp(pub))
			if err != nil || len(set.Keys) != 1 {
				t.Fatalf("Parse(%x) = %d keys, %q, %v; want the key", pub, len(set.Keys), warnings, err)
			}
		}
	})
}
