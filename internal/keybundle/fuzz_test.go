package keybundle

import (
	"bytes"
	"testing"
	"time"

	"github.com/tidwall/gjson"
)

// fuzzNow and fuzzVerifier accept any plausible issued_at: the fuzz targets
// explore the readers, not the clock checks (TestVerify covers those).
var fuzzNow = time.Unix(4_000_000_000, 0)

func fuzzVerifier(t testing.TB) *Verifier {
	v, err := NewVerifier(time.Duration(1<<62), pinned)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// FuzzVerify feeds arbitrary bytes to Verify as a bundle: it must never
// panic, and it can only accept a bundle the pinned key signed, which the
// fuzzer can reach only through the seeds; such a bundle verifies the same
// way again.
func FuzzVerify(f *testing.F) {
	f.Add(sign(f, oneProvider(5, t0), signer))
	f.Add(sign(f, oneProvider(5, t0), otherSigner))
	f.Add([]byte(`{"key_id":"","payload":"e30","signature":""}`))
	v := fuzzVerifier(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := v.Verify(data, 0, fuzzNow)
		if err != nil {
			if b != nil || Reason(err) == "" {
				t.Fatalf("refusal %v with bundle %v, reason %q", err, b, Reason(err))
			}
			return
		}
		again, err := v.Verify(data, 0, fuzzNow)
		if err != nil || again.Version != b.Version || len(again.Providers) != len(b.Providers) {
			t.Fatalf("accepted once, then %v", err)
		}
		if _, err := v.Verify(data, b.Version, fuzzNow); Reason(err) != "unchanged" {
			t.Fatalf("the held version again: %v", err)
		}
	})
}

// FuzzPayload signs arbitrary payload bytes with the pinned key, so that
// the payload reader behind the signature is explored: it must never panic,
// and whatever it accepts must survive Sign and Verify unchanged (Sign
// writes the canonical form, and signing that again gives the same bytes).
func FuzzPayload(f *testing.F) {
	f.Add([]byte(`{"version":5,"issued_at":1767225600,"providers":{"corp":{"issuer":"https://idp.example.com","jwks":` + okpSet + `}}}`))
	f.Add([]byte(`{"version":1,"issued_at":1,"providers":{}}`))
	f.Add([]byte(`{"providers":{"a":{"jwks":{"keys":[]},"issuer":"i"}},"version":18446744073709551615,"issued_at":1767225600}`))
	v := fuzzVerifier(f)
	f.Fuzz(func(t *testing.T, payload []byte) {
		b, err := v.Verify(signRaw(payload, signer), 0, fuzzNow)
		if err != nil {
			if b != nil || Reason(err) == "" {
				t.Fatalf("refusal %v with bundle %v", err, b)
			}
			return
		}
		canonical, err := Sign(*b, signer)
		if err != nil {
			t.Fatalf("an accepted bundle cannot be signed again: %v", err)
		}
		back, err := v.Verify(canonical, 0, fuzzNow)
		if err != nil {
			t.Fatalf("the canonical form is refused: %v", err)
		}
		if back.Version != b.Version || !back.IssuedAt.Equal(b.IssuedAt) || len(back.Providers) != len(b.Providers) {
			t.Fatalf("round trip changed the bundle: %+v vs %+v", back, b)
		}
		for i, p := range b.Providers {
			q := back.Providers[i]
			if q.Name != p.Name || q.Issuer != p.Issuer || gjson.GetBytes(q.JWKS, "@ugly").Raw != gjson.GetBytes(p.JWKS, "@ugly").Raw ||
				len(q.Keys.Keys) != len(p.Keys.Keys) {
				t.Fatalf("provider %d changed: %+v vs %+v", i, q, p)
			}
		}
		if again, _ := Sign(*back, signer); !bytes.Equal(again, canonical) {
			t.Fatal("the canonical form is not stable")
		}
	})
}
