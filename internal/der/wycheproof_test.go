package der_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/tokengate/tokengate/internal/der"
	"github.com/tokengate/tokengate/internal/jwk"
	"github.com/tokengate/tokengate/internal/wycheproof"
)

// TestWycheproofKeysEncodeLikeWycheproof proves MarshalSPKI on every RSA
// PKCS#1 v1.5 and ECDSA key of the Wycheproof vectors, read by the JWK
// parser as the plugin reads it, including the edge-case EC points
// (coordinates with leading zero octets, points of special form): the
// SubjectPublicKeyInfo sent to the host must be the bytes Wycheproof
// publishes for the key. (PSS files publish RSASSA-PSS keys, and Ed25519
// keys are never sent, so neither is compared.)
func TestWycheproofKeysEncodeLikeWycheproof(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	groups, err := wycheproof.Groups()
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range groups {
		if !strings.HasPrefix(g.Alg, "RS") && !strings.HasPrefix(g.Alg, "ES") || seen[string(g.PublicKeyDER)] {
			continue
		}
		seen[string(g.PublicKeyDER)] = true
		doc, err := g.JWK()
		if err != nil {
			t.Fatal(err)
		}
		set, warnings, err := jwk.Parse([]byte(`{"keys":[` + string(doc) + `]}`))
		if err != nil || len(set.Keys) != 1 {
			t.Fatalf("%s group %d: the JWK parser refuses %s: %v %v", g.File, g.Index, doc, warnings, err)
		}
		got, err := der.MarshalSPKI(set.Keys[0].Public)
		if err != nil {
			t.Fatalf("%s group %d: %v", g.File, g.Index, err)
		}
		if !bytes.Equal(got, g.PublicKeyDER) {
			t.Errorf("%s group %d: SPKI differs from Wycheproof's:\n got %x\nwant %x", g.File, g.Index, got, g.PublicKeyDER)
		}
	}
	if len(seen) < 100 {
		t.Fatalf("only %d distinct keys compared", len(seen))
	}
}
