//go:build !wasip1

package main

// TestVerifierThroughTheModule walks every feature of the verifier through
// the real module, request by request: what the native tests of
// internal/gate prove rule by rule must hold after the trip through the ABI,
// the header maps and the local-response path.

import (
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/tokengate/tokengate/internal/issuer"
	"github.com/tokengate/tokengate/testhost"
)

func TestVerifierThroughTheModule(t *testing.T) {
	idp, err := issuer.New(iss, issuer.RS256, issuer.RS384, issuer.RS512, issuer.PS256, issuer.PS384, issuer.PS512,
		issuer.ES256, issuer.ES384, issuer.ES512, issuer.EdDSA)
	if err != nil {
		t.Fatal(err)
	}
	salt := []byte("0123456789abcdef")
	hash, _ := pbkdf2.Key(sha256.New, "pbkdf2 passphrase for jobs", salt, 1000, 32)
	enc := base64.RawStdEncoding.EncodeToString
	bc, _ := bcrypt.GenerateFromPassword([]byte("bcrypt passphrase for jobs"), bcrypt.MinCost)
	cfg := `{
  "realm": "models",
  "providers": {
    "corp": {"issuer": "` + iss + `", "audiences": ["` + aud + `"], "jwks": ` + string(idp.JWKS()) + `,
      "from_headers": [{"name": "authorization", "value_prefix": "Bearer "}, {"name": "x-token"}],
      "from_params": ["access_token"], "from_cookies": ["session"],
      "claim_to_headers": [{"claim": "sub", "header": "x-user"}, {"claim": "groups", "header": "x-groups"},
        {"claim": "org", "header": "x-org"}, {"claim": "evil", "header": "x-evil"}],
      "payload_header": "x-jwt-payload"},
    "strict": {"issuer": "https://strict.example.com", "algorithms": ["ES256"], "token_types": ["at+jwt"],
      "subjects": ["svc-batch"], "max_lifetime_seconds": 3600, "clock_skew_seconds": 0,
      "claims": [{"claim": "tenant", "equals": "ml"}, {"claim": "realm_access.roles", "contains": ["scorer"]}],
      "jwks": ` + string(idp.JWKS()) + `},
    "pbkdf2": {"type": "passphrase", "hashed_passphrase": "pbkdf2-sha256$1000$` + enc(salt) + `$` + enc(hash) + `"},
    "bcrypt": {"type": "passphrase", "hashed_passphrase": "` + string(bc) + `"}
  },
  "rules": [
    {"match": {"prefix": "/healthz"}},
    {"match": {"path": "/exact"}},
    {"match": {"prefix": "/ops", "headers": [{"name": "x-probe", "prefix": "k8s/"}]}},
    {"match": {"prefix": "/cors"}, "requires": {"providers": ["corp"]}, "bypass_cors_preflight": true},
    {"match": {"prefix": "/opt"}, "requires": {"providers": ["corp"]}, "allow_missing": true},
    {"match": {"prefix": "/beta"}, "requires": {"providers": ["corp"], "scopes": ["beta"]}, "dry_run": true},
    {"match": {"prefix": "/admin", "methods": ["GET"]}, "requires": {"providers": ["corp"], "scopes": ["admin", "read"]}},
    {"match": {"prefix": "/strict"}, "requires": {"providers": ["strict"]}},
    {"match": {"prefix": "/jobs"}, "requires": {"providers": ["pbkdf2", "bcrypt", "corp"]}},
    {"match": {"prefix": "/v1"}, "requires": {"providers": ["corp"]}}
  ]
}`
	th := testhost.New(t, cfg)

	mint := func(claims issuer.Claims, opts ...issuer.MintOption) string { return token(t, idp, claims, opts...) }
	strictClaims := issuer.Claims{"iss": "https://strict.example.com", "sub": "svc-batch", "tenant": "ml",
		"realm_access": map[string]any{"roles": []string{"scorer"}}}
	strictTyp := issuer.WithHeader("typ", "at+jwt")
	exp := strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10)
	raw := func(kid, header, payload string) string {
		tok, err := idp.Key(kid).SignRaw([]byte(header), []byte(payload))
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	claims := `{"iss":"` + iss + `","aud":"` + aud + `","exp":` + exp + `}`
	valid := mint(nil)

	type want struct {
		status   int               // 0: continued upstream
		reason   string            // substring of WWW-Authenticate or the body
		upstream map[string]string // headers the upstream must see ("" = absent)
		path     string            // the :path upstream
	}
	tests := []struct {
		name    string
		method  string
		path    string
		headers [][2]string
		want    want
	}{
		// 1. algorithms and keys
		{name: "RS384", path: "/v1/x", headers: bearerH(mint(nil, issuer.WithKey("RS384-1")))},
		{name: "RS512", path: "/v1/x", headers: bearerH(mint(nil, issuer.WithKey("RS512-1")))},
		{name: "PS256", path: "/v1/x", headers: bearerH(mint(nil, issuer.WithKey("PS256-1")))},
		{name: "PS384", path: "/v1/x", headers: bearerH(mint(nil, issuer.WithKey("PS384-1")))},
		{name: "PS512", path: "/v1/x", headers: bearerH(mint(nil, issuer.WithKey("PS512-1")))},
		{name: "ES384", path: "/v1/x", headers: bearerH(mint(nil, issuer.WithKey("ES384-1")))},
		{name: "ES512", path: "/v1/x", headers: bearerH(mint(nil, issuer.WithKey("ES512-1")))},
		{name: "EdDSA", path: "/v1/x", headers: bearerH(mint(nil, issuer.WithKey("EdDSA-1")))},
		{name: "a kid-less token finds its key", path: "/v1/x", headers: bearerH(raw("ES256-1", `{"alg":"ES256"}`, claims))},
		{name: "alg none", path: "/v1/x", headers: bearerH(b64(`{"alg":"none"}`) + "." + b64(claims) + ".AAAA"), want: want{status: 401, reason: "signing algorithm not allowed"}},
		{name: "a key's alg binds the token's", path: "/v1/x", headers: bearerH(raw("PS256-1", `{"alg":"RS256","kid":"PS256-1"}`, claims)), want: want{status: 401, reason: "signing key not found"}},
		{name: "crit", path: "/v1/x", headers: bearerH(raw("RS256-1", `{"alg":"RS256","kid":"RS256-1","crit":["x"],"x":1}`, claims)), want: want{status: 401, reason: "unsupported critical or b64 header"}},
		{name: "JWE", path: "/v1/x", headers: bearerH("a.b.c.d.e"), want: want{status: 401, reason: "encrypted tokens (JWE) are not accepted"}},
		{name: "duplicate claims", path: "/v1/x", headers: bearerH(raw("RS256-1", `{"alg":"RS256","kid":"RS256-1"}`, strings.TrimSuffix(claims, "}")+`,"aud":"x"}`)), want: want{status: 401, reason: "malformed claims"}},
		{name: "a string exp", path: "/v1/x", headers: bearerH(raw("RS256-1", `{"alg":"RS256","kid":"RS256-1"}`, strings.Replace(claims, exp, `"`+exp+`"`, 1))), want: want{status: 401, reason: "malformed claims"}},
		{name: "the allow-list refuses RS256", path: "/strict", headers: bearerH(mint(strictClaims, strictTyp)), want: want{status: 401, reason: "signing algorithm not allowed"}},
		// 2. claims
		{name: "strict requirements met", path: "/strict", headers: bearerH(mint(strictClaims, strictTyp, issuer.WithKey("ES256-1")))},
		{name: "token type", path: "/strict", headers: bearerH(mint(strictClaims, issuer.WithKey("ES256-1"))), want: want{status: 401, reason: "token type not accepted"}},
		{name: "subject", path: "/strict", headers: bearerH(mint(with(strictClaims, "sub", "mallory"), strictTyp, issuer.WithKey("ES256-1"))), want: want{status: 401, reason: "subject not accepted"}},
		{name: "claim equals", path: "/strict", headers: bearerH(mint(with(strictClaims, "tenant", "ads"), strictTyp, issuer.WithKey("ES256-1"))), want: want{status: 401, reason: "a required claim"}},
		{name: "nested claim contains", path: "/strict", headers: bearerH(mint(with(strictClaims, "realm_access", map[string]any{"roles": []string{"reader"}}), strictTyp, issuer.WithKey("ES256-1"))), want: want{status: 401, reason: "a required claim"}},
		{name: "lifetime", path: "/strict", headers: bearerH(mint(strictClaims, strictTyp, issuer.WithKey("ES256-1"), issuer.WithTTL(3*time.Hour))), want: want{status: 401, reason: "token lifetime is too long"}},
		{name: "zero clock skew", path: "/strict", headers: bearerH(mint(strictClaims, strictTyp, issuer.WithKey("ES256-1"), issuer.WithTTL(-5*time.Second))), want: want{status: 401, reason: "token has expired"}},
		{name: "default skew tolerates 30 s", path: "/v1/x", headers: bearerH(mint(nil, issuer.WithTTL(-30*time.Second)))},
		{name: "no exp", path: "/v1/x", headers: bearerH(mint(nil, issuer.WithoutExpiry())), want: want{status: 401, reason: "token has no expiration"}},
		{name: "nbf", path: "/v1/x", headers: bearerH(mint(issuer.Claims{"nbf": time.Now().Add(time.Hour).Unix()})), want: want{status: 401, reason: "token is not valid yet"}},
		// 3. token sources
		{name: "a query parameter, removed upstream", path: "/v1/x?a=1&access_token=" + valid, want: want{path: "/v1/x?a=1"}},
		{name: "a cookie, removed upstream", path: "/v1/x", headers: [][2]string{{"cookie", "theme=dark; session=" + valid}}, want: want{upstream: map[string]string{"cookie": "theme=dark"}}},
		{name: "a custom header, removed upstream", path: "/v1/x", headers: [][2]string{{"x-token", valid}}, want: want{upstream: map[string]string{"x-token": ""}}},
		{name: "two different tokens", path: "/v1/x?access_token=" + mint(issuer.Claims{"sub": "bob"}), headers: bearerH(valid), want: want{status: 400, reason: "more than one token"}},
		// 4. rules
		{name: "exact path", path: "/exact"},
		{name: "exact path only", path: "/exact/more", want: want{status: 403, reason: "no rule allows this request"}},
		{name: "header match", path: "/ops/x", headers: [][2]string{{"x-probe", "k8s/1.30"}}},
		{name: "header mismatch", path: "/ops/x", headers: [][2]string{{"x-probe", "curl"}}, want: want{status: 403, reason: "no rule allows"}},
		{name: "CORS preflight", method: "OPTIONS", path: "/cors", headers: [][2]string{{"origin", "https://ui"}, {"access-control-request-method", "POST"}}},
		{name: "allow_missing", path: "/opt"},
		{name: "allow_missing refuses a bad token", path: "/opt", headers: bearerH("garbage"), want: want{status: 401, reason: "malformed token"}},
		{name: "dry run lets a refusal through", path: "/beta", headers: bearerH(valid)},
		{name: "methods", method: "POST", path: "/admin", headers: bearerH(mint(issuer.Claims{"scope": "admin read"})), want: want{status: 403, reason: "no rule allows"}},
		{name: "all scopes required", path: "/admin", headers: bearerH(mint(issuer.Claims{"scope": "admin"})), want: want{status: 403, reason: `scope="admin read"`}},
		{name: "all scopes granted", path: "/admin", headers: bearerH(mint(issuer.Claims{"scope": "read admin"}))},
		{name: "an ambiguous path", path: "/healthz/../admin", want: want{status: 400, reason: "not in canonical form"}},
		// 5. passphrases
		{name: "PBKDF2 passphrase", path: "/jobs/run", headers: [][2]string{{"authorization", "Bearer pbkdf2 passphrase for jobs"}}},
		{name: "bcrypt passphrase", path: "/jobs/run", headers: [][2]string{{"authorization", "Bearer bcrypt passphrase for jobs"}}},
		{name: "a token on the passphrase route", path: "/jobs/run", headers: bearerH(valid)},
		{name: "a wrong passphrase", path: "/jobs/run", headers: [][2]string{{"authorization", "Bearer not it"}}, want: want{status: 401, reason: "passphrase not accepted"}},
		// 6. outputs
		{name: "claims to headers, forged ones removed", path: "/v1/x", headers: append(bearerH(mint(issuer.Claims{"groups": []string{"a", "b"}, "org": map[string]any{"id": 7}, "evil": "x\r\ny"})), [2]string{"x-user", "mallory"}, [2]string{"x-evil", "forged"}),
			want: want{upstream: map[string]string{"x-user": "alice", "x-groups": "a,b", "x-org": `{"id":7}`, "x-evil": "", "authorization": ""}}},
		{name: "forged output headers are removed on public routes too", path: "/healthz", headers: [][2]string{{"x-user", "mallory"}, {"x-jwt-payload", "e30"}},
			want: want{upstream: map[string]string{"x-user": "", "x-jwt-payload": ""}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := th.Do(t, testhost.Request{Method: tt.method, Path: tt.path, Headers: tt.headers})
			if tt.want.status == 0 {
				if !res.Continued {
					t.Fatalf("refused with %d: %s", res.Status, res.Body)
				}
				for name, value := range tt.want.upstream {
					if got := upstream(res, name); got != value {
						t.Errorf("upstream %s = %q, want %q", name, got, value)
					}
				}
				if tt.want.path != "" && upstream(res, ":path") != tt.want.path {
					t.Errorf("upstream :path = %q, want %q", upstream(res, ":path"), tt.want.path)
				}
				return
			}
			if res.Continued || res.Status != tt.want.status {
				t.Fatalf("continued=%v status=%d, want %d; body %s", res.Continued, res.Status, tt.want.status, res.Body)
			}
			if !strings.Contains(responseHeader(res, "www-authenticate")+string(res.Body), tt.want.reason) {
				t.Errorf("answer does not say %q: %s / %s", tt.want.reason, responseHeader(res, "www-authenticate"), res.Body)
			}
		})
	}
	t.Run("the payload header carries the verified payload", func(t *testing.T) {
		res := th.Do(t, testhost.Request{Path: "/v1/x", Headers: bearerH(valid)})
		if got := upstream(res, "x-jwt-payload"); got != strings.Split(valid, ".")[1] {
			t.Fatalf("x-jwt-payload = %q", got)
		}
	})
}

func bearerH(tok string) [][2]string { return [][2]string{{"authorization", "Bearer " + tok}} }

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func with(c issuer.Claims, k string, v any) issuer.Claims {
	out := issuer.Claims{}
	for a, b := range c {
		out[a] = b
	}
	out[k] = v
	return out
}
