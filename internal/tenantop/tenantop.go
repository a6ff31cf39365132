package tenantop

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/tokengate/tokengate/internal/issuer"
	"github.com/tokengate/tokengate/internal/tenancy"
)

// Provider is a running multi-tenant provider.
type Provider struct {
	// URL is the server's base URL, http://127.0.0.1:<port>.
	URL string

	mu      sync.Mutex
	tenants map[string]*tenant
}

type tenant struct {
	iss                  *issuer.Issuer
	discoveries, fetches int
}

// Start serves the given tenants, each with a fresh RS256 key named "k1",
// until the test ends.
func Start(t testing.TB, tenants ...string) *Provider {
	t.Helper()
	p := &Provider{tenants: map[string]*tenant{}}
	srv := httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(srv.Close)
	p.URL = srv.URL
	for _, id := range tenants {
		if err := tenancy.CheckID(id); err != nil {
			t.Fatalf("tenantop: tenant %q: %v", id, err)
		}
		k, err := issuer.NewKey(issuer.RS256, "k1")
		if err != nil {
			t.Fatal(err)
		}
		p.tenants[id] = &tenant{iss: &issuer.Issuer{URL: p.Issuer(id), Keys: []*issuer.Key{k}}}
	}
	return p
}

// Template is the provider's issuer template.
func (p *Provider) Template() string { return p.URL + "/" + tenancy.Placeholder + "/v2.0" }

// Issuer is the issuer of tenant.
func (p *Provider) Issuer(tenant string) string { return p.URL + "/" + tenant + "/v2.0" }

// Keys returns the JWK Set tenant publishes.
func (p *Provider) Keys(t testing.TB, tenant string) []byte {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.get(t, tenant).iss.JWKS()
}

func (p *Provider) get(t testing.TB, id string) *tenant {
	t.Helper()
	tn := p.tenants[id]
	if tn == nil {
		t.Fatalf("tenantop: no tenant %q", id)
	}
	return tn
}

// Mint signs a token of tenant with its newest key: "iss" is the tenant's
// issuer and "tid" the tenant, unless claims set them (nil removes one).
func (p *Provider) Mint(t testing.TB, tenant string, claims issuer.Claims, opts ...issuer.MintOption) string {
	t.Helper()
	p.mu.Lock()
	iss := p.get(t, tenant).iss
	newest := iss.Keys[len(iss.Keys)-1].Kid
	p.mu.Unlock()
	c := issuer.Claims{"tid": tenant}
	for k, v := range claims {
		c[k] = v
	}
	var drop []string
	for k, v := range c {
		if v == nil {
			drop = append(drop, k)
		}
	}
	for _, k := range drop {
		delete(c, k)
	}
	tok, err := iss.Mint(c, append([]issuer.MintOption{issuer.WithKey(newest)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// Signer returns tenant's signing keys under another issuer URL, to mint
// tokens that claim one tenant and are signed by another.
func (p *Provider) Signer(t testing.TB, tenant, url string) *issuer.Issuer {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	return &issuer.Issuer{URL: url, Keys: p.get(t, tenant).iss.Keys}
}

// Rotate adds a key named kid to tenant's set, which the tenant signs with
// from now on; the old keys stay published.
func (p *Provider) Rotate(t testing.TB, tenant, kid string) {
	t.Helper()
	k, err := issuer.NewKey(issuer.RS256, kid)
	if err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	tn := p.get(t, tenant)
	tn.iss.Keys = append(tn.iss.Keys, k)
}

// Fetches returns how many times tenant's discovery document and key set
// were fetched.
func (p *Provider) Fetches(tenant string) (discoveries, keySets int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	tn := p.tenants[tenant]
	if tn == nil {
		return 0, 0
	}
	return tn.discoveries, tn.fetches
}

// serve answers GET /<tenant>/v2.0/.well-known/openid-configuration and
// GET /<tenant>/discovery/v2.0/keys; anything else is 404, as is a tenant
// it does not serve.
func (p *Provider) serve(w http.ResponseWriter, r *http.Request) {
	id, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	p.mu.Lock()
	tn := p.tenants[id]
	if r.Method != http.MethodGet || tn == nil {
		p.mu.Unlock()
		http.NotFound(w, r)
		return
	}
	var body []byte
	switch rest {
	case "v2.0/.well-known/openid-configuration":
		tn.discoveries++
		body, _ = json.Marshal(map[string]any{
			"issuer":                                p.Issuer(id),
			"jwks_uri":                              p.URL + "/" + id + "/discovery/v2.0/keys",
			"token_endpoint":                        p.URL + "/" + id + "/oauth2/v2.0/token",
			"id_token_signing_alg_values_supported": []string{"RS256"},
		})
	case "discovery/v2.0/keys":
		tn.fetches++
		body = tn.iss.JWKS()
	}
	p.mu.Unlock()
	if body == nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(body)
}
