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
			tries := 0
			g := compile(t, largeKeySet(t, 500, tt.kid, tt.first), WithVerifier(func(string, crypto.PublicKey, string, []byte) (bool, bool) {
				tries++
				return false, false // count, then let the module verify
			}))
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

// TestSmallOrderEd25519KeyCannotBeForged is the regression test for a
// universal forgery: a key set publishing the Ed25519 identity point let any
// token signed with R = identity, S = 0 through, because crypto/ed25519
// accepts that signature of every message under that key.
func TestSmallOrderEd25519KeyCannotBeForged(t *testing.T) {
	b64 := base64.RawURLEncoding.EncodeToString
	identity := make([]byte, 32)
	identity[0] = 1
	cfg := `{"providers":{"corp":{"issuer":"` + corpURL + `","jwks":{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"weak","x":"` + b64(identity) + `"}]}}}}`
	g, warnings, err := Compile([]byte(cfg))
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "weak") {
		t.Fatalf("warnings = %q, want one naming the weak key", warnings)
	}
	sig := make([]byte, 64)
	sig[0] = 1
	exp := strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10)
	tok := b64([]byte(`{"alg":"EdDSA","kid":"weak"}`)) + "." + b64([]byte(`{"iss":"`+corpURL+`","exp":`+exp+`}`)) + "." + b64(sig)
	d := g.Decide(get("/", bearer(tok)...), time.Now())
	if d.Allow || d.Status != 401 {
		t.Fatalf("forged token: allow=%v status=%d (%s), want 401", d.Allow, d.Status, d.Reason)
	}
}

// TestHeaderParametersNeverChooseTheKey covers the JOSE header rules that
// had no test of their own when the RFC rules were mapped to tests: "alg" is
// required and a string (RFC 7515 §4.1.1), and the key comes only from the
// provider's set, never from "jku", "jwk", "x5u" or "x5c" in the token
// (RFC 7515 §4.1.2-§4.1.6, RFC 8725 §3.10); "kid" is only compared.
func TestHeaderParametersNeverChooseTheKey(t *testing.T) {
	f := fx(t)
	g := compile(t, standardConfig(t))
	exp := strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10)
	claims := `{"iss":"` + corpURL + `","aud":"` + aud + `","exp":` + exp + `,"scope":"score"}`
	// The attacker's own key, published inside the token it signs.
	attacker := f.other.Key("RS256-1")
	pub := attacker.JWK()
	embedded := `{"kty":"RSA","n":"` + pub["n"] + `","e":"` + pub["e"] + `"}`
	sign := func(header string) string {
		tok, err := attacker.SignRaw([]byte(header), []byte(claims))
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	tests := []struct {
		name   string
		token  string
		reason error
	}{
		{"a header without alg is refused", raw(t, "RS256-1", `{"kid":"RS256-1"}`, claims), ErrTokenMalformed},
		{"an alg that is not a string is refused", raw(t, "RS256-1", `{"alg":["RS256"],"kid":"RS256-1"}`, claims), ErrTokenMalformed},
		{"a key embedded as jwk is not used", sign(`{"alg":"RS256","kid":"RS256-1","jwk":` + embedded + `}`), ErrSignatureInvalid},
		{"a kid-less token with an embedded jwk is not verified by it", sign(`{"alg":"RS256","jwk":` + embedded + `}`), ErrSignatureInvalid},
		{"a jku is not fetched", sign(`{"alg":"RS256","kid":"RS256-1","jku":"https://attacker.example/jwks"}`), ErrSignatureInvalid},
		{"an x5u is not fetched", sign(`{"alg":"RS256","kid":"RS256-1","x5u":"https://attacker.example/cert"}`), ErrSignatureInvalid},
		{"an x5c in the token is not used", sign(`{"alg":"RS256","kid":"RS256-1","x5c":["MIIB"]}`), ErrSignatureInvalid},
		{"a kid is only compared", sign(`{"alg":"RS256","kid":"../../../dev/null' OR 1=1 --"}`), ErrUnknownKey},
		{"an empty crit is still refused", raw(t, "RS256-1", `{"alg":"RS256","kid":"RS256-1","crit":[]}`, claims), ErrHeaderUnsupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := g.Decide(get("/v1/score", bearer(tt.token)...), time.Now())
			if d.Allow || d.Reason != tt.reason.Error() {
				t.Fatalf("allow=%v reason=%q, want refused with %q", d.Allow, d.Reason, tt.reason)
			}
		})
	}
}

// TestDeeplyNestedTokensAreMalformed is the regression test for a remote
// crash: a token whose header or payload nested a few thousand levels made
// gjson's recursive validator exhaust V8's stack, which trapped the VM in
// Envoy (every request on that worker got 503 until the VM was reloaded).
func TestDeeplyNestedTokensAreMalformed(t *testing.T) {
	g := compile(t, standardConfig(t))
	exp := strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10)
	claims := `{"iss":"` + corpURL + `","aud":"` + aud + `","exp":` + exp + `,"scope":"score"`
	nest := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	tests := []struct {
		name   string
		token  string
		reason error // nil: allowed
	}{
		{"a header nested 5000 levels is malformed", raw(t, "RS256-1", `{"alg":"RS256","kid":"RS256-1","x":`+nest(5000)+`}`, claims+`}`), ErrTokenMalformed},
		{"a payload nested 5000 levels is malformed", raw(t, "RS256-1", `{"alg":"RS256","kid":"RS256-1"}`, claims+`,"x":`+nest(5000)+`}`), ErrClaimsMalformed},
		{"a payload one level too deep is malformed", raw(t, "RS256-1", `{"alg":"RS256","kid":"RS256-1"}`, claims+`,"x":`+nest(32)+`}`), ErrClaimsMalformed},
		{"a payload at the depth limit is verified", raw(t, "RS256-1", `{"alg":"RS256","kid":"RS256-1"}`, claims+`,"x":`+nest(31)+`}`), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := g.Decide(get("/models", bearer(tt.token)...), time.Now())
			if tt.reason == nil {
				if !d.Allow {
					t.Fatalf("refused: %s", d.Reason)
				}
				return
			}
			if d.Allow || d.Reason != tt.reason.Error() {
				t.Fatalf("allow=%v reason=%q, want %q", d.Allow, d.Reason, tt.reason)
			}
		})
	}
}

// TestHeaderAndClaimsAreStrictJSON holds two rules the fuzz targets found
// unenforced: an empty "alg" is no algorithm (FuzzParseJWS), and JSON that is
// not UTF-8 is refused rather than read byte by byte, which other parsers
// read with U+FFFD instead (FuzzJWKDifferential; RFC 8725 §3.7).
func TestHeaderAndClaimsAreStrictJSON(t *testing.T) {
	g := compile(t, standardConfig(t))
	exp := strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10)
	claims := `{"iss":"` + corpURL + `","aud":"` + aud + `","exp":` + exp + `,"scope":"score"`
	tests := []struct {
		name   string
		token  string
		reason error
	}{
		{"an empty alg is malformed", raw(t, "RS256-1", `{"alg":"","kid":"RS256-1"}`, claims+`}`), ErrTokenMalformed},
		{"a header that is not UTF-8 is malformed", raw(t, "RS256-1", "{\"alg\":\"RS256\",\"kid\":\"RS256-1\",\"x\":\"\x80\"}", claims+`}`), ErrTokenMalformed},
		{"claims that are not UTF-8 are malformed", raw(t, "RS256-1", `{"alg":"RS256","kid":"RS256-1"}`, claims+",\"sub\":\"\xff\xfe\"}"), ErrClaimsMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := g.Decide(get("/models", bearer(tt.token)...), time.Now())
			if d.Allow || d.Reason != tt.reason.Error() {
				t.Fatalf("allow=%v reason=%q, want %q", d.Allow, d.Reason, tt.reason)
			}
		})
	}
	if _, err := parseJWS(raw(t, "RS256-1", `{"alg":"RS256","sub":"caf\u00e9"}`, claims+`,"name":"Zoë"}`)); err != nil {
		t.Fatalf("valid UTF-8 refused: %v", err)
	}
}
