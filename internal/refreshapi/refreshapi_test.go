package refreshapi_test

import (
	"errors"
	"fmt"
	"net/url"
	"testing"

	"github.com/tokengate/tokengate/internal/refreshapi"
)

func TestParse(t *testing.T) {
	tests := []struct {
		query, provider, kid string
		err                  bool
	}{
		{"provider=corp&kid=k1", "corp", "k1", false},
		{"kid=k1&provider=corp&x=1", "corp", "k1", false},
		{"provider=corp", "corp", "", false},
		{"provider=c%C3%A9&kid=a%2Bb+c", "cé", "a+b c", false},
		{"kid=k1", "", "", true},
		{"provider=", "", "", true},
		{"provider=a&provider=b", "", "", true},
		{"provider=a&kid=1&kid=2", "", "", true},
		{"provider=a%zz", "", "", true},
		{"provider=a%4", "", "", true},
	}
	for _, tt := range tests {
		p, k, err := refreshapi.Parse(tt.query)
		if (err != nil) != tt.err || p != tt.provider || k != tt.kid {
			t.Errorf("Parse(%q) = %q, %q, %v; want %q, %q, error %v", tt.query, p, k, err, tt.provider, tt.kid, tt.err)
		}
	}
	if _, _, err := refreshapi.Parse(""); !errors.Is(err, refreshapi.ErrNoProvider) {
		t.Errorf("empty query: %v", err)
	}
}

// FuzzRoundTrip: whatever provider and kid the plugin puts in a request,
// the fetcher reads back exactly, and so does net/url; nothing in a kid can
// add or change a parameter.
func FuzzRoundTrip(f *testing.F) {
	f.Add("corp", "k1")
	f.Add("a&kid=evil", "x&provider=other")
	f.Add("é", "%41+ =?#")
	f.Fuzz(func(t *testing.T, provider, kid string) {
		if provider == "" {
			return
		}
		target := refreshapi.Target(refreshapi.Path, provider, kid)
		u, err := url.Parse(target)
		if err != nil {
			t.Fatalf("%q does not parse as a URL: %v", target, err)
		}
		if u.Path != refreshapi.Path || len(u.Query()) != 2 || u.Query().Get("provider") != provider || u.Query().Get("kid") != kid {
			t.Fatalf("net/url reads %q as %v", target, u.Query())
		}
		p, k, err := refreshapi.Parse(u.RawQuery)
		if err != nil || p != provider || k != kid {
			t.Fatalf("Parse(%q) = %q, %q, %v", u.RawQuery, p, k, err)
		}
	})
}

func ExampleTarget() {
	fmt.Println(refreshapi.Target(refreshapi.Path, "corp", "key 2/3"))
	// Output: /refresh?provider=corp&kid=key%202%2F3
}
