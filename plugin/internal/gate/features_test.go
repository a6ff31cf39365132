package gate

import (
	"crypto"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/tokengate/tokengate/internal/issuer"
)

func TestEveryAlgorithm(t *testing.T) {
	f := fx(t)
	g := compile(t, standardConfig(t))
	for _, k := range f.corp.Keys {
		t.Run(string(k.Alg), func(t *testing.T) {
			tok := mint(t, f.corp, nil, issuer.WithKey(k.Kid))
			if d := g.Decide(get("/v1/score", bearer(tok)...), now()); !d.Allow {
				t.Fatalf("refused: %s", d.Reason)
			}
		})
	}
	t.Run("Ed25519 is EdDSA's fully-specified name", func(t *testing.T) {
		// The key publishes no alg, so either name may use it.
		set := strings.Replace(string(f.corp.JWKS()), `"alg":"EdDSA",`, "", 1)
		g := compile(t, `{"providers":{"corp":{"issuer":"`+corpURL+`","jwks":`+set+`}}}`)
		exp := strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10)
		tok := raw(t, "EdDSA-1", `{"alg":"Ed25519","kid":"EdDSA-1"}`, `{"iss":"`+corpURL+`","aud":"`+aud+`","exp":`+exp+`}`)
		if d := g.Decide(get("/", bearer(tok)...), now()); !d.Allow {
			t.Fatalf("refused: %s", d.Reason)
		}
	})
}

func TestAlgorithmAllowList(t *testing.T) {
	f := fx(t)
	g := compile(t, `{"providers":{"corp":{"issuer":"`+corpURL+`","algorithms":["ES256"],"jwks":`+string(f.corp.JWKS())+`}}}`)
	if d := g.Decide(get("/", bearer(mint(t, f.corp, nil, issuer.WithKey("ES256-1")))...), now()); !d.Allow {
		t.Fatalf("ES256 refused: %s", d.Reason)
	}
	if d := g.Decide(get("/", bearer(mint(t, f.corp, nil))...), now()); d.Reason != ErrAlgorithmNotAllowed.Error() {
		t.Fatalf("RS256: %q", d.Reason)
	}
}

func TestCompileErrors(t *testing.T) {
	f := fx(t)
	jwks := string(f.corp.JWKS())
	tests := []struct{ name, config, want string }{
		{"empty", ``, "configuration is empty"},
		{"not JSON", `{`, "not valid JSON"},
		{"not an object", `[]`, "must be a JSON object"},
		{"unknown top-level field", `{"providers":{"a":{"issuer":"x"}},"rulez":[]}`, `rulez: unknown field`},
		{"no providers", `{"realm":"r"}`, `providers: must be an object`},
		{"empty providers", `{"providers":{}}`, `providers: must name at least one provider`},
		{"missing issuer", `{"providers":{"a":{}}}`, `providers.a.issuer: is required`},
		{"audience of the wrong type", `{"providers":{"a":{"issuer":"x","audiences":["ok",1]}}}`, `providers.a.audiences[1]: must be a non-empty string`},
		{"a jwks that is not a set", `{"providers":{"a":{"issuer":"x","jwks":{"kty":"RSA"}}}}`, `providers.a.jwks: not a JWK Set`},
		{"unknown provider field", `{"providers":{"a":{"issuer":"x","audience":"y"}}}`, `providers.a.audience: unknown field`},
		{"HMAC in the allow-list", `{"providers":{"a":{"issuer":"x","algorithms":["HS256"]}}}`, `providers.a.algorithms[0]: "HS256" is not supported`},
		{"none in the allow-list", `{"providers":{"a":{"issuer":"x","algorithms":["none"]}}}`, `"none" is not supported`},
		{"negative skew", `{"providers":{"a":{"issuer":"x","clock_skew_seconds":-1}}}`, `providers.a.clock_skew_seconds: must be a number`},
		{"forward not a bool", `{"providers":{"a":{"issuer":"x","forward":"yes"}}}`, `providers.a.forward: must be true or false`},
		{"realm with a quote", `{"realm":"a\"b","providers":{"a":{"issuer":"x"}}}`, `realm: must be`},
		{"rules not an array", `{"providers":{"a":{"issuer":"x"}},"rules":{}}`, `rules: must be an array`},
		{"rule without match", `{"providers":{"a":{"issuer":"x"}},"rules":[{}]}`, `rules[0].match: is required`},
		{"relative prefix", `{"providers":{"a":{"issuer":"x"}},"rules":[{"match":{"prefix":"api"}}]}`, `rules[0].match.prefix: must be a canonical path`},
		{"unknown provider in a rule", `{"providers":{"a":{"issuer":"x"}},"rules":[{"match":{"prefix":"/"},"requires":{"providers":["b"]}}]}`, `rules[0].requires.providers[0]: unknown provider "b"`},
		{"unknown requires field", `{"providers":{"a":{"issuer":"x"}},"rules":[{"match":{"prefix":"/"},"requires":{"scope":["x"]}}]}`, `rules[0].requires.scope: unknown field`},
		{"scope with a space", `{"providers":{"a":{"issuer":"x"}},"rules":[{"match":{"prefix":"/"},"requires":{"scopes":["a b"]}}]}`, `rules[0].requires.scopes[0]`},
		{"header match without a condition", `{"providers":{"a":{"issuer":"x"}},"rules":[{"match":{"prefix":"/","headers":[{"name":"x"}]}}]}`, `rules[0].match.headers[0]: needs exactly one`},
		{"claim header that cannot be set", `{"providers":{"a":{"issuer":"x","claim_to_headers":[{"claim":"sub","header":"authorization"}]}}}`, `cannot carry claims`},
		{"claim rule without a condition", `{"providers":{"a":{"issuer":"x","claims":[{"claim":"sub"}]}}}`, `providers.a.claims[0]: needs exactly one`},
		{"passphrase without a secret", `{"providers":{"p":{"type":"passphrase"}}}`, `providers.p: a passphrase provider needs exactly one`},
		{"short passphrase", `{"providers":{"p":{"type":"passphrase","passphrase":"short"}}}`, `must be at least 16 characters`},
		{"bad hashed passphrase", `{"providers":{"p":{"type":"passphrase","hashed_passphrase":"md5$x"}}}`, `providers.p.hashed_passphrase: unknown format`},
		{"bad bcrypt hash", `{"providers":{"p":{"type":"passphrase","hashed_passphrase":"$2b$10$short"}}}`, `not a valid bcrypt hash`},
		{"too few PBKDF2 iterations", `{"providers":{"p":{"type":"passphrase","hashed_passphrase":"pbkdf2-sha256$10$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}}}`, `iterations must be`},
		{"passphrase with an issuer", `{"providers":{"p":{"type":"passphrase","passphrase":"0123456789abcdef","issuer":"x"}}}`, `providers.p.issuer: does not apply`},
		{"scopes on a passphrase", `{"providers":{"p":{"type":"passphrase","passphrase":"0123456789abcdef"}},"rules":[{"match":{"prefix":"/"},"requires":{"scopes":["x"]}}]}`, `grants no scopes`},
		{"unknown type", `{"providers":{"p":{"type":"saml"}}}`, `providers.p.type: must be`},
		{"fetch not an object", `{"providers":{"a":{"issuer":"x","fetch":1}}}`, `providers.a.fetch: must be an object`},
		{"allow_missing without requires", `{"providers":{"a":{"issuer":"x"}},"rules":[{"match":{"prefix":"/"},"allow_missing":true}]}`, `rules[0].allow_missing: needs "requires"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := Compile([]byte(tt.config))
			if err == nil {
				t.Fatalf("Compile succeeded, want an error containing %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %q, want it to contain %q", err, tt.want)
			}
		})
	}
	t.Run("jwksfetch settings and inline sets as strings are accepted", func(t *testing.T) {
		cfg := `{"providers":{"a":{"issuer":"x","jwks_uri":"https://x/certs","fetch":{"timeout_seconds":3}},
			"b":{"issuer":"y","jwks":` + strconv.Quote(jwks) + `}}}`
		if _, _, err := Compile([]byte(cfg)); err != nil {
			t.Fatal(err)
		}
	})
}

func TestCompileWarnsAboutUnusableKeys(t *testing.T) {
	f := fx(t)
	set := `{"keys":[{"kty":"oct","kid":"hmac","k":"c2VjcmV0"},` + strings.TrimPrefix(string(f.corp.JWKS()), `{"keys":[`)
	g, warnings, err := Compile([]byte(`{"providers":{"corp":{"issuer":"` + corpURL + `","jwks":` + set + `}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 1 || !strings.HasPrefix(warnings[0], `providers.corp.jwks.keys[0] (kid "hmac"): symmetric`) {
		t.Fatalf("warnings = %q", warnings)
	}
	if d := g.Decide(get("/", bearer(mint(t, f.corp, nil))...), now()); !d.Allow {
		t.Fatalf("the rest of the set is not in force: %s", d.Reason)
	}
}

func TestTokenSources(t *testing.T) {
	f := fx(t)
	tok := mint(t, f.corp, nil)
	g := compile(t, `{"providers":{"corp":{"issuer":"`+corpURL+`","jwks":`+string(f.corp.JWKS())+`,
		"from_headers":[{"name":"authorization","value_prefix":"Bearer "},{"name":"x-api-token"}],
		"from_params":["access_token"],"from_cookies":["session"]}}}`)

	t.Run("a query parameter is removed from the path", func(t *testing.T) {
		d := g.Decide(get("/m?a=1&access_token="+tok+"&b=2"), now())
		if !d.Allow || d.Path != "/m?a=1&b=2" {
			t.Fatalf("%+v", d)
		}
	})
	t.Run("the only parameter leaves a bare path", func(t *testing.T) {
		if d := g.Decide(get("/m?access_token="+tok), now()); !d.Allow || d.Path != "/m" {
			t.Fatalf("%+v", d)
		}
	})
	t.Run("a cookie is removed and the others kept", func(t *testing.T) {
		d := g.Decide(get("/m", "cookie", "theme=dark; session="+tok+"; lang=en"), now())
		if !d.Allow || !slices.Contains(d.RemoveHeaders, "cookie") || len(d.SetHeaders) != 1 || d.SetHeaders[0] != [2]string{"cookie", "theme=dark; lang=en"} {
			t.Fatalf("%+v", d)
		}
	})
	t.Run("a custom header is removed", func(t *testing.T) {
		d := g.Decide(get("/m", "x-api-token", tok), now())
		if !d.Allow || !slices.Contains(d.RemoveHeaders, "x-api-token") {
			t.Fatalf("%+v", d)
		}
	})
	t.Run("the same token twice is fine", func(t *testing.T) {
		if d := g.Decide(get("/m?access_token="+tok, bearer(tok)...), now()); !d.Allow {
			t.Fatalf("%+v", d)
		}
	})
	t.Run("two different tokens are a bad request", func(t *testing.T) {
		d := g.Decide(get("/m?access_token="+mint(t, f.corp, issuer.Claims{"sub": "bob"}), bearer(tok)...), now())
		if d.Status != 400 || d.Reason != ErrTokenMultiple.Error() {
			t.Fatalf("%+v", d)
		}
	})
	t.Run("a source the provider does not read is ignored", func(t *testing.T) {
		g := compile(t, standardConfig(t))
		if d := g.Decide(get("/models?access_token="+tok), now()); d.Status != 401 || d.Reason != ErrTokenMissing.Error() {
			t.Fatalf("%+v", d)
		}
	})
}

func TestClaimsToHeaders(t *testing.T) {
	f := fx(t)
	g := compile(t, `{"providers":{"corp":{"issuer":"`+corpURL+`","jwks":`+string(f.corp.JWKS())+`,
		"claim_to_headers":[{"claim":"sub","header":"X-User"},{"claim":"groups","header":"x-groups"},
			{"claim":"realm_access.roles","header":"x-roles"},{"claim":"admin","header":"x-admin"},
			{"claim":"org","header":"x-org"},{"claim":"evil","header":"x-evil"},{"claim":"absent","header":"x-absent"}],
		"payload_header":"x-jwt-payload"}},
		"rules":[{"match":{"prefix":"/public"}},{"match":{"prefix":"/"},"requires":{}}]}`)
	tok := mint(t, f.corp, issuer.Claims{"groups": []string{"a", "b"}, "realm_access": map[string]any{"roles": []string{"r1"}},
		"admin": true, "org": map[string]any{"id": 7}, "evil": "x\r\nset-cookie: y"})
	d := g.Decide(get("/m", bearer(tok)...), now())
	if !d.Allow {
		t.Fatal(d.Reason)
	}
	want := map[string]string{"x-user": "alice", "x-groups": "a,b", "x-roles": "r1", "x-admin": "true", "x-org": `{"id":7}`,
		"x-jwt-payload": strings.Split(tok, ".")[1]}
	got := map[string]string{}
	for _, h := range d.SetHeaders {
		got[h[0]] = h[1]
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if _, ok := got["x-evil"]; ok {
		t.Errorf("a value with CR LF was forwarded")
	}
	if p, err := base64.RawURLEncoding.DecodeString(got["x-jwt-payload"]); err != nil || !strings.Contains(string(p), `"sub":"alice"`) {
		t.Errorf("payload header %q does not decode to the claims", got["x-jwt-payload"])
	}
	// Every output header is removed from every request, so a client cannot
	// forge one, on public routes too.
	for _, path := range []string{"/m", "/public"} {
		d := g.Decide(get(path, append(bearer(tok), "x-user", "mallory")...), now())
		for _, h := range []string{"x-user", "x-groups", "x-roles", "x-admin", "x-org", "x-evil", "x-absent", "x-jwt-payload"} {
			if !slices.Contains(d.RemoveHeaders, h) {
				t.Errorf("%s: %s is not removed from the incoming request", path, h)
			}
		}
	}
}

func TestClaimRequirements(t *testing.T) {
	f := fx(t)
	g := compile(t, `{"providers":{"corp":{"issuer":"`+corpURL+`","jwks":`+string(f.corp.JWKS())+`,
		"token_types":["at+jwt"], "subjects":["alice","svc-batch"], "max_lifetime_seconds":3600,
		"claims":[{"claim":"tenant","equals":"ml"},{"claim":"tier","one_of":[1,2]},{"claim":"roles","contains":["scorer"]}]}}}`)
	good := issuer.Claims{"tenant": "ml", "tier": 2, "roles": []string{"reader", "scorer"}}
	at := issuer.WithHeader("typ", "at+jwt")
	with := func(k string, v any) issuer.Claims {
		c := issuer.Claims{}
		for a, b := range good {
			c[a] = b
		}
		c[k] = v
		return c
	}
	tests := []struct {
		name   string
		token  string
		reason error
	}{
		{"all requirements met", mint(t, f.corp, good, at), nil},
		{"typ compared as a media type", mint(t, f.corp, good, issuer.WithHeader("typ", "application/AT+JWT")), nil},
		{"a plain JWT typ is refused", mint(t, f.corp, good, issuer.WithHeader("typ", "JWT")), ErrTypeNotAccepted},
		{"another subject is refused", mint(t, f.corp, with("sub", "mallory"), at), ErrSubjectNotAccepted},
		{"another tenant is refused", mint(t, f.corp, with("tenant", "ads"), at), ErrClaimNotAccepted},
		{"a tier outside the list is refused", mint(t, f.corp, with("tier", 3), at), ErrClaimNotAccepted},
		{"a missing role is refused", mint(t, f.corp, with("roles", []string{"reader"}), at), ErrClaimNotAccepted},
		{"a missing claim is refused", mint(t, f.corp, with("tenant", nil), at), ErrClaimNotAccepted},
		{"a lifetime over the limit is refused", mint(t, f.corp, good, at, issuer.WithTTL(3*time.Hour)), ErrLifetimeTooLong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := g.Decide(get("/", bearer(tt.token)...), now())
			switch {
			case tt.reason == nil && !d.Allow:
				t.Fatalf("refused: %s", d.Reason)
			case tt.reason != nil && d.Reason != tt.reason.Error():
				t.Fatalf("reason = %q, want %q", d.Reason, tt.reason)
			}
		})
	}
}

func TestPassphrase(t *testing.T) {
	f := fx(t)
	const secret = "correct horse battery staple"
	salt := []byte("0123456789abcdef")
	key, err := pbkdf2.Key(sha256.New, secret, salt, 1000, 32)
	if err != nil {
		t.Fatal(err)
	}
	enc := base64.RawStdEncoding.EncodeToString
	hashed := "pbkdf2-sha256$1000$" + enc(salt) + "$" + enc(key)
	bc, err := bcrypt.GenerateFromPassword([]byte(secret), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	for _, form := range []string{`"passphrase":"` + secret + `"`, `"hashed_passphrase":"` + hashed + `"`, `"hashed_passphrase":"` + string(bc) + `"`} {
		g := compile(t, `{"providers":{"batch":{"type":"passphrase",`+form+`},
			"corp":{"issuer":"`+corpURL+`","jwks":`+string(f.corp.JWKS())+`}},
			"rules":[{"match":{"prefix":"/batch"},"requires":{"providers":["batch"]}},
				{"match":{"prefix":"/mixed"},"requires":{"providers":["batch","corp"]}}]}`)
		for i := 0; i < 2; i++ { // the second round is answered from memory
			if d := g.Decide(get("/batch/run", "authorization", "Bearer "+secret), now()); !d.Allow || d.Provider != "batch" || !slices.Contains(d.RemoveHeaders, "authorization") {
				t.Fatalf("%s: right passphrase: %+v", form, d)
			}
			if d := g.Decide(get("/batch/run", "authorization", "Bearer not the passphrase"), now()); d.Status != 401 || d.Reason != ErrPassphraseInvalid.Error() {
				t.Fatalf("%s: wrong passphrase: %+v", form, d)
			}
		}
		if d := g.Decide(get("/batch/run", bearer(mint(t, f.corp, nil))...), now()); d.Allow {
			t.Fatalf("%s: a JWT opened a passphrase-only route", form)
		}
		if d := g.Decide(get("/mixed", bearer(mint(t, f.corp, nil))...), now()); !d.Allow || d.Provider != "corp" {
			t.Fatalf("%s: mixed route refused a JWT: %+v", form, d)
		}
		if d := g.Decide(get("/mixed", "authorization", "Bearer "+secret), now()); !d.Allow || d.Provider != "batch" {
			t.Fatalf("%s: mixed route refused the passphrase: %+v", form, d)
		}
	}
}

func TestCache(t *testing.T) {
	f := fx(t)
	g := compile(t, `{"cache_size":2,"providers":{"corp":{"issuer":"`+corpURL+`","jwks":`+string(f.corp.JWKS())+`}}}`)
	tok := mint(t, f.corp, nil, issuer.WithTTL(time.Minute))
	if d := g.Decide(get("/", bearer(tok)...), now()); !d.Allow || d.Cached {
		t.Fatalf("first use: %+v", d)
	}
	if d := g.Decide(get("/", bearer(tok)...), now()); !d.Allow || !d.Cached {
		t.Fatalf("second use is not cached: %+v", d)
	}
	// Time claims are checked on every hit: the cached token expires.
	if d := g.Decide(get("/", bearer(tok)...), now().Add(3*time.Minute)); d.Allow || d.Reason != ErrTokenExpired.Error() {
		t.Fatalf("expired cached token: %+v", d)
	}
	if g.cache.len() != 0 {
		t.Fatalf("an expired token stays cached")
	}
	for i := 0; i < 5; i++ {
		g.Decide(get("/", bearer(mint(t, f.corp, issuer.Claims{"n": i}))...), now())
	}
	if g.cache.len() != 2 {
		t.Fatalf("cache holds %d entries, want its bound 2", g.cache.len())
	}
	// A failed verification is never cached.
	bad := tok[:len(tok)-4] + "AAAA"
	for i := 0; i < 2; i++ {
		if d := g.Decide(get("/", bearer(bad)...), now()); d.Allow || d.Cached {
			t.Fatalf("tampered token: %+v", d)
		}
	}
}

func TestCacheDisabled(t *testing.T) {
	f := fx(t)
	g := compile(t, `{"cache_size":0,"providers":{"corp":{"issuer":"`+corpURL+`","jwks":`+string(f.corp.JWKS())+`}}}`)
	tok := mint(t, f.corp, nil)
	for i := 0; i < 2; i++ {
		if d := g.Decide(get("/", bearer(tok)...), now()); !d.Allow || d.Cached {
			t.Fatalf("%+v", d)
		}
	}
}

func TestRuleMatching(t *testing.T) {
	f := fx(t)
	g := compile(t, `{"providers":{"corp":{"issuer":"`+corpURL+`","jwks":`+string(f.corp.JWKS())+`}},
		"rules":[
			{"match":{"path":"/exact"}},
			{"match":{"prefix":"/tenant","headers":[{"name":"x-tenant","exact":"public"}]}},
			{"match":{"prefix":"/ui","headers":[{"name":"user-agent","prefix":"probe/"}]}},
			{"match":{"prefix":"/cors"},"requires":{},"bypass_cors_preflight":true},
			{"match":{"prefix":"/opt"},"requires":{},"allow_missing":true},
			{"match":{"prefix":"/dir/"}}
		]}`)
	tests := []struct {
		name  string
		req   *Request
		allow bool
	}{
		{"exact path", get("/exact"), true},
		{"exact path does not match a sub-path", get("/exact/x"), false},
		{"header exact match", get("/tenant/1", "x-tenant", "public"), true},
		{"header mismatch", get("/tenant/1", "x-tenant", "private"), false},
		{"header prefix", get("/ui", "user-agent", "probe/1.0"), true},
		{"preflight passes", &Request{Headers: [][2]string{{":method", "OPTIONS"}, {":path", "/cors"}, {"origin", "https://a"}, {"access-control-request-method", "POST"}}}, true},
		{"a plain OPTIONS is not a preflight", &Request{Headers: [][2]string{{":method", "OPTIONS"}, {":path", "/cors"}}}, false},
		{"allow_missing passes without a token", get("/opt"), true},
		{"allow_missing still refuses a bad token", get("/opt", bearer("garbage")...), false},
		{"a prefix ending in a slash", get("/dir/x"), true},
		{"a request without a path matches nothing", &Request{Headers: [][2]string{{":method", "GET"}}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if d := g.Decide(tt.req, now()); d.Allow != tt.allow {
				t.Fatalf("allow = %v (%d %s), want %v", d.Allow, d.Status, d.Reason, tt.allow)
			}
		})
	}
}

func TestWithVerifier(t *testing.T) {
	f := fx(t)
	tok := mint(t, f.corp, nil)
	var calls int
	// A verifier that refuses everything it handles proves it is consulted;
	// one that handles nothing leaves the in-module path in charge.
	g := compile(t, standardConfig(t), WithVerifier(func(alg string, _ crypto.PublicKey, _ string, _ []byte) (bool, bool) {
		calls++
		return false, alg == "RS256"
	}))
	if d := g.Decide(get("/models", bearer(tok)...), now()); d.Allow || calls != 1 {
		t.Fatalf("the verifier was not used: calls %d, %+v", calls, d)
	}
	if d := g.Decide(get("/models", bearer(mint(t, f.corp, nil, issuer.WithKey("ES256-1")))...), now()); !d.Allow {
		t.Fatalf("an unhandled algorithm did not fall back: %s", d.Reason)
	}
}

func TestDryRun(t *testing.T) {
	f := fx(t)
	g := compile(t, `{"providers":{"corp":{"issuer":"`+corpURL+`","jwks":`+string(f.corp.JWKS())+`,
		"claim_to_headers":[{"claim":"sub","header":"x-user"}]}},
		"rules":[{"match":{"prefix":"/new"},"requires":{"scopes":["admin"]},"dry_run":true},{"match":{"prefix":"/"},"requires":{}}]}`)
	d := g.Decide(get("/new/api", "x-user", "mallory"), now())
	if !d.Allow || !d.DryRun || d.Status != 401 || d.Code != "token_missing" || !slices.Contains(d.RemoveHeaders, "x-user") {
		t.Fatalf("missing token: %+v", d)
	}
	d = g.Decide(get("/new/api", bearer(mint(t, f.corp, nil))...), now())
	if !d.Allow || !d.DryRun || d.Status != 403 || d.Code != "scope_missing" {
		t.Fatalf("missing scope: %+v", d)
	}
	d = g.Decide(get("/new/api", bearer(mint(t, f.corp, issuer.Claims{"scope": "admin"}))...), now())
	if !d.Allow || d.DryRun || d.Provider != "corp" {
		t.Fatalf("a passing request is not a dry-run denial: %+v", d)
	}
	if d := g.Decide(get("/other"), now()); d.Allow {
		t.Fatalf("a rule without dry_run let a request through")
	}
}

func TestEveryErrorHasACode(t *testing.T) {
	if len(all) < 27 {
		t.Fatalf("only %d errors in the table", len(all))
	}
	seen := map[string]bool{}
	for _, err := range all {
		c := err.Code()
		if c == "" || seen[c] || strings.ContainsAny(c, " .") {
			t.Errorf("%v: code %q missing, repeated or not metric-friendly", err, c)
		}
		seen[c] = true
	}
}

func TestUnescapeAgreesWithNetURL(t *testing.T) {
	for _, s := range []string{"", "abc", "a+b", "a%20b", "%41%42", "%4", "%zz", "%", "a%2Bb", "eyJ.eyJ.sig", "%e2%82%ac"} {
		want, err := url.QueryUnescape(s)
		got, ok := unescape(s)
		if ok != (err == nil) || (ok && got != want) {
			t.Errorf("unescape(%q) = %q, %v; net/url gives %q, %v", s, got, ok, want, err)
		}
	}
}

func TestTokensSkipPassphraseHashing(t *testing.T) {
	f := fx(t)
	salt := []byte("0123456789abcdef")
	key, _ := pbkdf2.Key(sha256.New, "correct horse battery staple", salt, 1000, 32)
	enc := base64.RawStdEncoding.EncodeToString
	g := compile(t, `{"providers":{"batch":{"type":"passphrase","hashed_passphrase":"pbkdf2-sha256$1000$`+enc(salt)+`$`+enc(key)+`"},
		"corp":{"issuer":"`+corpURL+`","jwks":`+string(f.corp.JWKS())+`}}}`)
	batch := g.provider("batch").passphrase
	for i := 0; i < 3; i++ {
		if d := g.Decide(get("/", bearer(mint(t, f.corp, issuer.Claims{"n": i}))...), now()); !d.Allow {
			t.Fatal(d.Reason)
		}
	}
	if len(batch.seen) != 0 {
		t.Fatalf("tokens were hashed as passphrases: %d", len(batch.seen))
	}
	if d := g.Decide(get("/", "authorization", "Bearer correct horse battery staple"), now()); !d.Allow || d.Provider != "batch" {
		t.Fatalf("passphrase: %+v", d)
	}
}

func TestKidlessTokensTryABoundedNumberOfKeys(t *testing.T) {
	f := fx(t)
	var keys []string
	var signer *issuer.Key
	for i := 0; i < maxKeysTried+1; i++ {
		k, err := issuer.NewKey(issuer.ES256, "k"+strconv.Itoa(i))
		if err != nil {
			t.Fatal(err)
		}
		j := k.JWK()
		delete(j, "kid")
		b, _ := json.Marshal(j)
		keys = append(keys, string(b))
		signer = k
	}
	g := compile(t, `{"providers":{"corp":{"issuer":"`+corpURL+`","jwks":{"keys":[`+strings.Join(keys, ",")+`]}}}}`)
	exp := strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10)
	tok, _ := signer.SignRaw([]byte(`{"alg":"ES256"}`), []byte(`{"iss":"`+corpURL+`","aud":"`+aud+`","exp":`+exp+`}`))
	// The signing key is the ninth fitting key: beyond the bound.
	if d := g.Decide(get("/", bearer(tok)...), now()); d.Allow || d.Reason != ErrSignatureInvalid.Error() {
		t.Fatalf("%+v", d)
	}
	_ = f
}

func TestPassphraseHashBudget(t *testing.T) {
	salt := []byte("0123456789abcdef")
	key, _ := pbkdf2.Key(sha256.New, "correct horse battery staple", salt, 1000, 32)
	enc := base64.RawStdEncoding.EncodeToString
	g := compile(t, `{"providers":{"batch":{"type":"passphrase","hashed_passphrase":"pbkdf2-sha256$1000$`+enc(salt)+`$`+enc(key)+`"}}}`)
	t0 := time.Now()
	ask := func(value string, at time.Time) Decision {
		return g.Decide(get("/", "authorization", "Bearer "+value), at)
	}
	if d := ask("correct horse battery staple", t0); !d.Allow {
		t.Fatalf("right value: %+v", d)
	}
	// A burst of distinct wrong values spends the budget...
	busy := 0
	for i := 0; i < 3*hashBurst; i++ {
		d := ask("wrong "+strconv.Itoa(i), t0)
		switch {
		case d.Status == 503 && d.Reason == ErrPassphraseBusy.Error():
			busy++
		case d.Status != 401:
			t.Fatalf("wrong value %d: %+v", i, d)
		}
	}
	if busy < hashBurst {
		t.Fatalf("%d of %d wrong values were hashed; the budget is %d", 3*hashBurst-busy, 3*hashBurst, hashBurst)
	}
	// ...but the known right value and known wrong values cost nothing.
	if d := ask("correct horse battery staple", t0); !d.Allow {
		t.Fatalf("the right value was delayed by the flood: %+v", d)
	}
	if d := ask("wrong 0", t0); d.Status != 401 {
		t.Fatalf("a known wrong value: %+v", d)
	}
	// The budget refills with time.
	if d := ask("one more wrong value", t0.Add(2*time.Second)); d.Status != 401 {
		t.Fatalf("after the refill: %+v", d)
	}
}

func TestPSSSaltLengthIsTheHashSize(t *testing.T) {
	f := fx(t)
	g := compile(t, standardConfig(t))
	k := f.corp.Key("PS256-1")
	exp := strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10)
	input := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"PS256","kid":"PS256-1"}`)) + "." +
		base64.RawURLEncoding.EncodeToString([]byte(`{"iss":"`+corpURL+`","aud":"`+aud+`","exp":`+exp+`}`))
	digest := sha256.Sum256([]byte(input))
	for _, tc := range []struct {
		salt  int
		allow bool
	}{{32, true}, {0, false}, {20, false}} {
		sig, err := rsa.SignPSS(rand.Reader, k.Private.(*rsa.PrivateKey), crypto.SHA256, digest[:], &rsa.PSSOptions{SaltLength: tc.salt})
		if err != nil {
			t.Fatal(err)
		}
		d := g.Decide(get("/models", bearer(input+"."+base64.RawURLEncoding.EncodeToString(sig))...), now())
		if d.Allow != tc.allow {
			t.Errorf("salt length %d: allowed = %v (%s)", tc.salt, d.Allow, d.Reason)
		}
	}
}

func TestDeepConfigurationIsRefusedBeforeParsing(t *testing.T) {
	deep := `{"providers":{"a":{"issuer":"x","claims":[{"claim":"c","equals":` + strings.Repeat("[", 5000) + strings.Repeat("]", 5000) + `}]}}}`
	if _, _, err := Compile([]byte(deep)); err == nil || !strings.Contains(err.Error(), "levels deep") {
		t.Fatalf("err = %v", err)
	}
}
