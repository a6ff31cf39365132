package hostcrypto

import (
	"errors"
	"testing"

	hosthc "github.com/tokengate/tokengate/host/hostcrypto"
	"github.com/tokengate/tokengate/internal/jwk"
	"github.com/tokengate/tokengate/internal/wycheproof"
)

// goHost is the Go host's verify_signature (host/hostcrypto), called the
// way the plugin calls a foreign function.
func goHost(name string, args []byte) ([]byte, error) {
	if name != hosthc.FunctionName {
		return nil, errors.New("no foreign function " + name)
	}
	return hosthc.VerifySignature(args)
}

// vector is one Wycheproof test prepared for the host: the key as the
// plugin's JWK parser reads it and the signing algorithm.
type vector struct {
	file string
	alg  string
	key  *jwk.Key
	tc   wycheproof.Test
}

// vectors loads every Wycheproof vector with its key read by the plugin's
// JWK parser, as the plugin would hold it.
func vectors(t *testing.T) []vector {
	t.Helper()
	var out []vector
	groups, err := wycheproof.Groups()
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range groups {
		doc, err := g.JWK()
		if err != nil {
			t.Fatal(err)
		}
		set, warnings, err := jwk.Parse([]byte(`{"keys":[` + string(doc) + `]}`))
		if err != nil || len(set.Keys) != 1 {
			t.Fatalf("%s: the JWK parser refuses %s: %v %v", g.File, doc, warnings, err)
		}
		for _, tc := range g.Tests {
			out = append(out, vector{g.File, g.Alg, set.Keys[0], tc})
		}
	}
	return out
}

// TestWycheproofHostCrypto runs every Wycheproof vector through the host
// path: the guest side (Comparable, NewKey, the JOSE→DER conversion and the
// argument encoding) and the Go host's verify_signature. Vectors the plugin
// keeps in the module (PS*, EdDSA, and what Comparable or the encoder turn
// away) are counted as not decided here; the module's own test covers them.
// Every vector the host decides must be decided as wycheproof.Want says.
// A second pass sends the host every vector the encoder can encode, without
// Comparable's filter, so that the Go host itself is proven on all of them.
func TestWycheproofHostCrypto(t *testing.T) {
	t.Parallel()
	all := vectors(t)
	for _, filtered := range []bool{true, false} {
		name := "as the plugin sends them"
		if !filtered {
			name = "everything the encoder can encode"
		}
		t.Run(name, func(t *testing.T) {
			tally := wycheproof.Tally{}
			for _, v := range all {
				want, err := wycheproof.Want(v.tc)
				if err != nil {
					t.Fatal(err)
				}
				ok, handled := verifyLikeThePlugin(goHost, v.alg, v.key, v.tc.Msg, v.tc.Sig, filtered)
				if !handled {
					tally.Skip(v.alg)
					if _, sendable := hashFor(v.alg); sendable && v.tc.Result == wycheproof.Valid {
						t.Errorf("%s test %d (%s): a valid %s signature was kept from the host", v.file, v.tc.ID, v.tc.Comment, v.alg)
					}
					continue
				}
				tally.Add(v.alg, v.tc, ok)
				if ok != want {
					t.Errorf("%s test %d (%s, %s %v): host accepted=%v, want %v", v.file, v.tc.ID, v.tc.Comment, v.tc.Result, v.tc.Flags, ok, want)
				}
			}
			t.Logf("host-crypto verification (guest encoder + Go host), %s:\n%s", name, tally)
		})
	}
}

// verifyLikeThePlugin is plugin/hostverify.go's decision without the key
// cache: handled is false when the plugin would verify in the module.
// With filtered false, Comparable is not asked.
func verifyLikeThePlugin(call CallFunc, alg string, key *jwk.Key, msg, sig []byte, filtered bool) (ok, handled bool) {
	if filtered && !Comparable(key.Public, sig) {
		return false, false
	}
	k, supported, err := NewKey(key.Public)
	if !supported || err != nil {
		return false, false
	}
	ok, supported, err = k.Verify(call, alg, msg, sig)
	if err != nil || !supported {
		return false, false
	}
	return ok, true
}
