package gate

import (
	"strconv"
	"strings"
	"testing"
)

// TestRefusedKeySetNamesItsTenant: the error for a key set the fetcher sent
// and the gate refused names the provider, and the tenant only when the set
// is a tenant's.
func TestRefusedKeySetNamesItsTenant(t *testing.T) {
	f := newTenantFixture(t)
	tests := []struct {
		name, provider, tenant, jwks string
		want                         string // the start of the error
	}{
		{name: "a tenant's set that is not a key set", provider: "entra", tenant: tenantA, jwks: `{"keys": 1}`,
			want: `key refresh: the key set of provider "entra" (tenant ` + strconv.Quote(tenantA) + `) from the fetcher is refused, keeping the keys in force: `},
		{name: "a tenant's set without a usable key", provider: "entra", tenant: tenantB, jwks: `{"keys": []}`,
			want: `key refresh: the key set of provider "entra" (tenant ` + strconv.Quote(tenantB) + `) from the fetcher `},
		{name: "a provider's set that is not a key set", provider: "corp", jwks: `{"keys": 1}`,
			want: `key refresh: the key set of provider "corp" from the fetcher is refused, keeping the keys in force: `},
		{name: "a provider's set without a usable key", provider: "corp", jwks: `{"keys": []}`,
			want: `key refresh: the key set of provider "corp" from the fetcher `},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := compile(t, f.config(""))
			_, err := g.ReplaceTenantKeys(tt.provider, tt.tenant, []byte(tt.jwks))
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("ReplaceTenantKeys(%q, %q) = %v, want an error starting %q", tt.provider, tt.tenant, err, tt.want)
			}
		})
	}
}
