package gate

import (
	"testing"

	"github.com/tokengate/tokengate/internal/jwk"
	"github.com/tokengate/tokengate/internal/wycheproof"
)

// TestWycheproofInModule runs every Wycheproof vector of every JWS algorithm
// through the module's own verification: the key is published as a JWK and
// read by the plugin's JWK parser, must fit the algorithm as the gate
// requires, and the signature is checked by the gate's signing method for
// that algorithm, exactly as for a token (the vector's message stands for
// the JWS signing input, which the signature primitive treats as opaque
// bytes). Valid vectors must be accepted, invalid ones refused, acceptable
// ones decided as wycheproof.Want documents.
func TestWycheproofInModule(t *testing.T) {
	t.Parallel()
	tally := wycheproof.Tally{}
	g := &Gate{} // no Verifier: in-module crypto only
	groups, err := wycheproof.Groups()
	if err != nil {
		t.Fatal(err)
	}
	for _, grp := range groups {
		name, gi := grp.File, grp.Index
		algs := []string{grp.Alg}
		if grp.Alg == "EdDSA" {
			algs = append(algs, "Ed25519") // RFC 9864's name for the same check
		}
		key := parseVectorKey(t, grp.Group)
		for _, alg := range algs {
			a, ok := algorithms[alg]
			if !ok {
				t.Fatalf("%s: %s is not an algorithm of the gate", name, alg)
			}
			usable := key != nil && fits(key, alg, a)
			for _, tc := range grp.Tests {
				want, err := wycheproof.Want(tc)
				if err != nil {
					t.Fatal(err)
				}
				got := usable && g.verifySignature(a, alg, key.Public, string(tc.Msg), tc.Sig)
				tally.Add(alg, tc, got)
				if got != want {
					t.Errorf("%s group %d test %d (%s, %s %v): %s accepted=%v, want %v",
						name, gi, tc.ID, tc.Comment, tc.Result, tc.Flags, alg, got, want)
				}
			}
		}
	}
	t.Logf("in-module verification of the Wycheproof vectors:\n%s", tally)
}

// parseVectorKey reads the group's key with the plugin's JWK parser; nil
// when the parser refuses it (then no vector of the group can verify).
func parseVectorKey(t *testing.T, g *wycheproof.Group) *jwk.Key {
	t.Helper()
	doc, err := g.JWK()
	if err != nil {
		t.Fatal(err)
	}
	set, warnings, err := jwk.Parse([]byte(`{"keys":[` + string(doc) + `]}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Keys) != 1 {
		t.Logf("the JWK parser refuses %s: %v", doc, warnings)
		return nil
	}
	return set.Keys[0]
}
