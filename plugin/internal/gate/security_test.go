package gate

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tokengate/tokengate/internal/issuer"
)

// TestSecurityRules covers the verifier rules of docs/security-rules.md one by one.
func TestSecurityRules(t *testing.T) {
	f := fx(t)
	g := compile(t, standardConfig(t))
	exp := strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10)
	claims := `{"iss":"` + corpURL + `","aud":"` + aud + `","exp":` + exp + `,"scope":"score"}`
	b64 := base64.RawURLEncoding.EncodeToString

	// An HMAC token keyed with the RSA public key's JWK text: the classic
	// algorithm-confusion attack.
	input := b64([]byte(`{"alg":"HS256","kid":"RS256-1"}`)) + "." + b64([]byte(claims))
	mac := hmac.New(sha256.New, f.corp.JWKS())
	mac.Write([]byte(input))
	hs256 := input + "." + b64(mac.Sum(nil))

	valid := raw(t, "RS256-1", `{"alg":"RS256","kid":"RS256-1"}`, claims)
	parts := strings.Split(valid, ".")

	tests := []struct {
		name   string
		token  string
		reason error // nil: allowed
	}{
		{"a well-formed token passes", valid, nil},
		{"alg none is refused", b64([]byte(`{"alg":"none"}`)) + "." + b64([]byte(claims)) + ".", ErrTokenMalformed},
		{"alg none with a signature is refused", b64([]byte(`{"alg":"none"}`)) + "." + b64([]byte(claims)) + ".AAAA", ErrAlgorithmNotAllowed},
		{"HMAC keyed with the public key is refused", hs256, ErrAlgorithmNotAllowed},
		{"an unknown crit header is refused", raw(t, "RS256-1", `{"alg":"RS256","kid":"RS256-1","crit":["exp"],"exp":1}`, claims), ErrHeaderUnsupported},
		{"b64 false is refused", raw(t, "RS256-1", `{"alg":"RS256","kid":"RS256-1","b64":false,"crit":["b64"]}`, claims), ErrHeaderUnsupported},
		{"a JWE is refused", "eyJhbGciOiJSU0EtT0FFUCJ9.a.b.c.d", ErrTokenEncrypted},
		{"four segments are malformed", valid + ".x", ErrTokenMalformed},
		{"padding is refused", parts[0] + "=." + parts[1] + "." + parts[2], ErrTokenMalformed},
		{"a newline inside base64 is refused", parts[0][:4] + "\n" + parts[0][4:] + "." + parts[1] + "." + parts[2], ErrRequestMalformed},
		{"standard base64 characters are refused", parts[0] + "." + parts[1] + "." + strings.NewReplacer("-", "+", "_", "/").Replace(parts[2]) + "+", ErrTokenMalformed},
		{"trailing garbage is refused", valid + "AA", ErrSignatureInvalid},
		{"an empty signature is refused", parts[0] + "." + parts[1] + ".", ErrTokenMalformed},
		{"a duplicate claim is refused", raw(t, "RS256-1", `{"alg":"RS256","kid":"RS256-1"}`, strings.TrimSuffix(claims, "}")+`,"aud":"api://evil"}`), ErrClaimsMalformed},
		{"a duplicate header member is refused", raw(t, "RS256-1", `{"alg":"RS256","kid":"RS256-1","alg":"none"}`, claims), ErrTokenMalformed},
		{"a payload that is not an object is refused", raw(t, "RS256-1", `{"alg":"RS256","kid":"RS256-1"}`, `["x"]`), ErrClaimsMalformed},
		{"a string exp is refused", raw(t, "RS256-1", `{"alg":"RS256","kid":"RS256-1"}`, strings.Replace(claims, `"exp":`+exp, `"exp":"`+exp+`"`, 1)), ErrClaimsMalformed},
		{"an infinite exp is refused", raw(t, "RS256-1", `{"alg":"RS256","kid":"RS256-1"}`, strings.Replace(claims, `"exp":`+exp, `"exp":1e999`, 1)), ErrClaimsMalformed},
		{"a string nbf is refused", raw(t, "RS256-1", `{"alg":"RS256","kid":"RS256-1"}`, strings.TrimSuffix(claims, "}")+`,"nbf":"0"}`), ErrClaimsMalformed},
		{"an aud of the wrong type is refused", raw(t, "RS256-1", `{"alg":"RS256","kid":"RS256-1"}`, strings.Replace(claims, `"aud":"`+aud+`"`, `"aud":[1]`, 1)), ErrClaimsMalformed},
		{"a kid-less token is tried against fitting keys", raw(t, "ES256-1", `{"alg":"ES256"}`, claims), nil},
		{"a kid-less token with a foreign key is refused", mint(t, f.other, issuer.Claims{"iss": corpURL}, issuer.WithHeader("kid", nil)), ErrSignatureInvalid},
		{"a key's alg must equal the token's", raw(t, "PS256-1", `{"alg":"RS256","kid":"PS256-1"}`, claims), ErrUnknownKey},
		{"an EC key cannot verify RS256", raw(t, "RS256-1", `{"alg":"RS256","kid":"ES256-1"}`, claims), ErrUnknownKey},
		{"a kid with a non-string type is refused", raw(t, "RS256-1", `{"alg":"RS256","kid":1}`, claims), ErrTokenMalformed},
		{"another provider's key is never used for this issuer", raw(t, "RS256-1", `{"alg":"RS256","kid":"RS256-1"}`, strings.Replace(claims, corpURL, otherURL, 1)), ErrSignatureInvalid},
		{"an oversized token is refused", strings.Repeat("a", maxTokenBytes) + "." + parts[1] + "." + parts[2], ErrTokenMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := g.Decide(get("/models", "authorization", "Bearer "+tt.token), time.Now())
			if tt.reason == nil {
				if !d.Allow {
					t.Fatalf("refused: %s", d.Reason)
				}
				return
			}
			if d.Allow {
				t.Fatalf("allowed, want %q", tt.reason)
			}
			if d.Reason != tt.reason.Error() {
				t.Fatalf("reason = %q, want %q", d.Reason, tt.reason)
			}
		})
	}
}

func TestParseJWSRejectsWhitespace(t *testing.T) {
	for _, tok := range []string{"eyJh\nbGciOiJSUzI1NiJ9.e30.AAAA", "eyJhbGciOiJSUzI1NiJ9 .e30.AAAA", "eyJhbGciOiJSUzI1NiJ9.e30.AA\rAA"} {
		if _, err := parseJWS(tok); err != ErrTokenMalformed {
			t.Errorf("parseJWS(%q) = %v, want ErrTokenMalformed", tok, err)
		}
	}
}
