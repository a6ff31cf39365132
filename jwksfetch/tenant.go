package jwksfetch

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/tokengate/tokengate/internal/tenancy"
)

// A multi-tenant provider has an issuer template with a {tenantid}
// placeholder, read by internal/tenancy exactly as the plugin reads it, and
// a list of allowed tenants ("tenants"). The fetcher expands the template
// for every allowed tenant and keeps each tenant's key set as if the tenant
// were a provider of its own, named "<provider>/<tenant>": discovered at
// <expanded issuer>/.well-known/openid-configuration (whose "issuer" must
// equal the expanded issuer) unless "jwks_uri" is given, which may be a
// template too; refreshed, rate-limited, withdrawn after max_stale and
// reported (Status, /readyz, /metrics, logs) on its own. The rendered
// configuration carries the sets in the provider's "tenant_jwks", keyed by
// tenant; a tenant without a set is left out, and the plugin answers its
// tokens with 503.
//
// Every allowed tenant is fetched from the start rather than on the first
// token of that tenant: RATIONALE.md, "Why fetch every allowed tenant's keys
// up front, and refresh one tenant at a time?".

// tenantProvider is a multi-tenant provider whose tenants' key sets the
// fetcher fetches.
type tenantProvider struct {
	ids []string // the allowed tenants, in configuration order
}

// tenantKey is the name under which the fetcher keeps the key set of one
// tenant of a multi-tenant provider.
func tenantKey(provider, tenant string) string { return provider + "/" + tenant }

// multiTenant reports whether p is written as a multi-tenant provider.
func (p *providerConfig) multiTenant() bool {
	return tenancy.IsTemplate(p.Issuer) || len(p.Tenants) > 0 || len(p.TenantJWKS) > 0 && string(p.TenantJWKS) != "null"
}

// addTenants checks the multi-tenant provider name and, unless its key
// sets are inline ("tenant_jwks"), adds one fetched key set per tenant.
func (d *document) addTenants(name string, p providerConfig) error {
	tmpl, err := tenancy.Parse(p.Issuer)
	if err != nil {
		return fmt.Errorf("jwksfetch: providers.%s.issuer: the issuer template %v", name, err)
	}
	if len(p.JWKS) > 0 && string(p.JWKS) != "null" {
		return fmt.Errorf("jwksfetch: providers.%s.jwks: does not apply to an issuer template: each tenant has its own key set, in \"tenant_jwks\"", name)
	}
	switch {
	case len(p.Tenants) == 0:
		return fmt.Errorf("jwksfetch: providers.%s.tenants: is required with an issuer template: the tenant ids whose keys to fetch", name)
	case len(p.Tenants) > tenancy.MaxTenants:
		return fmt.Errorf("jwksfetch: providers.%s.tenants: lists %d tenants; at most %d are allowed per provider", name, len(p.Tenants), tenancy.MaxTenants)
	}
	for i, id := range p.Tenants {
		if err := tenancy.CheckID(id); err != nil {
			return fmt.Errorf("jwksfetch: providers.%s.tenants[%d]: %v", name, i, err)
		}
		if slices.Contains(p.Tenants[:i], id) {
			return fmt.Errorf("jwksfetch: providers.%s.tenants[%d]: repeats tenant %q", name, i, id)
		}
	}
	var uri tenancy.Template
	if tenancy.IsTemplate(p.JWKSURI) {
		if uri, err = tenancy.Parse(p.JWKSURI); err != nil {
			return fmt.Errorf("jwksfetch: providers.%s.jwks_uri: the key set URL template %v", name, err)
		}
	}
	if len(p.TenantJWKS) > 0 && string(p.TenantJWKS) != "null" {
		return nil // the keys are the configuration's own
	}
	for _, id := range p.Tenants {
		cfg := p
		cfg.Tenants = nil
		cfg.Issuer = tmpl.Expand(id)
		if uri.String() != "" {
			cfg.JWKSURI = uri.Expand(id)
		}
		key := tenantKey(name, id)
		d.configs[key] = cfg
		d.fetched = append(d.fetched, key)
	}
	d.tenants[name] = &tenantProvider{ids: slices.Clone(p.Tenants)}
	return nil
}

// checkTenantNames refuses a configuration in which the name of a tenant's
// key set, "<provider>/<tenant>", is also the name of a provider.
func (d *document) checkTenantNames() error {
	for name, tp := range d.tenants {
		for _, id := range tp.ids {
			if _, clash := d.providers[tenantKey(name, id)]; clash {
				return fmt.Errorf("jwksfetch: providers.%s: tenant %q of provider %q has the same name; rename that provider", tenantKey(name, id), id, name)
			}
		}
	}
	return nil
}

// hasTenant reports whether provider is a multi-tenant provider whose
// tenant's key set the fetcher fetches.
func (d *document) hasTenant(provider, tenant string) bool {
	tp, ok := d.tenants[provider]
	return ok && slices.Contains(tp.ids, tenant)
}

// tenantOf returns the provider and tenant whose key set the fetcher keeps
// under name, when it is a tenant's.
func (d *document) tenantOf(name string) (provider, tenant string, ok bool) {
	for p, tp := range d.tenants {
		for _, id := range tp.ids {
			if tenantKey(p, id) == name {
				return p, id, true
			}
		}
	}
	return "", "", false
}

// render returns the members of the provider name with "tenant_jwks" set to
// the key sets now in force of its tenants, by tenant id; without
// "tenant_jwks" when no tenant has one.
func (tp *tenantProvider) render(name string, members, jwks map[string]json.RawMessage) (map[string]json.RawMessage, error) {
	sets := make(map[string]json.RawMessage, len(tp.ids))
	for _, id := range tp.ids {
		if set, ok := jwks[tenantKey(name, id)]; ok && set != nil {
			sets[id] = set
		}
	}
	m := make(map[string]json.RawMessage, len(members)+1)
	for k, v := range members {
		m[k] = v
	}
	if len(sets) == 0 {
		delete(m, "tenant_jwks")
		return m, nil
	}
	raw, err := json.Marshal(sets)
	if err != nil {
		return nil, fmt.Errorf("jwksfetch: rendering providers.%s.tenant_jwks: %w", name, err)
	}
	m["tenant_jwks"] = raw
	return m, nil
}

// RefreshTenantKeys is RefreshKeys for one tenant of a multi-tenant
// provider: it asks for an early fetch of that tenant's key set because a
// token of the tenant carried kid, waits like RefreshKeys, and returns the
// tenant's key set in force. The same rate limits apply, per tenant. A
// provider that is not multi-tenant, or a tenant it does not allow, is
// RefreshUnknownProvider.
func (f *Fetcher) RefreshTenantKeys(ctx context.Context, provider, tenant, kid string) (json.RawMessage, RefreshOutcome, error) {
	if !f.doc.hasTenant(provider, tenant) {
		return nil, RefreshUnknownProvider, nil
	}
	return f.RefreshKeys(ctx, tenantKey(provider, tenant), kid)
}
