package tenancy_test

import (
	"strings"
	"testing"

	"github.com/tokengate/tokengate/internal/tenancy"
)

// The tests below pin the edges of each bound and character class, where a
// comparison written one character off would still pass the other tests.

func TestParseAtTheEdgesOfItsBounds(t *testing.T) {
	// "https://h/" + path + "/{tenantid}" is exactly n bytes long.
	ofLength := func(n int) string {
		fixed := len("https://h/") + len("/"+tenancy.Placeholder)
		return "https://h/" + strings.Repeat("a", n-fixed) + "/" + tenancy.Placeholder
	}
	if n := len(ofLength(1024)); n != 1024 {
		t.Fatalf("the test template has %d bytes, want 1024", n)
	}
	tests := []struct {
		name     string
		template string
		err      string // a part of the error; "" when the template is good
	}{
		{name: "1024 bytes, the most there may be", template: ofLength(1024)},
		{name: "1025 bytes", template: ofLength(1025), err: "longer than 1024"},
		{name: "a tilde, the last printable byte", template: "https://h/~/" + tenancy.Placeholder},
		{name: "DEL (0x7f) is not printable", template: "https://h/\x7f/" + tenancy.Placeholder, err: "byte 10 is not"},
		{name: "a byte above DEL", template: "https://h/\x80/" + tenancy.Placeholder, err: "byte 10 is not"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tenancy.Parse(tt.template)
			switch {
			case tt.err == "" && err != nil:
				t.Fatalf("Parse: %v; want the template accepted", err)
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Fatalf("Parse: %v; want an error with %q", err, tt.err)
			}
		})
	}
}

func TestTenantRefusesAnIssuerShorterThanTheFixedParts(t *testing.T) {
	tmpl, err := tenancy.Parse("https://a/" + tenancy.Placeholder + "/x")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, iss string
		id        string // "" when the issuer must not match
	}{
		// Both fixed parts match, overlapping on the slash: there is no room
		// for an id between them.
		{name: "prefix and suffix overlap", iss: "https://a/x"},
		{name: "prefix and suffix meet", iss: "https://a//x"},
		{name: "a one-byte id", iss: "https://a/b/x", id: "b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, ok := tmpl.Tenant(tt.iss)
			if ok != (tt.id != "") || id != tt.id {
				t.Fatalf("Tenant(%q) = %q, %v; want %q, %v", tt.iss, id, ok, tt.id, tt.id != "")
			}
		})
	}
}

func TestCheckIDSaysWhichRuleAnIdBreaks(t *testing.T) {
	const lengthRule, charRule = "must be 1 to 64 characters long", "is not a tenant id"
	tests := []struct {
		name, id string
		err      string // a part of the error; "" when the id is good
	}{
		{name: "empty", id: "", err: lengthRule},
		{name: "65 letters", id: strings.Repeat("a", 65), err: lengthRule},
		{name: "a dot in a short id", id: "a.b", err: charRule},
		{name: "a dot in a 64-byte id", id: "a" + strings.Repeat(".", 62) + "a", err: charRule},
		{name: "a dot in a 63-byte id", id: "a" + strings.Repeat(".", 61) + "a", err: charRule},
		{name: "64 letters", id: strings.Repeat("a", 64)},
		{name: "z", id: "z"},
		{name: "A", id: "A"},
		{name: "Z", id: "Z"},
		{name: "9", id: "9"},
		{name: "z-Z_A", id: "z-Z_A"},
		{name: "a byte after z", id: "{", err: charRule},
		{name: "a byte before A", id: "@", err: charRule},
		{name: "a byte after Z", id: "[", err: charRule},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tenancy.CheckID(tt.id)
			switch {
			case tt.err == "" && err != nil:
				t.Fatalf("CheckID(%q): %v; want nil", tt.id, err)
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Fatalf("CheckID(%q): %v; want an error with %q", tt.id, err, tt.err)
			}
		})
	}
}
