package gate

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tokengate/tokengate/internal/issuer"
)

const (
	entraTemplate = "https://login.microsoftonline.com/{tenantid}/v2.0"
	tenantA       = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	tenantB       = "0b2a4c5e-1d3f-4e6a-8b9c-0d1e2f3a4b5c"
	tenantC       = "11111111-2222-4333-8444-555555555555" // a real tenant of the provider, not allowed
	tenantD       = "99999999-8888-4777-8666-555555555555" // allowed, no key set yet
)

func entraIssuer(tenant string) string {
	return strings.Replace(entraTemplate, "{tenantid}", tenant, 1)
}

// tenantFixture is a multi-tenant provider whose tenants A and B each sign
// with their own key named "k1", and a tenant C the configuration does not
// allow, which signs with a "k1" of its own too.
type tenantFixture struct {
	a, b, c *issuer.Issuer
	aNew    *issuer.Key // a key tenant A rotates to, "k2"
}

func newTenantFixture(t testing.TB) *tenantFixture {
	t.Helper()
	f := &tenantFixture{}
	for _, x := range []struct {
		iss    **issuer.Issuer
		tenant string
	}{{&f.a, tenantA}, {&f.b, tenantB}, {&f.c, tenantC}} {
		k, err := issuer.NewKey(issuer.ES256, "k1")
		if err != nil {
			t.Fatal(err)
		}
		*x.iss = &issuer.Issuer{URL: entraIssuer(x.tenant), Keys: []*issuer.Key{k}}
	}
	k2, err := issuer.NewKey(issuer.ES256, "k2")
	if err != nil {
		t.Fatal(err)
	}
	f.aNew = k2
	return f
}

// config is the multi-tenant provider "entra" (tenants A, B and D, keys for
// A and B) beside a single-tenant provider "corp", with more members.
func (f *tenantFixture) config(more string) string {
	return `{` + more + `"providers": {
  "entra": {"issuer": "` + entraTemplate + `", "preset": "entra", "audiences": ["` + aud + `"],
    "tenants": ["` + tenantA + `", "` + tenantB + `", "` + tenantD + `"],
    "tenant_jwks": {"` + tenantA + `": ` + string(f.a.JWKS()) + `, "` + tenantB + `": ` + string(f.b.JWKS()) + `}},
  "corp": {"issuer": "` + corpURL + `", "jwks": ` + string(loadFixture().corp.JWKS()) + `}}}`
}

// token mints a token of iss for tenant tid (nil: no tid claim) with more
// claims.
func tenantToken(t testing.TB, iss *issuer.Issuer, tid any, more issuer.Claims, opts ...issuer.MintOption) *Request {
	t.Helper()
	c := issuer.Claims{"tid": tid}
	for k, v := range more {
		c[k] = v
	}
	return get("/", bearer(mint(t, iss, c, opts...))...)
}

// as returns an issuer that writes iss's "iss" but signs with the keys of
// signer.
func as(iss, signer *issuer.Issuer) *issuer.Issuer {
	return &issuer.Issuer{URL: iss.URL, Keys: signer.Keys}
}

func TestTenants(t *testing.T) {
	f := newTenantFixture(t)
	g := compile(t, f.config(""))
	tests := []struct {
		name     string
		req      *Request
		status   int    // 0: allowed
		code     string // the refusal's code
		unknown  string // with code unknown_key: the tenant whose key set lacks the kid
		provider string // who accepted it
	}{
		{name: "a token of tenant A", req: tenantToken(t, f.a, tenantA, nil), provider: "entra"},
		{name: "a token of tenant B", req: tenantToken(t, f.b, tenantB, nil), provider: "entra"},
		{name: "a token of tenant A in its v1.0 form (the entra preset pairs the issuers)",
			req: tenantToken(t, &issuer.Issuer{URL: "https://sts.windows.net/" + tenantA + "/", Keys: f.a.Keys}, tenantA, nil), provider: "entra"},
		{name: "the single-tenant provider beside it is unchanged", req: get("/", bearer(mint(t, fx(t).corp, nil))...), provider: "corp"},
		{name: "a tenant the provider serves but the configuration does not allow",
			req: tenantToken(t, f.c, tenantC, nil), status: 401, code: "issuer_not_accepted"},
		{name: "tid names another allowed tenant than iss",
			req: tenantToken(t, f.a, tenantB, nil), status: 401, code: "claim_not_accepted"},
		{name: "no tid", req: tenantToken(t, f.a, nil, nil), status: 401, code: "claim_not_accepted"},
		{name: "tid that is not a string", req: tenantToken(t, f.a, 7, nil), status: 401, code: "claim_not_accepted"},
		{name: "tid in upper case", req: tenantToken(t, f.a, strings.ToUpper(tenantA), nil), status: 401, code: "claim_not_accepted"},
		{name: "iss of A signed with B's key of the same kid: A's keys only",
			req: tenantToken(t, as(f.a, f.b), tenantA, nil), status: 401, code: "signature_invalid"},
		{name: "iss and tid of A signed with the key of a tenant not allowed",
			req: tenantToken(t, as(f.a, f.c), tenantA, nil), status: 401, code: "signature_invalid"},
		{name: "iss of B, tid of A, signed by A: B's keys refuse it",
			req: tenantToken(t, as(f.b, f.a), tenantA, nil), status: 401, code: "signature_invalid"},
		{name: "iss with the tenant in upper case",
			req: tenantToken(t, &issuer.Issuer{URL: entraIssuer(strings.ToUpper(tenantA)), Keys: f.a.Keys}, tenantA, nil), status: 401, code: "issuer_not_accepted"},
		{name: "iss with a suffix",
			req: tenantToken(t, &issuer.Issuer{URL: entraIssuer(tenantA) + "/", Keys: f.a.Keys}, tenantA, nil), status: 401, code: "issuer_not_accepted"},
		{name: "iss with a path in the tenant's place",
			req: tenantToken(t, &issuer.Issuer{URL: entraIssuer(tenantA + "/x"), Keys: f.a.Keys}, tenantA, nil), status: 401, code: "issuer_not_accepted"},
		{name: "iss with dot-dot in the tenant's place",
			req: tenantToken(t, &issuer.Issuer{URL: entraIssuer(".."), Keys: f.a.Keys}, "..", nil), status: 401, code: "issuer_not_accepted"},
		{name: "the template itself as iss",
			req: tenantToken(t, &issuer.Issuer{URL: entraTemplate, Keys: f.a.Keys}, "{tenantid}", nil), status: 401, code: "issuer_not_accepted"},
		{name: "an allowed tenant without a key set yet: 503",
			req: tenantToken(t, &issuer.Issuer{URL: entraIssuer(tenantD), Keys: f.a.Keys}, tenantD, nil), status: 503, code: "keys_unavailable"},
		{name: "a kid tenant A's set lacks names the tenant for the refresh",
			req: tenantToken(t, &issuer.Issuer{URL: f.a.URL, Keys: []*issuer.Key{f.aNew}}, tenantA, nil), status: 401, code: "unknown_key", unknown: tenantA},
		{name: "the kid tenant A rotated to is unknown in B as well",
			req: tenantToken(t, &issuer.Issuer{URL: f.b.URL, Keys: []*issuer.Key{f.aNew}}, tenantB, nil), status: 401, code: "unknown_key", unknown: tenantB},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, pass := range []string{"verified", "cached"} {
				d := g.Decide(tt.req, now())
				if tt.status == 0 {
					if !d.Allow || d.Provider != tt.provider {
						t.Fatalf("%s: %+v; want allowed by %s", pass, d, tt.provider)
					}
					if d.Cached != (pass == "cached") {
						t.Fatalf("%s: Cached = %v", pass, d.Cached)
					}
					continue
				}
				if d.Allow || d.Status != tt.status || d.Code != tt.code {
					t.Fatalf("%s: allow %v, status %d, code %q (%s); want %d %s", pass, d.Allow, d.Status, d.Code, d.Detail, tt.status, tt.code)
				}
				if d.UnknownKID != (tt.unknown != "") || d.Tenant != tt.unknown {
					t.Fatalf("UnknownKID %v, Tenant %q; want tenant %q", d.UnknownKID, d.Tenant, tt.unknown)
				}
				if strings.Contains(string(d.Body), tenantA) || strings.Contains(header(d, "www-authenticate"), tenantA) {
					t.Fatalf("the response names a tenant: %s", d.Body)
				}
			}
		})
	}
}

// TestTenantsRefusalsSayWhichTenant: the log line of a refusal names the
// tenant iss named and the token's tid, never in the response.
func TestTenantsRefusalsSayWhichTenant(t *testing.T) {
	f := newTenantFixture(t)
	g := compile(t, f.config(""))
	d := g.Decide(tenantToken(t, f.a, tenantB, nil), now())
	if want := `provider "entra", tenant "` + tenantA + `", tid "` + tenantB + `"`; !strings.Contains(d.Detail, want) {
		t.Fatalf("detail %q does not say %q", d.Detail, want)
	}
	d = g.Decide(tenantToken(t, &issuer.Issuer{URL: entraIssuer(tenantD), Keys: f.a.Keys}, tenantD, nil), now())
	if want := `provider "entra", tenant "` + tenantD + `"`; d.Detail != want {
		t.Fatalf("detail %q, want %q", d.Detail, want)
	}
}

func TestTenantsCompile(t *testing.T) {
	f := newTenantFixture(t)
	jwks := string(f.a.JWKS())
	provider := func(members string) string {
		return `{"providers": {"entra": {` + members + `}}}`
	}
	tests := []struct {
		name, config string
		err          string // "" when the configuration compiles
	}{
		{name: "a generic template with generic ids", config: provider(`"issuer": "https://idp.example.com/realms/{tenantid}", "tenants": ["ml", "Team_2"]`)},
		{name: "keys given as a JSON string", config: provider(`"issuer": "` + entraTemplate + `", "tenants": ["` + tenantA + `"], "tenant_jwks": {"` + tenantA + `": ` + jsonString(jwks) + `}`)},
		{name: "the template needs tenants", config: provider(`"issuer": "` + entraTemplate + `"`),
			err: "providers.entra.tenants: is required with an issuer template"},
		{name: "no template on an introspection provider", config: provider(`"type": "introspection", "issuer": "https://idp.example.com/{tenantid}", "tenants": ["a"],
			"introspection": {"cluster": "idp", "path": "/introspect", "client_id": "c", "client_secret": "s"}`),
			err: "providers.entra.issuer: cannot be a template on an introspection provider"},
		{name: "tenants need a template", config: provider(`"issuer": "https://idp.example.com", "tenants": ["a"]`),
			err: "providers.entra.tenants: applies only to an issuer template"},
		{name: "tenant keys need a template", config: provider(`"issuer": "https://idp.example.com", "tenant_jwks": {}`),
			err: "providers.entra.tenant_jwks: applies only to an issuer template"},
		{name: "an empty list of tenants", config: provider(`"issuer": "` + entraTemplate + `", "tenants": []`),
			err: "providers.entra.tenants: must be a non-empty array"},
		{name: "tenants that are not an array", config: provider(`"issuer": "` + entraTemplate + `", "tenants": "` + tenantA + `"`),
			err: "providers.entra.tenants: must be a non-empty array"},
		{name: "a tenant that is not a string", config: provider(`"issuer": "https://idp.example.com/{tenantid}", "tenants": [1]`),
			err: "providers.entra.tenants[0]: must be a string"},
		{name: "two placeholders", config: provider(`"issuer": "https://idp.example.com/{tenantid}/{tenantid}", "tenants": ["a"]`),
			err: "providers.entra.issuer: the issuer template has {tenantid} 2 times"},
		{name: "another placeholder", config: provider(`"issuer": "https://idp.example.com/{tenant}", "tenants": ["a"]`),
			err: "providers.entra.issuer: the issuer template has no {tenantid} placeholder"},
		{name: "the placeholder in the host", config: provider(`"issuer": "https://{tenantid}.example.com/", "tenants": ["a"]`),
			err: "providers.entra.issuer: the issuer template must name a host"},
		{name: "the placeholder glued to text", config: provider(`"issuer": "https://idp.example.com/t{tenantid}", "tenants": ["a"]`),
			err: "whole path segment"},
		{name: "a query", config: provider(`"issuer": "https://idp.example.com/{tenantid}?a=b", "tenants": ["a"]`),
			err: "query or a fragment"},
		{name: "a tenant id with a slash", config: provider(`"issuer": "https://idp.example.com/{tenantid}", "tenants": ["a/b"]`),
			err: `providers.entra.tenants[0]: "a/b" is not a tenant id`},
		{name: "a tenant id of dots", config: provider(`"issuer": "https://idp.example.com/{tenantid}", "tenants": [".."]`),
			err: `providers.entra.tenants[0]: ".." is not a tenant id`},
		{name: "an Entra tenant that is not a GUID", config: provider(`"issuer": "` + entraTemplate + `", "tenants": ["contoso"]`),
			err: `providers.entra.tenants[0]: "contoso" is not a tenant GUID`},
		{name: "an Entra tenant in upper case", config: provider(`"issuer": "` + entraTemplate + `", "tenants": ["` + strings.ToUpper(tenantA) + `"]`),
			err: "must be written in lower case"},
		{name: "the entra preset asks for GUIDs on any host", config: provider(`"issuer": "https://idp.example.com/{tenantid}", "preset": "entra", "tenants": ["contoso"]`),
			err: "is not a tenant GUID"},
		{name: "a tenant twice", config: provider(`"issuer": "` + entraTemplate + `", "tenants": ["` + tenantA + `", "` + tenantA + `"]`),
			err: "providers.entra.tenants[1]: repeats tenant"},
		{name: "one key set for all tenants", config: provider(`"issuer": "` + entraTemplate + `", "tenants": ["` + tenantA + `"], "jwks": ` + jwks),
			err: "providers.entra.jwks: does not apply to an issuer template"},
		{name: "keys of a tenant not allowed", config: provider(`"issuer": "` + entraTemplate + `", "tenants": ["` + tenantA + `"], "tenant_jwks": {"` + tenantB + `": ` + jwks + `}`),
			err: "providers.entra.tenant_jwks." + tenantB + `: is not one of "tenants"`},
		{name: "tenant keys that are not an object", config: provider(`"issuer": "` + entraTemplate + `", "tenants": ["` + tenantA + `"], "tenant_jwks": []`),
			err: "providers.entra.tenant_jwks: must be an object keyed by tenant id"},
		{name: "a tenant key set that is not a key set", config: provider(`"issuer": "` + entraTemplate + `", "tenants": ["` + tenantA + `"], "tenant_jwks": {"` + tenantA + `": {"keys": 1}}`),
			err: "providers.entra.tenant_jwks." + tenantA + ":"},
		{name: "a fixed also_issuer beside a template", config: provider(`"issuer": "` + entraTemplate + `", "tenants": ["` + tenantA + `"], "also_issuers": ["https://sts.windows.net/` + tenantA + `/"]`),
			err: "providers.entra.also_issuers[0]: must be a template too"},
		{name: "a template also_issuer beside a fixed issuer", config: provider(`"issuer": "https://idp.example.com", "also_issuers": ["https://sts.windows.net/{tenantid}/"]`),
			err: "providers.entra.also_issuers[0]: is a template but \"issuer\" is not"},
		{name: "two templates that give two tenants one issuer",
			config: provider(`"issuer": "https://idp.example.com/{tenantid}/b", "also_issuers": ["https://idp.example.com/c/{tenantid}"], "tenants": ["b", "c"]`),
			err:    `providers.entra.also_issuers: the issuer templates give tenants "c" and "b" the same issuer "https://idp.example.com/c/b"`},
		{name: "too many tenants", config: provider(`"issuer": "https://idp.example.com/{tenantid}", "tenants": ["t` + strings.Repeat(`", "t`, 256) + `"]`),
			err: "lists 257 tenants; at most 256"},
		{name: "a passphrase provider has no tenants", config: provider(`"type": "passphrase", "passphrase": "0123456789abcdef", "tenants": ["a"]`),
			err: "providers.entra.tenants: does not apply to a passphrase provider"},
		{name: "a brace in a plain issuer", config: provider(`"issuer": "https://idp.example.com/{x}"`),
			err: "providers.entra.issuer: the issuer template has no {tenantid} placeholder"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := Compile([]byte(tt.config))
			switch {
			case tt.err == "" && err != nil:
				t.Fatalf("Compile: %v", err)
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Fatalf("Compile = %v, want an error with %q", err, tt.err)
			}
		})
	}
}

func jsonString(s string) string { return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"` }

// TestTenantsRefreshOneTenantAtATime: a kid tenant A's set lacks asks the
// fetcher for tenant A's set only; the answer is installed for A, and B's
// keys, its calls and its memory of missing kids are its own.
func TestTenantsRefreshOneTenantAtATime(t *testing.T) {
	f := newTenantFixture(t)
	g := compile(t, f.config(refreshCfg))
	t0 := time.Now()
	rotatedA := &issuer.Issuer{URL: f.a.URL, Keys: []*issuer.Key{f.aNew}}
	newA := tenantToken(t, rotatedA, tenantA, nil)
	d := g.Decide(newA, t0)
	if d.Allow || !d.UnknownKID || d.Provider != "entra" || d.Tenant != tenantA || d.KID != "k2" {
		t.Fatalf("before the refresh: %+v", d)
	}
	step, call := g.PlanRefresh(&d, 1, t0)
	if step != RefreshSend {
		t.Fatalf("step %v, want RefreshSend", step)
	}
	var path string
	for _, h := range call.Headers {
		if h[0] == ":path" {
			path = h[1]
		}
	}
	u, err := url.Parse(path)
	if err != nil || u.Path != "/refresh" || u.Query().Get("provider") != "entra" || u.Query().Get("tenant") != tenantA || u.Query().Get("kid") != "k2" {
		t.Fatalf("the call's :path %q does not ask for tenant A's keys because of k2", path)
	}

	// Tenant B's unknown kid is B's own business: a call of its own, not a
	// wait on A's.
	newB := tenantToken(t, &issuer.Issuer{URL: f.b.URL, Keys: []*issuer.Key{f.aNew}}, tenantB, nil)
	dB := g.Decide(newB, t0)
	if step, _ := g.PlanRefresh(&dB, 2, t0); step != RefreshSend {
		t.Fatalf("tenant B during tenant A's call: step %v, want RefreshSend", step)
	}
	// A second request of A waits on A's call.
	if step, _ := g.PlanRefresh(&d, 3, t0); step != RefreshWait {
		t.Fatalf("tenant A's second request: step %v, want RefreshWait", step)
	}

	// An answer for the provider as a whole, or for another tenant's call,
	// finishes nothing.
	if ids, _, _ := g.FinishRefresh("entra", f.a.JWKS(), t0); len(ids) != 0 {
		t.Fatalf("FinishRefresh without a tenant finished %v", ids)
	}
	setA := (&issuer.Issuer{Keys: append(append([]*issuer.Key(nil), f.a.Keys...), f.aNew)}).JWKS()
	ids, _, err := g.FinishTenantRefresh("entra", tenantA, setA, t0.Add(20*time.Millisecond))
	if err != nil || len(ids) != 2 || ids[0] != 1 || ids[1] != 3 {
		t.Fatalf("FinishTenantRefresh(A) = %v, %v; want [1 3]", ids, err)
	}
	if d := g.Decide(newA, t0.Add(20*time.Millisecond)); !d.Allow {
		t.Fatalf("tenant A's new kid after A's refresh: %+v", d)
	}
	if d := g.Decide(tenantToken(t, f.a, tenantA, nil), t0); !d.Allow {
		t.Fatalf("tenant A's old kid after A's refresh: %+v", d)
	}
	// B's key set is untouched: its own k1 still verifies, A's k2 does not.
	if d := g.Decide(tenantToken(t, f.b, tenantB, nil), t0); !d.Allow {
		t.Fatalf("tenant B's token after A's refresh: %+v", d)
	}
	if d := g.Decide(newB, t0); d.Allow || !d.UnknownKID {
		t.Fatalf("tenant A's new key verified a token of tenant B: %+v", d)
	}
	// B's answer still lacks k2: its request is refused, and k2 is
	// remembered as missing for B only.
	ids, _, err = g.FinishTenantRefresh("entra", tenantB, f.b.JWKS(), t0.Add(30*time.Millisecond))
	if err != nil || len(ids) != 1 || ids[0] != 2 {
		t.Fatalf("FinishTenantRefresh(B) = %v, %v", ids, err)
	}
	dB = g.Decide(newB, t0.Add(40*time.Millisecond))
	if step, _ := g.PlanRefresh(&dB, 4, t0.Add(40*time.Millisecond)); step != RefreshNone {
		t.Fatalf("a kid B's fresh set lacked: step %v, want RefreshNone", step)
	}
}

func TestReplaceTenantKeys(t *testing.T) {
	f := newTenantFixture(t)
	set := f.a.JWKS()
	tests := []struct {
		name, provider, tenant, err string
	}{
		{name: "a tenant's set", provider: "entra", tenant: tenantD},
		{name: "a multi-tenant provider needs the tenant", provider: "entra", err: "has one key set per tenant"},
		{name: "a tenant not allowed", provider: "entra", tenant: tenantC, err: "has no tenant"},
		{name: "a single-tenant provider has no tenants", provider: "corp", tenant: tenantA, err: "has no tenant"},
		{name: "a single-tenant provider without a tenant", provider: "corp"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := compile(t, f.config(""))
			_, err := g.ReplaceTenantKeys(tt.provider, tt.tenant, set)
			if tt.err == "" && err != nil || tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
				t.Fatalf("ReplaceTenantKeys(%q, %q) = %v, want %q", tt.provider, tt.tenant, err, tt.err)
			}
		})
	}
	t.Run("a tenant's set is installed for that tenant only", func(t *testing.T) {
		g := compile(t, f.config(""))
		dTok := tenantToken(t, &issuer.Issuer{URL: entraIssuer(tenantD), Keys: f.a.Keys}, tenantD, nil)
		if d := g.Decide(dTok, now()); d.Status != 503 {
			t.Fatalf("before: %d", d.Status)
		}
		if _, err := g.ReplaceTenantKeys("entra", tenantD, set); err != nil {
			t.Fatal(err)
		}
		if d := g.Decide(dTok, now()); !d.Allow {
			t.Fatalf("tenant D with its set: %+v", d)
		}
		// The same key verifies nothing of tenant B.
		if d := g.Decide(tenantToken(t, as(f.b, f.a), tenantB, nil), now()); d.Allow {
			t.Fatal("tenant D's key verified a token of tenant B")
		}
	})
	t.Run("ReplaceKeys refuses a multi-tenant provider", func(t *testing.T) {
		g := compile(t, f.config(""))
		if _, err := g.ReplaceKeys("entra", set); err == nil || !strings.Contains(err.Error(), "must name its tenant") {
			t.Fatalf("ReplaceKeys = %v", err)
		}
	})
}

// FuzzTenantMatch matches arbitrary issuers against a provider with two
// templates (the entra preset's v2.0 and v1.0 issuers) and three allowed
// tenants: a match is always an allowed tenant, and the issuer is exactly
// one of the templates filled with it.
func FuzzTenantMatch(f *testing.F) {
	tf := newTenantFixture(f)
	g := compile(f, tf.config(""))
	p := g.provider("entra")
	f.Add(entraIssuer(tenantA))
	f.Add("https://sts.windows.net/" + tenantB + "/")
	f.Add(entraIssuer(tenantC))
	f.Add(entraIssuer(tenantA + "/.."))
	f.Fuzz(func(t *testing.T, iss string) {
		i, ok := p.issuerTenant(iss)
		if !ok {
			if i != noTenant {
				t.Fatalf("no match, but tenant %d", i)
			}
			return
		}
		id := p.tenantID(i)
		if id != tenantA && id != tenantB && id != tenantD {
			t.Fatalf("%q matched tenant %q, which is not allowed", iss, id)
		}
		if iss != entraIssuer(id) && iss != "https://sts.windows.net/"+id+"/" {
			t.Fatalf("%q matched tenant %q, but is not a template filled with it", iss, id)
		}
		if n := testing.AllocsPerRun(10, func() { p.issuerTenant(iss) }); n != 0 {
			t.Fatalf("matching allocates %.0f times", n)
		}
	})
}
