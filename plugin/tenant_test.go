//go:build !wasip1

package main

import (
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/tokengate/tokengate/host"
	"github.com/tokengate/tokengate/internal/issuer"
	"github.com/tokengate/tokengate/internal/refreshapi"
	"github.com/tokengate/tokengate/testhost"
)

const (
	entraTemplate = "https://login.microsoftonline.com/{tenantid}/v2.0"
	tenantA       = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	tenantB       = "0b2a4c5e-1d3f-4e6a-8b9c-0d1e2f3a4b5c"
	tenantC       = "11111111-2222-4333-8444-555555555555" // not allowed
	tenantD       = "99999999-8888-4777-8666-555555555555" // allowed, no key set
)

// tenantIssuer is a tenant of the multi-tenant provider, signing with an
// ES256 key named "k1" of its own.
func tenantIssuer(t testing.TB, tenant string) *issuer.Issuer {
	t.Helper()
	k, err := issuer.NewKey(issuer.ES256, "k1")
	if err != nil {
		t.Fatal(err)
	}
	return &issuer.Issuer{URL: strings.Replace(entraTemplate, "{tenantid}", tenant, 1), Keys: []*issuer.Key{k}}
}

func tenantsConfig(a, b *issuer.Issuer, more string) string {
	return `{` + more + `"providers": {"entra": {"issuer": "` + entraTemplate + `", "preset": "entra", "audiences": ["` + aud + `"],
	  "tenants": ["` + tenantA + `", "` + tenantB + `", "` + tenantD + `"],
	  "tenant_jwks": {"` + tenantA + `": ` + string(a.JWKS()) + `, "` + tenantB + `": ` + string(b.JWKS()) + `},
	  "claim_to_headers": [{"claim": "tid", "header": "x-tenant"}]}}}`
}

// TestPluginTenants drives the real module with a multi-tenant provider:
// each allowed tenant's tokens verify with that tenant's keys only, and
// only when "tid" is the tenant "iss" names.
func TestPluginTenants(t *testing.T) { forEachEnvoy(t, testPluginTenants) }

func testPluginTenants(t *testing.T, opts ...testhost.Option) {
	a, b, c := tenantIssuer(t, tenantA), tenantIssuer(t, tenantB), tenantIssuer(t, tenantC)
	th := testhost.New(t, tenantsConfig(a, b, ""), opts...)
	mintAs := func(iss *issuer.Issuer, url string, tid any) string {
		return "Bearer " + token(t, &issuer.Issuer{URL: url, Keys: iss.Keys}, issuer.Claims{"tid": tid})
	}
	tests := []struct {
		name, authorization string
		status              int // 0: continued upstream
		tenant              string
	}{
		{name: "tenant A", authorization: mintAs(a, a.URL, tenantA), tenant: tenantA},
		{name: "tenant B", authorization: mintAs(b, b.URL, tenantB), tenant: tenantB},
		{name: "tenant A's v1.0 issuer", authorization: mintAs(a, "https://sts.windows.net/"+tenantA+"/", tenantA), tenant: tenantA},
		{name: "a tenant not allowed", authorization: mintAs(c, c.URL, tenantC), status: 401},
		{name: "tid of B in a token of A", authorization: mintAs(a, a.URL, tenantB), status: 401},
		{name: "no tid", authorization: mintAs(a, a.URL, nil), status: 401},
		{name: "A's iss and tid, signed by B's key of the same kid", authorization: mintAs(b, a.URL, tenantA), status: 401},
		{name: "an allowed tenant without keys", authorization: mintAs(a, strings.Replace(entraTemplate, "{tenantid}", tenantD, 1), tenantD), status: 503},
		{name: "iss with a suffix", authorization: mintAs(a, a.URL+"/", tenantA), status: 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := th.Do(t, testhost.Request{Headers: [][2]string{{"authorization", tt.authorization}}})
			if tt.status == 0 {
				if !res.Continued {
					t.Fatalf("refused with %d %s\n%s", res.Status, res.Body, strings.Join(res.Logs, "\n"))
				}
				if got := upstream(res, "x-tenant"); got != tt.tenant {
					t.Fatalf("x-tenant upstream %q, want %q", got, tt.tenant)
				}
				return
			}
			if res.Continued || res.Status != tt.status {
				t.Fatalf("continued %v, status %d; want %d", res.Continued, res.Status, tt.status)
			}
		})
	}
}

// TestPluginRefreshesOneTenant: a kid tenant B's set lacks pauses the
// request and asks the fetcher for tenant B's key set only; the answer must
// say it is tenant B's.
func TestPluginRefreshesOneTenant(t *testing.T) {
	a, b := tenantIssuer(t, tenantA), tenantIssuer(t, tenantB)
	cfg := tenantsConfig(a, b, `"refresh": {"cluster": "jwksfetch", "timeout_ms": 500},`)
	rotated, err := issuer.NewKey(issuer.ES256, "k2")
	if err != nil {
		t.Fatal(err)
	}
	bNew := &issuer.Issuer{URL: b.URL, Keys: append(append([]*issuer.Key(nil), b.Keys...), rotated)}
	newToken := "Bearer " + token(t, bNew, issuer.Claims{"tid": tenantB}, issuer.WithKey("k2"))

	tests := []struct {
		name     string
		answered string // the tenant the answer names; "-" for no header
		body     []byte
		status   int // 0: continued
		log      string
	}{
		{name: "tenant B's new set, named as B's: the request goes on", answered: tenantB, body: bNew.JWKS(),
			log: "installed the fetcher's key set for provider entra (tenant " + tenantB + ")"},
		{name: "an answer that does not name the tenant is not installed", answered: "-", body: bNew.JWKS(), status: 401,
			log: "does not say which tenant's key set it is"},
		{name: "an answer naming another tenant is not installed", answered: tenantA, body: bNew.JWKS(), status: 401,
			log: `the answer is the key set of tenant "` + tenantA + `", not of "` + tenantB + `"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls atomic.Int32
			var query atomic.Value
			rt := fetcherFunc(func(r *http.Request) (*http.Response, error) {
				if r.URL.Query().Get("tenant") == tenantA { // tenant A's own set, for the checks at the end
					res := answer(200, refreshapi.ContentType, a.JWKS())
					res.Header.Set(refreshapi.TenantHeader, tenantA)
					return res, nil
				}
				calls.Add(1)
				query.Store(r.URL.RawQuery)
				res := answer(200, refreshapi.ContentType, tt.body)
				if tt.answered != "-" {
					res.Header.Set(refreshapi.TenantHeader, tt.answered)
				}
				return res, nil
			})
			th := testhost.New(t, cfg, testhost.WithHostOption(host.WithUpstreamTransport("jwksfetch", "http://jwksfetch", rt)))
			res := th.Do(t, testhost.Request{Headers: [][2]string{{"authorization", newToken}}})
			logs := strings.Join(res.Logs, "\n")
			if !strings.Contains(logs, tt.log) {
				t.Errorf("the log does not say %q:\n%s", tt.log, logs)
			}
			if tt.status == 0 && !res.Continued || tt.status != 0 && (res.Continued || res.Status != tt.status) {
				t.Fatalf("continued %v, status %d; want %d\n%s", res.Continued, res.Status, tt.status, logs)
			}
			if q, _ := query.Load().(string); calls.Load() != 1 || q != "provider=entra&tenant="+tenantB+"&kid=k2" {
				t.Fatalf("%d calls, the last %q; want one asking for tenant B because of k2", calls.Load(), q)
			}
			// Tenant A's keys are untouched whatever the answer: A's token
			// verifies, and B's new key does not verify a token of A.
			if res := th.Do(t, testhost.Request{Headers: [][2]string{{"authorization", "Bearer " + token(t, a, issuer.Claims{"tid": tenantA})}}}); !res.Continued {
				t.Fatalf("tenant A after B's refresh: %d", res.Status)
			}
			asA := "Bearer " + token(t, &issuer.Issuer{URL: a.URL, Keys: bNew.Keys}, issuer.Claims{"tid": tenantA}, issuer.WithKey("k2"))
			if res := th.Do(t, testhost.Request{Headers: [][2]string{{"authorization", asA}}}); res.Continued {
				t.Fatal("tenant B's new key verified a token of tenant A")
			}
		})
	}
}
