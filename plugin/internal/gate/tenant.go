package gate

import (
	"strconv"

	"github.com/tidwall/gjson"

	"github.com/tokengate/tokengate/internal/jwk"
	"github.com/tokengate/tokengate/internal/tenancy"
)

// tenants is what a multi-tenant provider adds to a provider: an issuer
// template such as https://login.microsoftonline.com/{tenantid}/v2.0 (the
// grammar is internal/tenancy's, which jwksfetch reads too), the tenants
// whose tokens are accepted, and one key set per tenant.
//
// A token is this provider's when its "iss" is one of the templates filled
// with an allowed tenant, exactly; it is then verified with that tenant's
// keys only, so a token of tenant A never verifies with a key of tenant B,
// even a key with the same kid; and its "tid" must name the same tenant,
// so a tenant cannot sign tokens that claim to be another tenant's.
type tenants struct {
	templates []tenancy.Template // the issuer's, then each also_issuers'
	ids       []string           // the allowed tenants, in configuration order
	index     map[string]int     // tenant id → its position in ids and keys
	keys      []*jwk.Set         // each tenant's key set; nil: none yet (503)
}

// tenantClaim is the claim that names the token's tenant (Entra ID's "tid").
const tenantClaim = "tid"

// noTenant is the tenant position of a provider without a template.
const noTenant = -1

// tenancy reads the issuer template, "tenants" and "tenant_jwks" of p, whose
// issuer and also_issuers are already read. A provider whose issuer is not a
// template may have neither of the other two.
func (c *compiler) tenancy(path string, v gjson.Result, p *provider) {
	list, sets := v.Get("tenants"), v.Get("tenant_jwks")
	if !tenancy.IsTemplate(p.issuer) {
		const why = "applies only to an issuer template with a " + tenancy.Placeholder + " placeholder, e.g. https://login.microsoftonline.com/" + tenancy.Placeholder + "/v2.0"
		if list.Exists() {
			c.fail(path+".tenants", why)
		}
		if sets.Exists() {
			c.fail(path+".tenant_jwks", why)
		}
		for i, a := range p.alsoIssuers {
			if tenancy.IsTemplate(a) {
				c.fail(path+".also_issuers["+strconv.Itoa(i)+"]", "is a template but \"issuer\" is not: write both as templates (with \"tenants\"), or neither")
			}
		}
		return
	}
	tmpl, err := tenancy.Parse(p.issuer)
	if err != nil {
		c.fail(path+".issuer", "the issuer template "+err.Error())
		return
	}
	if p.introspect != nil {
		// Its answers' iss would be matched against the literal template
		// and never accepted: refuse it here, with the reason.
		c.fail(path+".issuer", "cannot be a template on an introspection provider: write the tenant's issuer, one provider per tenant")
		return
	}
	t := &tenants{templates: []tenancy.Template{tmpl}, index: map[string]int{}}
	guids := p.preset == "entra" || tmpl.Entra()
	for i, a := range p.alsoIssuers {
		at, err := tenancy.Parse(a)
		if err != nil {
			c.fail(path+".also_issuers["+strconv.Itoa(i)+"]", "must be a template too, since \"issuer\" is one: "+err.Error())
			return
		}
		t.templates = append(t.templates, at)
		guids = guids || at.Entra()
	}
	if v.Get("jwks").Exists() {
		c.fail(path+".jwks", "does not apply to an issuer template: each tenant has its own key set, in \"tenant_jwks\" (which jwksfetch fills in)")
		return
	}
	if !list.Exists() {
		c.fail(path+".tenants", "is required with an issuer template: the tenant ids whose tokens are accepted")
		return
	}
	if !list.IsArray() || len(list.Array()) == 0 {
		c.fail(path+".tenants", "must be a non-empty array of tenant ids")
		return
	}
	if n := len(list.Array()); n > tenancy.MaxTenants {
		c.fail(path+".tenants", "lists "+strconv.Itoa(n)+" tenants; at most "+strconv.Itoa(tenancy.MaxTenants)+" are allowed per provider")
		return
	}
	check := tenancy.CheckID
	if guids {
		check = tenancy.CheckGUID // Entra ID: tenant ids are GUIDs
	}
	for i, e := range list.Array() {
		ep := path + ".tenants[" + strconv.Itoa(i) + "]"
		if e.Type != gjson.String {
			c.fail(ep, "must be a string")
			return
		}
		if err := check(e.Str); err != nil {
			c.fail(ep, err.Error())
			return
		}
		if _, dup := t.index[e.Str]; dup {
			c.fail(ep, "repeats tenant "+strconv.Quote(e.Str))
			return
		}
		t.index[e.Str] = len(t.ids)
		t.ids = append(t.ids, e.Str)
	}
	// Two templates could name two tenants with one issuer
	// (https://idp/{tenantid}/b and https://idp/c/{tenantid} both give
	// https://idp/c/b); which tenant such a token belongs to would be a guess.
	if len(t.templates) > 1 {
		owner := make(map[string]string, len(t.templates)*len(t.ids))
		for _, tmpl := range t.templates {
			for _, id := range t.ids {
				iss := tmpl.Expand(id)
				if other, ok := owner[iss]; ok && other != id {
					c.fail(path+".also_issuers", "the issuer templates give tenants "+strconv.Quote(other)+" and "+strconv.Quote(id)+
						" the same issuer "+strconv.Quote(iss)+"; each issuer must name one tenant")
					return
				}
				owner[iss] = id
			}
		}
	}
	t.keys = make([]*jwk.Set, len(t.ids))
	if sets.Exists() {
		if !sets.IsObject() {
			c.fail(path+".tenant_jwks", "must be an object keyed by tenant id, each value an RFC 7517 JWK Set")
			return
		}
		sets.ForEach(func(k, set gjson.Result) bool {
			kp := path + ".tenant_jwks." + k.Str
			i, ok := t.index[k.Str]
			if !ok {
				c.fail(kp, "is not one of \"tenants\"")
				return false
			}
			raw := set.Raw
			if set.Type == gjson.String {
				raw = set.Str // a key set embedded as a JSON string
			}
			s, warnings, err := jwk.Parse([]byte(raw))
			if err != nil {
				c.fail(kp, err.Error())
				return false
			}
			for _, w := range warnings {
				c.warnings = append(c.warnings, kp+"."+w)
			}
			t.keys[i] = s
			return true
		})
	}
	p.tenants = t
}

// match returns the position of the allowed tenant that iss names through
// one of the templates, or noTenant. It does not allocate.
func (t *tenants) match(iss string) int {
	for _, tmpl := range t.templates {
		if id, ok := tmpl.Tenant(iss); ok {
			if i, ok := t.index[id]; ok {
				return i
			}
		}
	}
	return noTenant
}

// issuerTenant reports whether p takes tokens whose "iss" is iss and, for a
// multi-tenant provider, the position of the tenant iss names (noTenant for
// a provider without a template).
func (p *provider) issuerTenant(iss string) (int, bool) {
	if p.tenants == nil {
		return noTenant, p.acceptsIssuer(iss)
	}
	i := p.tenants.match(iss)
	return i, i != noTenant
}

// keySet is the key set that verifies p's tokens of tenant (a position, or
// noTenant): nil when it has not arrived.
func (p *provider) keySet(tenant int) *jwk.Set {
	if tenant == noTenant || p.tenants == nil {
		return p.keys
	}
	return p.tenants.keys[tenant]
}

// tenantID is the id of tenant (a position), or "" for noTenant.
func (p *provider) tenantID(tenant int) string {
	if tenant == noTenant || p.tenants == nil {
		return ""
	}
	return p.tenants.ids[tenant]
}

// checkTenant requires a multi-tenant token's "tid" to be the tenant its
// "iss" names.
func (p *provider) checkTenant(t *jws, tenant int) error {
	if tenant == noTenant || p.tenants == nil {
		return nil
	}
	tid := t.claims.Get(tenantClaim)
	if tid.Type != gjson.String || tid.Str != p.tenants.ids[tenant] {
		return ErrClaimNotAccepted
	}
	return nil
}

// tenantDetail is the log-only part of a refusal about a multi-tenant
// token: the tenant its "iss" names, and its "tid".
func (p *provider) tenantDetail(t *jws, tenant int) string {
	if tenant == noTenant || p.tenants == nil {
		return ""
	}
	return "tenant " + strconv.Quote(p.tenants.ids[tenant]) + ", tid " + logValue(t.claims.Get(tenantClaim).Raw) + ", "
}

// tenantKeys returns the key set in force for tenant ("" for a provider
// without a template), and false when p has no such tenant, or has tenants
// and tenant is "".
func (p *provider) tenantKeys(tenant string) (*jwk.Set, bool) {
	if p.tenants == nil {
		return p.keys, tenant == ""
	}
	i, ok := p.tenants.index[tenant]
	if !ok {
		return nil, false
	}
	return p.tenants.keys[i], true
}

// setTenantKeys installs set for tenant, which tenantKeys accepted.
func (p *provider) setTenantKeys(tenant string, set *jwk.Set) {
	if p.tenants == nil {
		p.keys = set
		return
	}
	p.tenants.keys[p.tenants.index[tenant]] = set
}
