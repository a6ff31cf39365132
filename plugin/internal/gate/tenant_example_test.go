package gate_test

import (
	"fmt"
	"strings"
	"time"

	"github.com/tokengate/tokengate/internal/issuer"
	"github.com/tokengate/tokengate/plugin/internal/gate"
)

// A multi-tenant Entra ID application: tokens of the two allowed tenants are
// accepted, each verified with its own tenant's keys and only when its
// "tid" is the tenant its "iss" names.
func Example_multiTenant() {
	const (
		template = "https://login.microsoftonline.com/{tenantid}/v2.0"
		contoso  = "72f988bf-86f1-41af-91ab-2d7cd011db47"
		fabrikam = "0b2a4c5e-1d3f-4e6a-8b9c-0d1e2f3a4b5c"
		other    = "11111111-2222-4333-8444-555555555555"
	)
	tenant := func(id string) *issuer.Issuer {
		iss, err := issuer.New(strings.Replace(template, "{tenantid}", id, 1), issuer.ES256)
		if err != nil {
			panic(err)
		}
		return iss
	}
	a, b, c := tenant(contoso), tenant(fabrikam), tenant(other)
	g, _, err := gate.Compile([]byte(`{"providers": {"entra": {
	  "issuer": "` + template + `", "preset": "entra", "audiences": ["api://scoring"],
	  "tenants": ["` + contoso + `", "` + fabrikam + `"],
	  "tenant_jwks": {"` + contoso + `": ` + string(a.JWKS()) + `, "` + fabrikam + `": ` + string(b.JWKS()) + `}}}}`))
	if err != nil {
		panic(err)
	}
	decide := func(what string, iss *issuer.Issuer, tid string) {
		tok, err := iss.Mint(issuer.Claims{"tid": tid, "aud": "api://scoring", "sub": "app"})
		if err != nil {
			panic(err)
		}
		d := g.Decide(&gate.Request{Headers: [][2]string{{":method", "GET"}, {":path", "/"}, {":authority", "api"},
			{"authorization", "Bearer " + tok}}}, time.Now())
		if d.Allow {
			fmt.Printf("%s: allowed (%s)\n", what, d.Provider)
		} else {
			fmt.Printf("%s: %d %s\n", what, d.Status, d.Code)
		}
	}
	decide("contoso", a, contoso)
	decide("fabrikam", b, fabrikam)
	decide("a tenant not allowed", c, other)
	decide("contoso's iss, fabrikam's tid", a, fabrikam)
	decide("contoso's iss, fabrikam's key", &issuer.Issuer{URL: a.URL, Keys: b.Keys}, contoso)
	// Output:
	// contoso: allowed (entra)
	// fabrikam: allowed (entra)
	// a tenant not allowed: 401 issuer_not_accepted
	// contoso's iss, fabrikam's tid: 401 claim_not_accepted
	// contoso's iss, fabrikam's key: 401 signature_invalid
}
