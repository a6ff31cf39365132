package hostcrypto

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"testing"

	"github.com/tokengate/tokengate/internal/verifysig"
)

// Parsed keys are kept by their exact DER bytes: a cached key answers only
// for itself, and the cache stays bounded however many keys pass through.
func TestParsedKeysAnswerOnlyForThemselves(t *testing.T) {
	digest := sha256.Sum256([]byte("header.payload"))
	keys := make([]*ecdsa.PrivateKey, maxParsedKeys+6)
	sigs := make([][]byte, len(keys))
	for i := range keys {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		if sigs[i], err = ecdsa.SignASN1(rand.Reader, k, digest[:]); err != nil {
			t.Fatal(err)
		}
		keys[i] = k
	}
	verify := func(key, sig int) bool {
		out, err := VerifySignature(encodeArgs("sha256", spki(t, &keys[key].PublicKey), nil, sigs[sig], []byte("header.payload")))
		if err != nil {
			t.Fatal(err)
		}
		r, err := verifysig.DecodeResult(out)
		if err != nil {
			t.Fatal(err)
		}
		return r.OK
	}
	cached := func(i int) (bool, int) {
		parsed.mu.Lock()
		defer parsed.mu.Unlock()
		_, ok := parsed.keys[string(spki(t, &keys[i].PublicKey))]
		return ok, len(parsed.keys)
	}
	parsed.mu.Lock()
	clear(parsed.keys)
	parsed.mu.Unlock()
	verify(0, 0)
	verify(1, 1)
	if ok0, _ := cached(0); !ok0 {
		t.Fatal("the first key is not kept once a second one is")
	}
	for round := range 2 { // the second round answers from the cache where it can
		for i := range keys {
			if !verify(i, i) {
				t.Fatalf("round %d: key %d refuses its own signature", round, i)
			}
			if ok, n := cached(i); !ok || n > maxParsedKeys {
				t.Fatalf("round %d, key %d: kept %v, %d keys cached; want it kept and at most %d", round, i, ok, n, maxParsedKeys)
			}
			if j := (i + 1) % len(keys); verify(i, j) {
				t.Fatalf("round %d: key %d accepts key %d's signature", round, i, j)
			}
		}
	}
}
