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
	for _, name := range wycheproof.Files() {
		f, err := wycheproof.Load(name)
		if err != nil {
			t.Fatal(err)
		}
		for gi, g := range f.Groups {
			doc, err := g.JWK()
			if err != nil {
				t.Fatal(err)
			}
			set, warnings, err := Parse([]byte(`{"keys":[` + string(doc) + `]}`))
			if err != nil || len(set.Keys) != 1 {
				t.Fatalf("%s group %d: %s refused: %v %v", name, gi, doc, warnings, err)
			}
			want, err := x509.ParsePKIXPublicKey(g.PublicKeyDER)
			if err != nil {
				t.Fatalf("%s group %d: %v", name, gi, err)
			}
			if got := set.Keys[0].Public; !want.(interface{ Equal(crypto.PublicKey) bool }).Equal(got) {
				t.Errorf("%s group %d: the JWK reads as %v, Wycheproof's DER as %v", name, gi, got, want)
			}
			n++
		}
	}
	t.Logf("%d keys read alike", n)
}
