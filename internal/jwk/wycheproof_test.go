package jwk

import (
	"crypto"
	"crypto/x509"
	"testing"

	"github.com/tokengate/tokengate/internal/wycheproof"
)

// TestWycheproofKeys reads the key of every Wycheproof vector group as a
// JWK and checks it is the key Wycheproof publishes as DER: RSA moduli of
// 2048 to 4096 bits, EC points whose coordinates have leading zero octets or
// special forms, Ed25519 points. A key that parsed differently would make
// every vector of its group test the wrong thing.
func TestWycheproofKeys(t *testing.T) {
	t.Parallel()
	n := 0
	groups, err := wycheproof.Groups()
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range groups {
		doc, err := g.JWK()
		if err != nil {
			t.Fatal(err)
		}
		set, warnings, err := Parse([]byte(`{"keys":[` + string(doc) + `]}`))
		if err != nil || len(set.Keys) != 1 {
			t.Fatalf("%s group %d: %s refused: %v %v", g.File, g.Index, doc, warnings, err)
		}
		want, err := x509.ParsePKIXPublicKey(g.PublicKeyDER)
		if err != nil {
			t.Fatalf("%s group %d: %v", g.File, g.Index, err)
		}
		if got := set.Keys[0].Public; !want.(interface{ Equal(crypto.PublicKey) bool }).Equal(got) {
			t.Errorf("%s group %d: the JWK reads as %v, Wycheproof's DER as %v", g.File, g.Index, got, want)
		}
		n++
	}
	t.Logf("%d keys read alike", n)
}
