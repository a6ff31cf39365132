package tenancy_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/tokengate/tokengate/internal/tenancy"
)

const entraV2 = "https://login.microsoftonline.com/{tenantid}/v2.0"

func TestParse(t *testing.T) {
	tests := []struct {
		name     string
		template string
		err      string // a part of the error; "" when the template is good
	}{
		{name: "Entra ID v2.0", template: entraV2},
		{name: "Entra ID v1.0, placeholder before a trailing slash", template: "https://sts.windows.net/{tenantid}/"},
		{name: "the placeholder as the last segment", template: "https://idp.example.com/realms/{tenantid}"},
		{name: "plain http on loopback, with a port", template: "http://127.0.0.1:8080/{tenantid}/v2.0"},
		{name: "no placeholder", template: "https://login.microsoftonline.com/common/v2.0", err: "has no {tenantid} placeholder"},
		{name: "a placeholder in upper case", template: "https://login.microsoftonline.com/{TenantId}/v2.0", err: "has no {tenantid} placeholder"},
		{name: "another placeholder", template: "https://idp.example.com/{tenantid}/{region}", err: "brace outside"},
		{name: "a stray brace", template: "https://idp.example.com/{tenantid}/x}", err: "brace outside"},
		{name: "two placeholders", template: "https://idp.example.com/{tenantid}/{tenantid}", err: "exactly once"},
		{name: "the placeholder in the host", template: "https://{tenantid}.b2clogin.com/v2.0", err: "must name a host"},
		{name: "the placeholder as the host", template: "https://{tenantid}/v2.0", err: "must name a host"},
		{name: "a prefix glued to the placeholder", template: "https://idp.example.com/t-{tenantid}/v2.0", err: "whole path segment"},
		{name: "a suffix glued to the placeholder", template: "https://idp.example.com/{tenantid}.v2", err: "whole path segment"},
		{name: "no scheme", template: "login.microsoftonline.com/{tenantid}/v2.0", err: "must start with https://"},
		{name: "another scheme", template: "ftp://idp.example.com/{tenantid}", err: "must start with https://"},
		{name: "a query", template: "https://idp.example.com/{tenantid}?x=1", err: "query or a fragment"},
		{name: "a fragment", template: "https://idp.example.com/{tenantid}/#f", err: "query or a fragment"},
		{name: "a dot-dot segment", template: "https://idp.example.com/a/../{tenantid}", err: "\"..\" path segments"},
		{name: "a dot segment after", template: "https://idp.example.com/{tenantid}/./v2.0", err: "\"..\" path segments"},
		{name: "a space", template: "https://idp.example.com/{tenantid} ", err: "printable ASCII"},
		{name: "a control character", template: "https://idp.example.com/{tenantid}\n", err: "printable ASCII"},
		{name: "non-ASCII", template: "https://idp.exämple.com/{tenantid}", err: "printable ASCII"},
		{name: "too long", template: "https://idp.example.com/" + strings.Repeat("a", 1024) + "/{tenantid}", err: "longer than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl, err := tenancy.Parse(tt.template)
			switch {
			case tt.err == "" && err != nil:
				t.Fatalf("Parse(%q): %v", tt.template, err)
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Fatalf("Parse(%q) = %v, want an error with %q", tt.template, err, tt.err)
			case tt.err == "" && tmpl.String() != tt.template:
				t.Fatalf("String() = %q, want %q", tmpl.String(), tt.template)
			}
		})
	}
}

func TestTenant(t *testing.T) {
	tmpl, err := tenancy.Parse(entraV2)
	if err != nil {
		t.Fatal(err)
	}
	const tid = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	tests := []struct {
		name string
		iss  string
		want string // "" when iss does not match
	}{
		{name: "the template filled with a tenant", iss: "https://login.microsoftonline.com/" + tid + "/v2.0", want: tid},
		{name: "a short non-GUID id still has the grammar", iss: "https://login.microsoftonline.com/contoso/v2.0", want: "contoso"},
		{name: "an empty tenant", iss: "https://login.microsoftonline.com//v2.0"},
		{name: "a tenant with a slash", iss: "https://login.microsoftonline.com/" + tid + "/x/v2.0"},
		{name: "a dot-dot tenant", iss: "https://login.microsoftonline.com/../v2.0"},
		{name: "a tenant with dots", iss: "https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0"},
		{name: "a percent-encoded tenant", iss: "https://login.microsoftonline.com/%37" + tid[1:] + "/v2.0"},
		{name: "a tenant ending in a hyphen", iss: "https://login.microsoftonline.com/contoso-/v2.0"},
		{name: "a trailing slash after the suffix", iss: "https://login.microsoftonline.com/" + tid + "/v2.0/"},
		{name: "a suffix appended", iss: "https://login.microsoftonline.com/" + tid + "/v2.0.evil"},
		{name: "a prefix prepended", iss: "https://evil.example/https://login.microsoftonline.com/" + tid + "/v2.0"},
		{name: "the host in another case", iss: "https://LOGIN.microsoftonline.com/" + tid + "/v2.0"},
		{name: "the other Entra issuer", iss: "https://sts.windows.net/" + tid + "/"},
		{name: "the template itself", iss: entraV2},
		{name: "a too long tenant", iss: "https://login.microsoftonline.com/" + strings.Repeat("a", 65) + "/v2.0"},
		{name: "the longest tenant", iss: "https://login.microsoftonline.com/" + strings.Repeat("a", 64) + "/v2.0", want: strings.Repeat("a", 64)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, ok := tmpl.Tenant(tt.iss)
			if ok != (tt.want != "") || id != tt.want {
				t.Fatalf("Tenant(%q) = %q, %v; want %q", tt.iss, id, ok, tt.want)
			}
		})
	}
	if id, ok := (tenancy.Template{}).Tenant("https://x/"); ok || id != "" {
		t.Fatalf("the zero Template matched: %q", id)
	}
}

func TestCheckID(t *testing.T) {
	for _, tt := range []struct {
		id string
		ok bool
	}{
		{"72f988bf-86f1-41af-91ab-2d7cd011db47", true},
		{"Contoso_EU-1", true},
		{"a", true},
		{strings.Repeat("a", 64), true},
		{"", false},
		{strings.Repeat("a", 65), false},
		{"-a", false},
		{"a_", false},
		{"a/b", false},
		{"..", false},
		{"a.b", false},
		{"a b", false},
		{"a%2Fb", false},
		{"é", false},
	} {
		if err := tenancy.CheckID(tt.id); (err == nil) != tt.ok {
			t.Errorf("CheckID(%q) = %v, want ok %v", tt.id, err, tt.ok)
		}
	}
}

func TestCheckGUID(t *testing.T) {
	for _, tt := range []struct {
		id, err string
	}{
		{"72f988bf-86f1-41af-91ab-2d7cd011db47", ""},
		{"72F988BF-86F1-41AF-91AB-2D7CD011DB47", "lower case"},
		{"72f988bf86f141af91ab2d7cd011db47", "not a tenant GUID"},
		{"{72f988bf-86f1-41af-91ab-2d7cd011db47}", "not a tenant GUID"},
		{"72f988bf-86f1-41af-91ab_2d7cd011db47", "hyphens"},
		{"72f988bg-86f1-41af-91ab-2d7cd011db47", "hex digits"},
		{"contoso", "not a tenant GUID"},
	} {
		err := tenancy.CheckGUID(tt.id)
		if tt.err == "" && err != nil || tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("CheckGUID(%q) = %v, want %q", tt.id, err, tt.err)
		}
	}
}

func TestEntra(t *testing.T) {
	for tmpl, want := range map[string]bool{
		entraV2:                               true,
		"https://sts.windows.net/{tenantid}/": true,
		"https://Login.MicrosoftOnline.us/{tenantid}/v2.0":               true,
		"https://login.microsoftonline.com.evil.example/{tenantid}/v2.0": false,
		"https://idp.example.com/{tenantid}":                             false,
	} {
		p, err := tenancy.Parse(tmpl)
		if err != nil {
			t.Fatal(err)
		}
		if p.Entra() != want {
			t.Errorf("Entra(%q) = %v, want %v", tmpl, !want, want)
		}
	}
	if (tenancy.Template{}).Entra() {
		t.Error("the zero Template is Entra")
	}
}

// FuzzTemplate parses arbitrary templates and matches arbitrary issuers:
// no input panics; whatever Tenant accepts is a valid id that expands back
// to exactly the issuer it came from; and an id that passes CheckID always
// round-trips through Expand and Tenant.
func FuzzTemplate(f *testing.F) {
	f.Add(entraV2, "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0", "contoso")
	f.Add("https://sts.windows.net/{tenantid}/", "https://sts.windows.net/../", "..")
	f.Add("http://127.0.0.1:1/{tenantid}", "http://127.0.0.1:1/a/b", "a/b")
	f.Fuzz(func(t *testing.T, template, iss, id string) {
		tmpl, err := tenancy.Parse(template)
		if err != nil {
			if got, ok := tmpl.Tenant(iss); ok {
				t.Fatalf("a template Parse refused matched %q as %q", iss, got)
			}
			return
		}
		if tmpl.String() != template {
			t.Fatalf("String() = %q, want %q", tmpl.String(), template)
		}
		if got, ok := tmpl.Tenant(iss); ok {
			if tenancy.CheckID(got) != nil {
				t.Fatalf("Tenant(%q) returned the invalid id %q", iss, got)
			}
			if tmpl.Expand(got) != iss {
				t.Fatalf("Tenant(%q) = %q, which expands to %q", iss, got, tmpl.Expand(got))
			}
			if strings.Contains(got, "/") || strings.Contains(got, "..") {
				t.Fatalf("Tenant(%q) = %q holds a path separator or dot-dot", iss, got)
			}
		}
		if tenancy.CheckID(id) == nil {
			if got, ok := tmpl.Tenant(tmpl.Expand(id)); !ok || got != id {
				t.Fatalf("the id %q expands to %q, which Tenant reads as %q, %v", id, tmpl.Expand(id), got, ok)
			}
		}
	})
}

func ExampleTemplate_Tenant() {
	tmpl, err := tenancy.Parse("https://login.microsoftonline.com/{tenantid}/v2.0")
	if err != nil {
		panic(err)
	}
	iss := tmpl.Expand("72f988bf-86f1-41af-91ab-2d7cd011db47")
	fmt.Println(iss)
	fmt.Println(tmpl.Tenant(iss))
	fmt.Println(tmpl.Tenant("https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0/evil"))
	fmt.Println(tenancy.CheckGUID("72F988BF-86F1-41AF-91AB-2D7CD011DB47"))
	// Output:
	// https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0
	// 72f988bf-86f1-41af-91ab-2d7cd011db47 true
	//  false
	// "72F988BF-86F1-41AF-91AB-2D7CD011DB47" must be written in lower case, as Entra ID writes it in "iss" and "tid"
}
