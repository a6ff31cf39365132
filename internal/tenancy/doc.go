// Package tenancy is the one definition of issuer templates: an issuer
// written with one {tenantid} placeholder, such as Entra ID's
// https://login.microsoftonline.com/{tenantid}/v2.0, and the grammar of the
// tenant ids that may fill it. A multi-tenant provider signs each tenant's
// tokens with that tenant's keys and writes the tenant into "iss", so a
// verifier must take the tenant from "iss" exactly, never by a prefix or a
// pattern, and must refuse any tenant it was not told to trust.
//
// Two sides read templates and must read them alike: the plugin
// (plugin/internal/gate), which matches a token's "iss" against the template
// and its allow-list of tenants, and jwksfetch, which expands the template
// for each allowed tenant to find that tenant's discovery document and key
// set. A template the two read differently would be keys fetched for one
// issuer and trusted for another, so both import this package.
//
//	t, err := tenancy.Parse("https://login.microsoftonline.com/{tenantid}/v2.0")
//	iss := t.Expand("72f988bf-86f1-41af-91ab-2d7cd011db47")
//	id, ok := t.Tenant(iss) // the same id, true
//
// It depends on the standard library's strings and strconv only, because
// the plugin links it into its Wasm module.
package tenancy
