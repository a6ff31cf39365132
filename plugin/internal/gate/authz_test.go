package gate

import (
	"slices"
	"strings"
	"testing"

	"github.com/tokengate/tokengate/internal/issuer"
)

// authzConfig is a model server and an MLflow-like API behind one issuer,
// with roles in Keycloak's places.
func authzConfig(t testing.TB, rules string) string {
	return `{"realm":"models","providers":{"corp":{"issuer":"` + corpURL + `","audiences":["` + aud + `"],
  "jwks":` + string(fx(t).corp.JWKS()) + `,"role_claims":["realm_access.roles","resource_access.mlflow.roles"]}},
  "rules":` + rules + `}`
}

func withMethod(method, path string, kv ...string) *Request {
	r := get(path, kv...)
	r.Headers[0][1] = method
	return r
}

func TestPathTemplates(t *testing.T) {
	tests := []struct {
		template string
		path     string
		captures []string // nil: no match
	}{
		{"/v2/models/{model}/infer", "/v2/models/iris/infer", []string{"iris"}},
		{"/v2/models/{model}/infer", "/v2/models/iris/infer/", []string{"iris"}},
		{"/v2/models/{model}/infer", "/v2/models/iris", nil},
		{"/v2/models/{model}/infer", "/v2/models/iris/infer/x", nil},
		{"/v2/models/{model}/infer", "/v2/models/a/b/infer", nil},
		{"/v2/models/{model}/infer", "/v2/models//infer", nil},
		{"/v2/models/{model}/infer", "/v2/models/../infer", nil},
		{"/v2/models/{model}/infer", "/v2/models/./infer", nil},
		{"/v2/models/{model}/versions/{version}/infer", "/v2/models/iris/versions/3/infer", []string{"iris", "3"}},
		{"/files/{path...}", "/files/a/b/c.txt", []string{"a/b/c.txt"}},
		{"/files/{path...}", "/files/a", []string{"a"}},
		{"/files/{path...}", "/files/", nil},
		{"/files/{path...}", "/files", nil},
		{"/files/{path...}", "/files/a/../b", nil},
		{"/files/{path...}", "/files/a/./b", nil},
		{"/", "/", []string{}},
		{"/", "/x", nil},
		{"/models/{name}", "/models/caf%C3%A9", []string{"caf%C3%A9"}},
	}
	for _, tt := range tests {
		t.Run(tt.template+" on "+tt.path, func(t *testing.T) {
			tmpl, msg := compileTemplate(tt.template)
			if msg != "" {
				t.Fatal(msg)
			}
			var caps captures
			ok := tmpl.match(tt.path, &caps)
			if ok != (tt.captures != nil) {
				t.Fatalf("match = %v, want %v", ok, tt.captures != nil)
			}
			if ok && !slices.Equal(caps[:len(tt.captures)], tt.captures) {
				t.Fatalf("captures %q, want %q", caps[:len(tt.captures)], tt.captures)
			}
		})
	}
}

func TestMatchRegexAndHost(t *testing.T) {
	g := compile(t, authzConfig(t, `[
    {"match": {"host": "admin.example.com", "prefix": "/"}, "requires": {"roles": ["admin"]}},
    {"match": {"host": "*.internal.example.com"}},
    {"match": {"regex": "/api/2\\.0/mlflow/(runs|experiments)/get"}},
    {"match": {"prefix": "/"}, "requires": {}}]`))
	tests := []struct {
		name, authority, path string
		rule                  int
	}{
		{"an exact host", "admin.example.com", "/x", 0},
		{"hosts compare case-insensitively and without port", "Admin.Example.COM:8443", "/x", 0},
		{"a trailing dot is the same host", "admin.example.com.", "/x", 0},
		{"another host is another rule", "api.example.com", "/x", 3},
		{"a wildcard takes one label", "a.internal.example.com", "/x", 1},
		{"a wildcard takes several labels", "a.b.internal.example.com:80", "/x", 1},
		{"a wildcard needs a label", "internal.example.com", "/x", 3},
		{"a suffix without a dot is another host", "evilinternal.example.com", "/x", 3},
		{"the regex is anchored and matches", "api", "/api/2.0/mlflow/runs/get", 2},
		{"the regex is anchored at the end", "api", "/api/2.0/mlflow/runs/get/x", 3},
		{"the regex is anchored at the start", "api", "/x/api/2.0/mlflow/runs/get", 3},
		{"the regex sees the canonical path", "api", "/api/2.0/mlflow/%72uns/get", 2},
	}
	g.rewritePaths = true
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := get(tt.path)
			r.Headers[2][1] = tt.authority
			if tr := g.Explain(r, now()); tr.Rule != tt.rule {
				t.Fatalf("rule %d (%s), want %d", tr.Rule, tr.Match, tt.rule)
			}
		})
	}
}

func TestRequirements(t *testing.T) {
	f := fx(t)
	g := compile(t, authzConfig(t, `[
    {"match": {"path_template": "/v2/models/{model}/infer"}, "requires": {"scopes": ["infer:{model}"]}},
    {"match": {"path_template": "/v3/models/{model}/infer"}, "requires": {"claims": [{"claim": "models", "contains": "{model}"}]}},
    {"match": {"prefix": "/api/2.0/mlflow", "methods": ["GET"]}, "requires": {"any_of": [{"roles": ["mlflow-reader"]}, {"roles": ["mlflow-writer"]}]}},
    {"match": {"prefix": "/api/2.0/mlflow"}, "requires": {"roles": ["mlflow-writer"]}},
    {"match": {"prefix": "/tenant"}, "requires": {"claims": [{"claim": "tenant", "equals": "ml"}, {"claim": "email", "regex": "[^@]+@example\\.com"},
      {"claim": "groups", "prefix": "/ml/"}, {"claim": "act", "exists": false}, {"claim": "tier", "equals": 2}]}},
    {"match": {"prefix": "/billing"}, "requires": {"audiences": ["api://billing"]}},
    {"match": {"prefix": "/nested"}, "requires": {"all_of": [{"scopes": ["read"]}, {"any_of": [{"roles": ["admin"]}, {"all_of": [{"roles": ["ops"]}, {"claims": [{"claim": "mfa", "equals": true}]}]}]}]}}
  ]`))
	tenant := issuer.Claims{"tenant": "ml", "email": "ann@example.com", "groups": []string{"/ads", "/ml/scorers"}, "tier": 2}
	with := func(base issuer.Claims, k string, v any) issuer.Claims {
		c := issuer.Claims{}
		for a, b := range base {
			c[a] = b
		}
		c[k] = v
		return c
	}
	realm := func(roles ...string) issuer.Claims {
		return issuer.Claims{"realm_access": map[string]any{"roles": roles}}
	}
	tests := []struct {
		name   string
		req    *Request
		claims issuer.Claims
		status int // 0: allowed
		www    string
	}{
		{"a scope naming the captured model", withMethod("POST", "/v2/models/iris/infer"), issuer.Claims{"scope": "infer:iris"}, 0, ""},
		{"a scope for another model", withMethod("POST", "/v2/models/wine/infer"), issuer.Claims{"scope": "infer:iris"}, 403,
			`Bearer realm="models", error="insufficient_scope", scope="infer:wine"`},
		{"a scope that only starts like the capture", withMethod("POST", "/v2/models/iris/infer"), issuer.Claims{"scope": "infer:iris2"}, 403, ""},
		{"a model listed in a claim", withMethod("POST", "/v3/models/iris/infer"), issuer.Claims{"models": []string{"wine", "iris"}}, 0, ""},
		{"a model missing from the claim", withMethod("POST", "/v3/models/iris/infer"), issuer.Claims{"models": []string{"wine"}}, 403,
			`Bearer realm="models", error="insufficient_scope", error_description="the token's claims do not allow this request"`},
		{"a reader reads", withMethod("GET", "/api/2.0/mlflow/runs/get"), realm("mlflow-reader"), 0, ""},
		{"a writer reads", withMethod("GET", "/api/2.0/mlflow/runs/get"), realm("mlflow-writer"), 0, ""},
		{"a client role counts like a realm role", withMethod("GET", "/api/2.0/mlflow/runs/get"),
			issuer.Claims{"resource_access": map[string]any{"mlflow": map[string]any{"roles": []string{"mlflow-reader"}}}}, 0, ""},
		{"a reader cannot write", withMethod("POST", "/api/2.0/mlflow/runs/create"), realm("mlflow-reader"), 403,
			`Bearer realm="models", error="insufficient_scope", error_description="the token lacks a required role"`},
		{"a writer writes", withMethod("POST", "/api/2.0/mlflow/runs/create"), realm("mlflow-writer"), 0, ""},
		{"no role reads nothing", withMethod("GET", "/api/2.0/mlflow/runs/get"), realm("other"), 403, ""},
		{"a role of another client does not count", withMethod("GET", "/api/2.0/mlflow/runs/get"),
			issuer.Claims{"resource_access": map[string]any{"grafana": map[string]any{"roles": []string{"mlflow-reader"}}}}, 403, ""},
		{"every claim check holds", withMethod("GET", "/tenant"), tenant, 0, ""},
		{"another tenant", withMethod("GET", "/tenant"), with(tenant, "tenant", "ads"), 403, ""},
		{"an email outside the domain", withMethod("GET", "/tenant"), with(tenant, "email", "ann@example.com.evil"), 403, ""},
		{"no group with the prefix", withMethod("GET", "/tenant"), with(tenant, "groups", []string{"/ads"}), 403, ""},
		{"a delegated token is refused by exists false", withMethod("GET", "/tenant"), with(tenant, "act", map[string]any{"sub": "svc"}), 403, ""},
		{"a number compared as a number", withMethod("GET", "/tenant"), with(tenant, "tier", 2.0), 0, ""},
		{"a number as a string is another value", withMethod("GET", "/tenant"), with(tenant, "tier", "2"), 403, ""},
		{"a rule audience on top of the provider's", withMethod("GET", "/billing"), issuer.Claims{"aud": []string{aud, "api://billing"}}, 0, ""},
		{"the provider's audience alone is not the rule's", withMethod("GET", "/billing"), nil, 403,
			`Bearer realm="models", error="insufficient_scope", error_description="the token is not meant for this resource"`},
		{"the rule's audience alone is not the provider's", withMethod("GET", "/billing"), issuer.Claims{"aud": "api://billing"}, 401, ""},
		{"nested: read and admin", withMethod("GET", "/nested"), with(realm("admin"), "scope", "read"), 0, ""},
		{"nested: read, ops and mfa", withMethod("GET", "/nested"), with(with(realm("ops"), "mfa", true), "scope", "read"), 0, ""},
		{"nested: ops without mfa", withMethod("GET", "/nested"), with(realm("ops"), "scope", "read"), 403, ""},
		{"nested: admin without read", withMethod("GET", "/nested"), with(realm("admin"), "scope", "write"), 403,
			`Bearer realm="models", error="insufficient_scope", scope="read"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := mint(t, f.corp, with(tt.claims, "scope", scopeOf(tt.claims)))
			tt.req.Headers = append(tt.req.Headers, [2]string{"authorization", "Bearer " + tok})
			for _, round := range []string{"first", "cached"} {
				d := g.Decide(tt.req, now())
				if tt.status == 0 {
					if !d.Allow {
						t.Fatalf("%s: refused with %d: %s", round, d.Status, d.Reason)
					}
					continue
				}
				if d.Allow || d.Status != tt.status {
					t.Fatalf("%s: allow=%v status %d, want %d (%s)", round, d.Allow, d.Status, tt.status, d.Reason)
				}
				if tt.www != "" && header(d, "www-authenticate") != tt.www {
					t.Fatalf("%s: WWW-Authenticate %q, want %q", round, header(d, "www-authenticate"), tt.www)
				}
			}
		})
	}
}

func scopeOf(c issuer.Claims) any {
	if s, ok := c["scope"]; ok {
		return s
	}
	return "openid"
}

func TestRequirementCompileErrors(t *testing.T) {
	cfg := func(rules string) string {
		return `{"providers":{"a":{"issuer":"x"},"kc":{"issuer":"y","preset":"keycloak"},"p":{"type":"passphrase","passphrase":"0123456789abcdef"}},"rules":` + rules + `}`
	}
	tests := []struct{ name, config, want string }{
		{"a capture that is not defined", cfg(`[{"match":{"path_template":"/m/{model}"},"requires":{"scopes":["infer:{name}"]}}]`),
			`rules[0].requires.scopes[0]: uses {name}, which the rule's match does not capture (it captures model)`},
		{"a capture without a template", cfg(`[{"match":{"prefix":"/m"},"requires":{"claims":[{"claim":"models","contains":"{model}"}]}}]`),
			`rules[0].requires.claims[0].contains: uses {model}, which the rule's match does not capture (it captures nothing`},
		{"a capture in a nested requirement", cfg(`[{"match":{"path_template":"/m/{model}"},"requires":{"any_of":[{"scopes":["a"]},{"roles":["{x}"]}],"providers":["kc"]}}]`),
			`rules[0].requires.any_of[1].roles[0]: uses {x}`},
		{"a capture in a claim regex", cfg(`[{"match":{"path_template":"/m/{model}"},"requires":{"claims":[{"claim":"m","regex":"{model}.*"}]}}]`),
			`rules[0].requires.claims[0].regex: cannot use captures`},
		{"an invalid claim regex", cfg(`[{"match":{"prefix":"/"},"requires":{"claims":[{"claim":"m","regex":"("}]}}]`),
			`rules[0].requires.claims[0].regex: not a valid RE2 regex`},
		{"a claim check with two conditions", cfg(`[{"match":{"prefix":"/"},"requires":{"claims":[{"claim":"m","equals":"a","prefix":"b"}]}}]`),
			`rules[0].requires.claims[0]: needs exactly one of`},
		{"a claim check without claim", cfg(`[{"match":{"prefix":"/"},"requires":{"claims":[{"equals":"a"}]}}]`),
			`rules[0].requires.claims[0].claim: is required`},
		{"roles without role claims", cfg(`[{"match":{"prefix":"/"},"requires":{"providers":["a"],"roles":["r"]}}]`),
			`rules[0].requires.roles: provider "a" has no role_claims`},
		{"roles on a passphrase", cfg(`[{"match":{"prefix":"/"},"requires":{"providers":["p"],"roles":["r"]}}]`),
			`rules[0].requires.roles: provider "p" is a passphrase`},
		{"nesting too deep", cfg(`[{"match":{"prefix":"/"},"requires":{"any_of":[{"any_of":[{"any_of":[{"any_of":[{"any_of":[{"scopes":["a"]}]}]}]}]}]}}]`),
			`nest at most 4 levels`},
		{"an empty alternative", cfg(`[{"match":{"prefix":"/"},"requires":{"providers":["a"],"any_of":[{"scopes":["a"]},{}]}}]`),
			`rules[0].requires.any_of[1]: is empty`},
		{"providers inside an alternative", cfg(`[{"match":{"prefix":"/"},"requires":{"any_of":[{"providers":["a"]}]}}]`),
			`rules[0].requires.any_of[0].providers: unknown field`},
		{"a template capturing part of a segment", cfg(`[{"match":{"path_template":"/m/v{n}"}}]`),
			`rules[0].match.path_template: segment "v{n}": a capture is a whole segment`},
		{"a rest capture that is not last", cfg(`[{"match":{"path_template":"/m/{p...}/x"}}]`),
			`must be the last segment`},
		{"a capture defined twice", cfg(`[{"match":{"path_template":"/{a}/{a}"}}]`), `capture "a" is defined twice`},
		{"a template with a dot segment", cfg(`[{"match":{"path_template":"/m/../{a}"}}]`), `rules[0].match.path_template: must be a canonical path`},
		{"a template with an empty segment", cfg(`[{"match":{"path_template":"/m//{a}"}}]`), `must be a canonical path`},
		{"a template with an encoded letter", cfg(`[{"match":{"path_template":"/%6D/{a}"}}]`), `must be a canonical path`},
		{"a relative template", cfg(`[{"match":{"path_template":"m/{a}"}}]`), `must start with "/"`},
		{"a regex that cannot match a path", cfg(`[{"match":{"regex":"api/.*"}}]`), `rules[0].match.regex: can never match a request path`},
		{"a regex that cannot match anything", cfg(`[{"match":{"regex":"/a[^\\x00-\\x{10FFFF}]"}}]`), `rules[0].match.regex: can never match anything`},
		{"a regex with named groups", cfg(`[{"match":{"regex":"/m/(?P<model>[^/]+)"}}]`), `named groups are not supported`},
		{"an invalid regex", cfg(`[{"match":{"regex":"/m/("}}]`), `rules[0].match.regex: not a valid RE2 regex`},
		{"two path conditions", cfg(`[{"match":{"prefix":"/a","regex":"/a"}}]`), `rules[0].match: needs one of`},
		{"a host with a port", cfg(`[{"match":{"host":"a.example.com:80"}}]`), `rules[0].match.host: must be a host name without port`},
		{"a wildcard in the middle", cfg(`[{"match":{"host":"a.*.com"}}]`), `rules[0].match.host`},
		{"an unknown preset", `{"providers":{"a":{"issuer":"x","preset":"ping"}}}`, `providers.a.preset: must be one of "auth0", "entra", "keycloak", "okta"`},
		{"a preset on a passphrase", `{"providers":{"p":{"type":"passphrase","passphrase":"0123456789abcdef","preset":"okta"}}}`, `providers.p.preset: does not apply`},
		{"an empty rule audience list", cfg(`[{"match":{"prefix":"/"},"requires":{"audiences":[]}}]`), `rules[0].requires.audiences: must list at least one`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := Compile([]byte(tt.config))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

// TestPresets signs tokens shaped as each provider documents its access
// tokens and checks that the preset reads their scopes and roles where the
// provider puts them, and refuses their ID tokens.
func TestPresets(t *testing.T) {
	const tid = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	v1, v2 := "https://sts.windows.net/"+tid+"/", "https://login.microsoftonline.com/"+tid+"/v2.0"
	idps := map[string]*issuer.Issuer{}
	for _, url := range []string{"https://kc.example.com/realms/ml", v2, "https://acme.okta.com/oauth2/default", "https://acme.eu.auth0.com/"} {
		iss, err := issuer.New(url, issuer.RS256)
		if err != nil {
			t.Fatal(err)
		}
		idps[url] = iss
	}
	entraV1, err := issuer.New(v1, issuer.RS256)
	if err != nil {
		t.Fatal(err)
	}
	entraV1.Keys = idps[v2].Keys // one tenant, one key set for both versions
	prov := func(name, preset, url, audience, extra string) string {
		return `"` + name + `":{"preset":"` + preset + `","issuer":"` + url + `","audiences":["` + audience + `"],"jwks":` + string(idps[url].JWKS()) + extra + `}`
	}
	g := compile(t, `{"providers":{`+
		prov("kc", "keycloak", "https://kc.example.com/realms/ml", "mlflow", "")+`,`+
		prov("entra", "entra", v2, "api://scoring", "")+`,`+
		prov("okta", "okta", "https://acme.okta.com/oauth2/default", "api://default", "")+`,`+
		prov("auth0", "auth0", "https://acme.eu.auth0.com/", "https://api.example.com", `,"role_claims":["https://example\\.com/roles"]`)+`},
  "rules":[
    {"match":{"prefix":"/kc/scope"},"requires":{"providers":["kc"],"scopes":["models:read"]}},
    {"match":{"prefix":"/kc"},"requires":{"providers":["kc"],"roles":["mlflow-writer"]}},
    {"match":{"prefix":"/entra/scope"},"requires":{"providers":["entra"],"scopes":["Models.Read"]}},
    {"match":{"prefix":"/entra"},"requires":{"providers":["entra"],"roles":["Scorer"]}},
    {"match":{"prefix":"/okta/scope"},"requires":{"providers":["okta"],"scopes":["models:read"]}},
    {"match":{"prefix":"/okta"},"requires":{"providers":["okta"],"roles":["ml-engineers"]}},
    {"match":{"prefix":"/auth0/scope"},"requires":{"providers":["auth0"],"scopes":["read:models"]}},
    {"match":{"prefix":"/auth0"},"requires":{"providers":["auth0"],"roles":["admin"]}}
  ]}`)
	kc := func(c issuer.Claims, opts ...issuer.MintOption) string {
		base := issuer.Claims{"aud": []string{"mlflow", "account"}, "azp": "mlflow", "typ": "Bearer", "sub": "f:1", "scope": "openid profile models:read",
			"realm_access":    map[string]any{"roles": []string{"offline_access", "default-roles-ml"}},
			"resource_access": map[string]any{"mlflow": map[string]any{"roles": []string{"mlflow-writer"}}, "account": map[string]any{"roles": []string{"manage-account"}}}}
		return signed(t, idps["https://kc.example.com/realms/ml"], base, c, opts...)
	}
	entra := func(iss *issuer.Issuer, c issuer.Claims, opts ...issuer.MintOption) string {
		base := issuer.Claims{"aud": "api://scoring", "tid": tid, "azp": "client", "scp": "Models.Read User.Read", "roles": []string{"Scorer"}, "ver": "2.0"}
		return signed(t, iss, base, c, opts...)
	}
	okta := func(c issuer.Claims, opts ...issuer.MintOption) string {
		base := issuer.Claims{"aud": "api://default", "cid": "0oa1", "uid": "00u1", "scp": []string{"openid", "models:read"}, "groups": []string{"Everyone", "ml-engineers"}, "ver": 1}
		return signed(t, idps["https://acme.okta.com/oauth2/default"], base, c, opts...)
	}
	auth0 := func(c issuer.Claims, opts ...issuer.MintOption) string {
		base := issuer.Claims{"aud": []string{"https://api.example.com", "https://acme.eu.auth0.com/userinfo"}, "azp": "abc", "scope": "openid read:models",
			"permissions": []string{"read:models"}, "https://example.com/roles": []string{"admin"}}
		return signed(t, idps["https://acme.eu.auth0.com/"], base, c, opts...)
	}
	at := issuer.WithHeader("typ", "at+jwt")
	tests := []struct {
		name, path, token string
		reason            error // nil: allowed
	}{
		{"Keycloak: a scope from scope", "/kc/scope", kc(nil), nil},
		{"Keycloak: a client role from resource_access.<audience>", "/kc", kc(nil), nil},
		{"Keycloak: a realm role", "/kc", kc(issuer.Claims{"resource_access": map[string]any{}, "realm_access": map[string]any{"roles": []string{"mlflow-writer"}}}), nil},
		{"Keycloak: a role of another client does not count", "/kc", kc(issuer.Claims{"resource_access": map[string]any{"account": map[string]any{"roles": []string{"mlflow-writer"}}}}), ErrRoleMissing},
		{"Keycloak: an ID token (typ ID) is refused", "/kc", kc(issuer.Claims{"typ": "ID", "aud": "mlflow", "nonce": "n"}), ErrIDToken},
		{"Keycloak: a token with a nonce and no access-token typ is refused", "/kc", kc(issuer.Claims{"nonce": "n"}), ErrIDToken},
		{"Keycloak: a nonce with typ at+jwt is an access token", "/kc", kc(issuer.Claims{"nonce": "n"}, at), nil},
		{"Entra v2: a scope from scp", "/entra/scope", entra(idps[v2], nil), nil},
		{"Entra v2: an app role from roles", "/entra", entra(idps[v2], nil), nil},
		{"Entra v1: the paired issuer with the same keys", "/entra", entra(entraV1, issuer.Claims{"ver": "1.0"}), nil},
		{"Entra: a scope in scope is not read", "/entra/scope", entra(idps[v2], issuer.Claims{"scp": nil, "scope": "Models.Read"}), ErrScopeMissing},
		{"Entra: an ID token (at_hash) is refused", "/entra", entra(idps[v2], issuer.Claims{"at_hash": "x"}), ErrIDToken},
		{"Okta: a scope from the scp array", "/okta/scope", okta(nil), nil},
		{"Okta: a group", "/okta", okta(nil), nil},
		{"Okta: another group", "/okta", okta(issuer.Claims{"groups": []string{"Everyone"}}), ErrRoleMissing},
		{"Okta: an ID token is refused", "/okta", okta(issuer.Claims{"nonce": "n"}), ErrIDToken},
		{"Auth0: a scope", "/auth0/scope", auth0(nil), nil},
		{"Auth0: the overridden role claim is read", "/auth0", auth0(nil), nil},
		{"Auth0: permissions are not roles once overridden", "/auth0", auth0(issuer.Claims{"https://example.com/roles": nil, "permissions": []string{"admin"}}), ErrRoleMissing},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := g.Decide(get(tt.path, bearer(tt.token)...), now())
			switch {
			case tt.reason == nil && !d.Allow:
				t.Fatalf("refused: %s (%s)", d.Reason, d.Detail)
			case tt.reason != nil && d.Reason != tt.reason.Error():
				t.Fatalf("reason %q, want %q", d.Reason, tt.reason)
			}
		})
	}
	t.Run("every preset value can be overridden", func(t *testing.T) {
		g := compile(t, `{"providers":{"kc":{"preset":"keycloak","issuer":"x","audiences":["a"],"scope_claims":["scp"],"role_claims":["groups"],"refuse_id_tokens":false}},
			"rules":[{"match":{"prefix":"/"},"requires":{}}]}`)
		p := g.providers[0]
		if !slices.Equal(p.scopeClaims, []string{"scp"}) || !slices.Equal(p.roleClaims, []string{"groups"}) || p.refuseIDTokens {
			t.Fatalf("scope_claims %q, role_claims %q, refuse_id_tokens %v", p.scopeClaims, p.roleClaims, p.refuseIDTokens)
		}
		g = compile(t, `{"providers":{"e":{"preset":"entra","issuer":"`+v2+`","also_issuers":[]}}}`)
		if p := g.providers[0]; len(p.alsoIssuers) != 0 {
			t.Fatalf("also_issuers %q, want none", p.alsoIssuers)
		}
	})
	t.Run("the Keycloak preset reads client roles under each audience", func(t *testing.T) {
		g := compile(t, `{"providers":{"kc":{"preset":"keycloak","issuer":"x","audiences":["mlflow","api.v2"]}}}`)
		want := []string{"realm_access.roles", "resource_access.mlflow.roles", `resource_access.api\.v2.roles`}
		if p := g.providers[0]; !slices.Equal(p.roleClaims, want) {
			t.Fatalf("role_claims %q, want %q", p.roleClaims, want)
		}
	})
	t.Run("Entra pairs v1 and v2 issuers both ways", func(t *testing.T) {
		if got := entraIssuers(v1); !slices.Equal(got, []string{v2}) {
			t.Errorf("entraIssuers(v1) = %q", got)
		}
		if got := entraIssuers(v2); !slices.Equal(got, []string{v1}) {
			t.Errorf("entraIssuers(v2) = %q", got)
		}
		if got := entraIssuers("https://login.microsoftonline.com/common/v2.0/x"); got != nil {
			t.Errorf("an unknown shape is paired with %q", got)
		}
	})
}

// signed mints base with c applied on top (nil values delete).
func signed(t testing.TB, iss *issuer.Issuer, base, c issuer.Claims, opts ...issuer.MintOption) string {
	t.Helper()
	for k, v := range c {
		if v == nil {
			delete(base, k)
		} else {
			base[k] = v
		}
	}
	if _, ok := base["sub"]; !ok {
		base["sub"] = "user-1"
	}
	tok, err := iss.Mint(base, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestExplainIsDecide(t *testing.T) {
	f := fx(t)
	g := compile(t, authzConfig(t, `[
    {"match": {"prefix": "/healthz"}},
    {"match": {"path_template": "/v2/models/{model}/infer", "methods": ["POST"]}, "requires": {"scopes": ["infer:{model}"], "any_of": [{"roles": ["scorer"]}, {"claims": [{"claim": "models", "contains": "{model}"}]}]}},
    {"match": {"prefix": "/"}, "requires": {}}]`))
	tok := mint(t, f.corp, issuer.Claims{"scope": "infer:iris", "models": []string{"iris"}})
	req := withMethod("POST", "/v2/models/iris/infer", bearer(tok)...)
	tr := g.Explain(req, now())
	d := g.Decide(req, now())
	if !d.Allow || !tr.Decision.Allow || tr.Rule != 1 || tr.Match != `{"path_template":"/v2/models/{model}/infer","methods":["POST"]}` {
		t.Fatalf("decide %v, explain %+v", d.Allow, tr)
	}
	if !slices.Equal(tr.Captures, [][2]string{{"model", "iris"}}) {
		t.Fatalf("captures %q", tr.Captures)
	}
	var steps []string
	for _, s := range tr.Steps {
		steps = append(steps, strings.Repeat(" ", s.Depth)+map[bool]string{true: "ok ", false: "no "}[s.OK]+s.Check)
	}
	want := []string{
		`ok credential found in header authorization ("Bearer")`,
		`ok token verified by provider "corp": signature, issuer, audience, type, time`,
		`ok scope "infer:iris"`,
		`no any_of[0]`,
		` no role "scorer" in realm_access.roles, resource_access.mlflow.roles`,
		`ok any_of[1]`,
		` ok claim models contains "{model}" ("iris")`,
	}
	if !slices.Equal(steps, want) {
		t.Fatalf("steps:\n%s\nwant:\n%s", strings.Join(steps, "\n"), strings.Join(want, "\n"))
	}
	for _, s := range tr.Steps {
		if strings.Contains(s.Check, tok) {
			t.Fatalf("a step holds the token: %q", s.Check)
		}
	}
	if tr := g.Explain(req, now()); !strings.Contains(tr.Steps[1].Check, "from the cache") {
		t.Errorf("a second explain does not say the token came from the cache: %q", tr.Steps[1].Check)
	}
	if tr := g.Explain(withMethod("GET", "/x/../y"), now()); tr.Decision.Status != 400 || tr.Rule != -1 {
		t.Errorf("a non-canonical path: %+v", tr)
	}
}

func TestLint(t *testing.T) {
	good := `"providers":{"corp":{"issuer":"x","audiences":["a"],"token_types":["at+jwt"],"max_lifetime_seconds":3600}}`
	tests := []struct {
		name, config string
		want         []string
	}{
		{"a careful configuration", `{` + good + `,"rules":[{"match":{"prefix":"/admin"},"requires":{}},{"match":{"prefix":"/"}}]}`, nil},
		{"a provider with no audience, type check or lifetime", `{"providers":{"corp":{"issuer":"x"}}}`, []string{
			"providers.corp.audiences: not set", "providers.corp: ID tokens are accepted", "providers.corp.max_lifetime_seconds: not set"}},
		{"a preset refuses ID tokens", `{"providers":{"corp":{"issuer":"x","preset":"okta","audiences":["a"],"max_lifetime_seconds":3600}}}`, nil},
		{"a rule after a catch-all", `{` + good + `,"rules":[{"match":{"prefix":"/"},"requires":{}},{"match":{"prefix":"/healthz"}}]}`, []string{
			`rules[1]: unreachable: rules[0] {"prefix":"/"} matches every request first`}},
		{"a narrower prefix after a wider one", `{` + good + `,"rules":[{"match":{"prefix":"/api"},"requires":{}},{"match":{"prefix":"/api/public"}},{"match":{"path":"/api/x"}},{"match":{"path_template":"/api/{m}/infer"}},{"match":{"regex":"/api/v[0-9]+/.*"}}]}`, []string{
			`rules[1]: shadowed by rules[0] {"prefix":"/api"}`, `rules[2]: shadowed by rules[0]`, `rules[3]: shadowed by rules[0]`, `rules[4]: shadowed by rules[0]`}},
		{"an earlier rule with a narrower method does not shadow", `{` + good + `,"rules":[{"match":{"prefix":"/api","methods":["GET"]}},{"match":{"prefix":"/api/x"},"requires":{}}]}`, nil},
		{"an earlier rule with the same method does", `{` + good + `,"rules":[{"match":{"prefix":"/api","methods":["GET","POST"]}},{"match":{"prefix":"/api/x","methods":["POST"]},"requires":{}}]}`, []string{`rules[1]: shadowed by rules[0]`}},
		{"an earlier rule with a header condition does not shadow", `{` + good + `,"rules":[{"match":{"prefix":"/api","headers":[{"name":"x","present":true}]}},{"match":{"prefix":"/api/x"},"requires":{}}]}`, nil},
		{"an earlier rule on a host does not shadow other hosts", `{` + good + `,"rules":[{"match":{"prefix":"/","host":"a.example.com"}},{"match":{"prefix":"/x"},"requires":{}}]}`, nil},
		{"a prefix does not cover a neighbour", `{` + good + `,"rules":[{"match":{"prefix":"/api"}},{"match":{"prefix":"/apis"},"requires":{}}]}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			findings, err := Lint([]byte(tt.config))
			if err != nil {
				t.Fatal(err)
			}
			if len(findings) != len(tt.want) {
				t.Fatalf("findings %q, want %d", findings, len(tt.want))
			}
			for i, f := range findings {
				if !strings.HasPrefix(f.String(), tt.want[i]) {
					t.Errorf("finding %q, want it to start with %q", f, tt.want[i])
				}
			}
		})
	}
	if _, err := Lint([]byte(`{"providers":{"a":{"issuer":"x"}},"rules":[{"match":{"prefix":"/m"},"requires":{"scopes":["{model}"]}}]}`)); err == nil ||
		!strings.Contains(err.Error(), "rules[0].requires.scopes[0]: uses {model}") {
		t.Fatalf("a capture used but not defined: %v", err)
	}
}
