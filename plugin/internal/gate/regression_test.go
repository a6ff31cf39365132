package gate

import (
	"crypto"
	"crypto/rsa"
	"encoding/base64"
	"math/big"
	"strconv"
	"strings"
	"testing"
	"time"
)

// largeKeySet is a provider config whose set holds n RSA keys (all derived
// from corp's RS256 modulus, so none verifies corp's tokens except, when
// first is true, corp's real key placed first). kid names every key when not
// empty.
func largeKeySet(t testing.TB, n int, kid string, first bool) string {
	t.Helper()
	pub := fx(t).corp.Key("RS256-1").Private.Public().(*rsa.PublicKey)
	b64 := base64.RawURLEncoding.EncodeToString
	keys := make([]string, 0, n+1)
	kidMember := ""
	if kid != "" {
		kidMember = `"kid":"` + kid + `",`
	}
	if first {
		keys = append(keys, `{`+kidMember+`"kty":"RSA","n":"`+b64(pub.N.Bytes())+`","e":"AQAB"}`)
	}
	for i := 1; i <= n; i++ {
		m := new(big.Int).Add(pub.N, big.NewInt(int64(2*i)))
		keys = append(keys, `{`+kidMember+`"kty":"RSA","n":"`+b64(m.Bytes())+`","e":"AQAB"}`)
	}
	return `{"providers":{"corp":{"issuer":"` + corpURL + `","jwks":{"keys":[` + strings.Join(keys, ",") + `]}}}}`
}

// TestSignatureTriesAreBounded is the regression test for a denial of
// service: a forged token without a kid (or with a kid that many keys share)
// used to be checked against every fitting key of the set, so a set of
// 10,000 keys cost seconds of CPU per unauthenticated request.
func TestSignatureTriesAreBounded(t *testing.T) {
	exp := strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10)
	claims := `{"iss":"` + corpURL + `","exp":` + exp + `}`
	tests := []struct {
		name   string
		kid    string // kid of every key in the set
		header string // JOSE header of the token
		first  bool   // corp's real key is the first of the set
		allow  bool
	}{
		{name: "a forged kid-less token is checked against a bounded number of keys", header: `{"alg":"RS256"}`},
		{name: "a forged token whose kid many keys share is checked against a bounded number of keys", kid: "shared", header: `{"alg":"RS256","kid":"shared"}`},
		{name: "a genuine kid-less token whose key comes first still passes", header: `{"alg":"RS256"}`, first: true, allow: true},
		{name: "a genuine token whose kid many keys share still passes when its key comes first", kid: "shared", header: `{"alg":"RS256","kid":"shared"}`, first: true, allow: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			g := compile(t, largeKeySet(t, 500, tt.kid, tt.first))
			tries := 0
			g.UseVerifier(func(string, crypto.PublicKey, string, []byte) (bool, bool) {
				tries++
				return false, false // count, then let the module verify
			})
			tok := raw(t, "RS256-1", tt.header, claims)
			if !tt.allow {
				tok = tok[:strings.LastIndexByte(tok, '.')+1] + base64.RawURLEncoding.EncodeToString(make([]byte, 256))
			}
			d := g.Decide(get("/", bearer(tok)...), time.Now())
			if d.Allow != tt.allow {
				t.Fatalf("allow = %v (%s), want %v", d.Allow, d.Reason, tt.allow)
			}
			if tries > maxSignatureTries {
				t.Fatalf("%d signature checks for one token, want at most %d", tries, maxSignatureTries)
			}
			if !tt.allow && d.Reason != ErrSignatureInvalid.Error() {
				t.Fatalf("reason = %q, want %q", d.Reason, ErrSignatureInvalid)
			}
		})
	}
}
