package refreshapi

import (
	"errors"
	"strconv"
)

// Multi-tenant providers (an issuer template with a {tenantid}
// placeholder, internal/tenancy) have one key set per tenant, and a token
// names a kid that one tenant's set lacks. The exchange then names the
// tenant too, in a way that stays compatible in both directions:
//
//   - the request adds the query parameter tenant=<id> (TenantTarget); a
//     request without it is exactly the request of version 1, and a fetcher
//     of version 1 ignores the parameter it does not know;
//   - the answer repeats the tenant in TenantHeader. A plugin accepts the
//     key set of a tenant only with that header (CheckTenant), so an answer
//     from a fetcher that did not read the tenant, which could only be some
//     other key set, is never installed as the tenant's.
const (
	// TenantHeader names, in the answer to a request about a tenant, the
	// tenant whose key set the body is.
	TenantHeader = "jwksfetch-refresh-tenant"

	paramTenant = "tenant"
)

// Request is what a refresh request asks for.
type Request struct {
	Provider string
	Tenant   string // "" unless Provider is multi-tenant
	KID      string // may be ""
}

// TenantTarget returns path with the query that asks for the key set of
// tenant of provider because of kid; with tenant "" it is Target. Like
// Target, it percent-encodes everything but unreserved characters.
func TenantTarget(path, provider, tenant, kid string) string {
	if tenant == "" {
		return Target(path, provider, kid)
	}
	return path + "?" + paramProvider + "=" + escape(provider) + "&" + paramTenant + "=" + escape(tenant) + "&" + paramKID + "=" + escape(kid)
}

// ParseRequest reads a refresh request's raw query: the provider (required),
// the tenant and the kid. Unknown parameters are ignored; a repeated one is
// an error.
func ParseRequest(rawQuery string) (Request, error) {
	provider, tenant, kid, err := parse(rawQuery)
	if err != nil {
		return Request{}, err
	}
	return Request{Provider: provider, Tenant: tenant, KID: kid}, nil
}

// CheckTenant checks that an answer to a request about tenant says, in
// TenantHeader, that its key set is that tenant's; answered is the header's
// value ("" when absent). A request without a tenant needs no header.
func CheckTenant(tenant, answered string) error {
	if tenant == "" || answered == tenant {
		return nil
	}
	if answered == "" {
		return errors.New("refreshapi: the answer does not say which tenant's key set it is (no " + TenantHeader + " header): the fetcher does not serve multi-tenant providers; upgrade it")
	}
	return errors.New("refreshapi: the answer is the key set of tenant " + strconv.Quote(answered) + ", not of " + strconv.Quote(tenant))
}
