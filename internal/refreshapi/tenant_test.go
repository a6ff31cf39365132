package refreshapi_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/tokengate/tokengate/internal/refreshapi"
)

func TestParseRequest(t *testing.T) {
	tests := []struct {
		name, query string
		want        refreshapi.Request
		err         string
	}{
		{name: "a provider and a kid, as version 1 sends them", query: "provider=corp&kid=k1",
			want: refreshapi.Request{Provider: "corp", KID: "k1"}},
		{name: "a tenant of a multi-tenant provider", query: "provider=entra&tenant=72f988bf-86f1-41af-91ab-2d7cd011db47&kid=k1",
			want: refreshapi.Request{Provider: "entra", Tenant: "72f988bf-86f1-41af-91ab-2d7cd011db47", KID: "k1"}},
		{name: "parameters in any order, unknown ones ignored", query: "kid=k1&x=1&tenant=t&provider=p",
			want: refreshapi.Request{Provider: "p", Tenant: "t", KID: "k1"}},
		{name: "a percent-encoded tenant", query: "provider=p&tenant=a%2Fb", want: refreshapi.Request{Provider: "p", Tenant: "a/b"}},
		{name: "the tenant twice", query: "provider=p&tenant=a&tenant=b", err: "given twice"},
		{name: "a tenant without a provider", query: "tenant=a&kid=k", err: "provider is required"},
		{name: "a badly encoded tenant", query: "provider=p&tenant=%zz", err: "percent-encoded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := refreshapi.ParseRequest(tt.query)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("ParseRequest(%q) = %+v, %v; want an error with %q", tt.query, got, err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseRequest(%q) = %+v, %v; want %+v", tt.query, got, err, tt.want)
			}
		})
	}
}

// TestParseIgnoresTheTenant: a caller that reads requests with Parse (a
// fetcher of version 1) sees a tenant request as the provider's request;
// the answer then lacks TenantHeader, and CheckTenant refuses it.
func TestParseIgnoresTheTenant(t *testing.T) {
	target := refreshapi.TenantTarget(refreshapi.Path, "entra", "t1", "k1")
	_, query, _ := strings.Cut(target, "?")
	p, k, err := refreshapi.Parse(query)
	if err != nil || p != "entra" || k != "k1" {
		t.Fatalf("Parse(%q) = %q, %q, %v", query, p, k, err)
	}
	if err := refreshapi.CheckTenant("t1", ""); err == nil || !strings.Contains(err.Error(), "upgrade it") {
		t.Fatalf("an answer without %s was accepted for a tenant: %v", refreshapi.TenantHeader, err)
	}
}

func TestCheckTenant(t *testing.T) {
	for _, tt := range []struct {
		name, tenant, answered, err string
	}{
		{"a provider without tenants needs no header", "", "", ""},
		{"a provider without tenants ignores one", "", "t1", ""},
		{"the tenant asked for", "t1", "t1", ""},
		{"no header", "t1", "", "no jwksfetch-refresh-tenant header"},
		{"another tenant", "t1", "t2", `tenant "t2", not of "t1"`},
		{"another case", "t1", "T1", `tenant "T1", not of "t1"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := refreshapi.CheckTenant(tt.tenant, tt.answered)
			if tt.err == "" && err != nil || tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
				t.Fatalf("CheckTenant(%q, %q) = %v, want %q", tt.tenant, tt.answered, err, tt.err)
			}
		})
	}
}

// FuzzTenantRoundTrip: whatever provider, tenant and kid the plugin puts in
// a request, ParseRequest reads back exactly, and so does net/url; nothing
// in a kid or tenant can add or change a parameter.
func FuzzTenantRoundTrip(f *testing.F) {
	f.Add("entra", "72f988bf-86f1-41af-91ab-2d7cd011db47", "k1")
	f.Add("corp", "", "k1")
	f.Add("p", "t&provider=other", "x&tenant=evil")
	f.Fuzz(func(t *testing.T, provider, tenant, kid string) {
		if provider == "" {
			return
		}
		target := refreshapi.TenantTarget(refreshapi.Path, provider, tenant, kid)
		u, err := url.Parse(target)
		if err != nil {
			t.Fatalf("%q does not parse as a URL: %v", target, err)
		}
		q := u.Query()
		want := 3
		if tenant == "" {
			want = 2
		}
		if u.Path != refreshapi.Path || len(q) != want || q.Get("provider") != provider || q.Get("tenant") != tenant || q.Get("kid") != kid {
			t.Fatalf("net/url reads %q as %v", target, q)
		}
		r, err := refreshapi.ParseRequest(u.RawQuery)
		if err != nil || r != (refreshapi.Request{Provider: provider, Tenant: tenant, KID: kid}) {
			t.Fatalf("ParseRequest(%q) = %+v, %v", u.RawQuery, r, err)
		}
	})
}

func ExampleTenantTarget() {
	fmt.Println(refreshapi.TenantTarget(refreshapi.Path, "entra", "72f988bf-86f1-41af-91ab-2d7cd011db47", "key 2"))
	fmt.Println(refreshapi.TenantTarget(refreshapi.Path, "corp", "", "key 2"))
	// Output:
	// /refresh?provider=entra&tenant=72f988bf-86f1-41af-91ab-2d7cd011db47&kid=key%202
	// /refresh?provider=corp&kid=key%202
}
