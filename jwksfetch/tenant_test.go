package jwksfetch

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tokengate/tokengate/internal/fetchtest"
	"github.com/tokengate/tokengate/internal/refreshapi"
	"github.com/tokengate/tokengate/internal/tenantop"
)

const (
	tenantA = "tenant-a"
	tenantB = "tenant-b"
	tenantC = "tenant-c" // served by the provider, not allowed by the configuration
)

// tenantConfig is a configuration with the multi-tenant provider "entra"
// at op (tenants A and B, more members), and a single-tenant provider.
func tenantConfig(op *tenantop.Provider, more string) string {
	return `{"providers": {
	  "entra": {"issuer": "` + op.Template() + `", "tenants": ["` + tenantA + `", "` + tenantB + `"]` + more + `},
	  "inline": {"issuer": "https://inline.test", "jwks": {"keys": []}}}}`
}

// renderedTenants reads the kids of each tenant's key set in a rendered
// configuration.
func renderedTenants(t *testing.T, config []byte) map[string][]string {
	t.Helper()
	var doc struct {
		Providers map[string]struct {
			JWKS       json.RawMessage `json:"jwks"`
			TenantJWKS map[string]struct {
				Keys []struct{ Kid string }
			} `json:"tenant_jwks"`
		}
	}
	if err := json.Unmarshal(config, &doc); err != nil {
		t.Fatalf("rendered configuration: %v\n%s", err, config)
	}
	if doc.Providers["entra"].JWKS != nil {
		t.Fatalf("a multi-tenant provider was rendered with jwks: %s", config)
	}
	out := map[string][]string{}
	for id, set := range doc.Providers["entra"].TenantJWKS {
		for _, k := range set.Keys {
			out[id] = append(out[id], k.Kid)
		}
	}
	return out
}

// TestTenantsAreFetchedOneKeySetEach: every allowed tenant's key set is
// found by the discovery document at its own issuer and rendered under its
// tenant id; a tenant the configuration does not allow is never asked.
func TestTenantsAreFetchedOneKeySetEach(t *testing.T) {
	op := tenantop.Start(t, tenantA, tenantB, tenantC)
	rec := fetchtest.NewRecorder()
	f, err := New([]byte(tenantConfig(op, "")), WithLogger(quiet), WithSink(rec))
	if err != nil {
		t.Fatal(err)
	}
	fetchtest.Run(t, f)
	cfg := rec.WaitFor(t, 10*time.Second, "both tenants have keys", func(c []byte) bool { return len(renderedTenants(t, c)) == 2 })
	got := renderedTenants(t, cfg)
	for _, id := range []string{tenantA, tenantB} {
		if len(got[id]) != 1 || got[id][0] != "k1" {
			t.Errorf("tenant %s rendered with kids %v, want [k1]", id, got[id])
		}
		if d, k := op.Fetches(id); d != 1 || k != 1 {
			t.Errorf("tenant %s: %d discoveries and %d key set fetches, want 1 and 1", id, d, k)
		}
	}
	// Each tenant's own keys: tenant A's "k1" is not tenant B's.
	var doc struct {
		Providers map[string]struct {
			TenantJWKS map[string]json.RawMessage `json:"tenant_jwks"`
		}
	}
	_ = json.Unmarshal(cfg, &doc)
	if a, b := doc.Providers["entra"].TenantJWKS[tenantA], doc.Providers["entra"].TenantJWKS[tenantB]; string(a) == string(b) {
		t.Fatalf("tenants A and B were rendered with the same key set %s", a)
	}
	if d, k := op.Fetches(tenantC); d != 0 || k != 0 {
		t.Errorf("the tenant not allowed was asked %d+%d times", d, k)
	}
	var names []string
	for _, st := range f.Status() {
		names = append(names, st.Name)
	}
	if strings.Join(names, ",") != "entra/"+tenantA+",entra/"+tenantB {
		t.Errorf("Status names %v, want one entry per tenant", names)
	}
	var metrics strings.Builder
	if err := f.WriteMetrics(&metrics); err != nil {
		t.Fatal(err)
	}
	if want := `jwksfetch_key_set_available{provider="entra/` + tenantB + `"} 1`; !strings.Contains(metrics.String(), want) {
		t.Errorf("metrics lack %q:\n%s", want, metrics.String())
	}
}

// TestTenantsDiscoveredIssuerMustMatch: a tenant whose discovery document
// names another issuer than the template's expansion gets no key set
// (its tokens get 503), and the other tenants are not held back.
func TestTenantsDiscoveredIssuerMustMatch(t *testing.T) {
	var base string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/good/v2.0/.well-known/openid-configuration":
			io.WriteString(w, `{"issuer":"`+base+`/good/v2.0","jwks_uri":"`+base+`/good/keys"}`)
		case "/liar/v2.0/.well-known/openid-configuration": // claims to be tenant "good"
			io.WriteString(w, `{"issuer":"`+base+`/good/v2.0","jwks_uri":"`+base+`/good/keys"}`)
		case "/good/keys":
			io.WriteString(w, set(newJWK(t, "ES256", "k1")))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	base = srv.URL
	rec := fetchtest.NewRecorder()
	f, err := New([]byte(`{"providers":{"entra":{"issuer":"`+base+`/{tenantid}/v2.0","tenants":["good","liar"]}}}`), WithLogger(quiet), WithSink(rec))
	if err != nil {
		t.Fatal(err)
	}
	fetchtest.Run(t, f)
	cfg := rec.WaitFor(t, 10*time.Second, "a first configuration", func([]byte) bool { return true })
	if got := renderedTenants(t, cfg); len(got) != 1 || got["good"] == nil {
		t.Fatalf("rendered tenants %v, want only \"good\"", got)
	}
	found := false
	for _, st := range f.Status() {
		if st.Name == "entra/liar" {
			found = true
			if st.Available || !strings.Contains(st.LastError, "issuer in the discovery document does not equal") {
				t.Fatalf("tenant liar: available %v, last error %q", st.Available, st.LastError)
			}
		}
	}
	if !found || f.Ready() {
		t.Fatalf("no status for tenant liar (%v), or ready without its keys (%v)", found, f.Ready())
	}
}

// TestTenantKeySetURLTemplate: a jwks_uri written as a template is expanded
// per tenant, and no discovery is made.
func TestTenantKeySetURLTemplate(t *testing.T) {
	op := tenantop.Start(t, tenantA, tenantB)
	out, _, err := Once(context.Background(), []byte(tenantConfig(op, `, "jwks_uri": "`+op.URL+`/{tenantid}/discovery/v2.0/keys"`)), WithLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	if got := renderedTenants(t, out); len(got) != 2 {
		t.Fatalf("rendered tenants %v", got)
	}
	for _, id := range []string{tenantA, tenantB} {
		if d, k := op.Fetches(id); d != 0 || k != 1 {
			t.Errorf("tenant %s: %d discoveries and %d fetches, want 0 and 1", id, d, k)
		}
	}
}

// TestTenantRefreshEndpoint drives POST /refresh with a tenant, as the
// plugin sends it when a token of that tenant names a kid its set lacks:
// only that tenant's key set is fetched again, and the answer says whose
// set it is.
func TestTenantRefreshEndpoint(t *testing.T) {
	op := tenantop.Start(t, tenantA, tenantB)
	f, err := New([]byte(tenantConfig(op, "")), WithLogger(quiet), WithOnDemandInterval(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	fetchtest.Run(t, f)
	for deadline := time.Now().Add(10 * time.Second); !f.Ready(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no first key sets")
		}
	}
	admin := httptest.NewServer(f.AdminHandler())
	t.Cleanup(admin.Close)
	op.Rotate(t, tenantB, "k2")
	_, fetchedA := op.Fetches(tenantA)

	tests := []struct {
		name, query      string
		status           int
		outcome, tenant  string // the answer's headers
		body, notInBody  string
		checkPluginTakes bool // the plugin's own checks of the answer pass
	}{
		{name: "tenant B's new kid: B's set, fetched again, names tenant B", query: refreshapi.TenantTarget("", "entra", tenantB, "k2")[1:],
			status: 200, outcome: "scheduled", tenant: tenantB, body: `"kid":"k2"`, checkPluginTakes: true},
		{name: "tenant A's known kid: A's set at once, naming tenant A", query: refreshapi.TenantTarget("", "entra", tenantA, "k1")[1:],
			status: 200, outcome: "known_kid", tenant: tenantA, body: `"kid":"k1"`, notInBody: `"kid":"k2"`, checkPluginTakes: true},
		{name: "a tenant not allowed", query: "provider=entra&tenant=" + tenantC + "&kid=k1",
			status: 404, outcome: "unknown_provider", body: `no fetched multi-tenant provider "entra" has the tenant "` + tenantC + `"`},
		{name: "a multi-tenant provider without a tenant", query: "provider=entra&kid=k1",
			status: 404, outcome: "unknown_provider", body: "has one key set per tenant: name the tenant"},
		{name: "a tenant of a single-tenant provider", query: "provider=inline&tenant=" + tenantA + "&kid=k1",
			status: 404, outcome: "unknown_provider", body: "no fetched multi-tenant provider"},
		{name: "the tenant twice", query: "provider=entra&tenant=" + tenantA + "&tenant=" + tenantB,
			status: 400, body: "given twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := http.Post(admin.URL+refreshapi.Path+"?"+tt.query, "", nil)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.status || resp.Header.Get(refreshapi.OutcomeHeader) != tt.outcome ||
				resp.Header.Get(refreshapi.TenantHeader) != tt.tenant || !strings.Contains(string(b), tt.body) ||
				tt.notInBody != "" && strings.Contains(string(b), tt.notInBody) {
				t.Fatalf("POST %s = %d, outcome %q, tenant %q, %s", tt.query, resp.StatusCode,
					resp.Header.Get(refreshapi.OutcomeHeader), resp.Header.Get(refreshapi.TenantHeader), b)
			}
			if tt.checkPluginTakes {
				if err := refreshapi.CheckAnswer(strconv.Itoa(resp.StatusCode), resp.Header.Get("Content-Type"), len(b)); err != nil {
					t.Fatal(err)
				}
				if err := refreshapi.CheckTenant(tt.tenant, resp.Header.Get(refreshapi.TenantHeader)); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
	if _, n := op.Fetches(tenantA); n != fetchedA {
		t.Errorf("tenant A's key set was fetched %d more times for tenant B's refresh", n-fetchedA)
	}
	if _, n := op.Fetches(tenantB); n != 2 {
		t.Errorf("tenant B's key set was fetched %d times, want 2 (start, refresh)", n)
	}
	if _, out, _ := f.RefreshTenantKeys(context.Background(), "nope", tenantA, "k1"); out != RefreshUnknownProvider {
		t.Errorf("RefreshTenantKeys of an unknown provider: %v", out)
	}
}

func TestTenantConfigErrors(t *testing.T) {
	tests := []struct {
		name, providers string
		err             string
	}{
		{name: "a template without tenants", providers: `"entra":{"issuer":"https://idp.test/{tenantid}"}`,
			err: "providers.entra.tenants: is required with an issuer template"},
		{name: "tenants without a template", providers: `"entra":{"issuer":"https://idp.test/x","tenants":["a"]}`,
			err: "providers.entra.issuer: the issuer template has no {tenantid} placeholder"},
		{name: "a malformed template", providers: `"entra":{"issuer":"https://{tenantid}.idp.test/","tenants":["a"]}`,
			err: "providers.entra.issuer: the issuer template must name a host"},
		{name: "a tenant id that is a path", providers: `"entra":{"issuer":"https://idp.test/{tenantid}","tenants":["a/../b"]}`,
			err: `providers.entra.tenants[0]: "a/../b" is not a tenant id`},
		{name: "a tenant twice", providers: `"entra":{"issuer":"https://idp.test/{tenantid}","tenants":["a","a"]}`,
			err: "providers.entra.tenants[1]: repeats tenant"},
		{name: "one key set for all tenants", providers: `"entra":{"issuer":"https://idp.test/{tenantid}","tenants":["a"],"jwks":{"keys":[]}}`,
			err: "providers.entra.jwks: does not apply to an issuer template"},
		{name: "a malformed key set URL template", providers: `"entra":{"issuer":"https://idp.test/{tenantid}","tenants":["a"],"jwks_uri":"https://idp.test/{tenant}/keys"}`,
			err: "providers.entra.jwks_uri: the key set URL template"},
		{name: "too many tenants", providers: `"entra":{"issuer":"https://idp.test/{tenantid}","tenants":["t` + strings.Repeat(`","t`, 256) + `"]}`,
			err: "lists 257 tenants; at most 256"},
		{name: "a provider named like a tenant's key set", providers: `"entra":{"issuer":"https://idp.test/{tenantid}","tenants":["a"]},"entra/a":{"issuer":"https://idp.test/x"}`,
			err: `tenant "a" of provider "entra" has the same name`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New([]byte(`{"providers":{`+tt.providers+`}}`), WithLogger(quiet))
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("New = %v, want an error with %q", err, tt.err)
			}
		})
	}
	t.Run("inline tenant keys are the configuration's own", func(t *testing.T) {
		f, err := New([]byte(`{"providers":{"entra":{"issuer":"https://idp.test/{tenantid}","tenants":["a"],"tenant_jwks":{"a":{"keys":[]}}}}}`), WithLogger(quiet))
		if err != nil || len(f.Status()) != 0 {
			t.Fatalf("New = %v, %d fetched key sets; want none fetched", err, len(f.Status()))
		}
	})
}
