package refreshapi_test

import (
	"strings"
	"testing"

	"github.com/tokengate/tokengate/internal/refreshapi"
)

func TestCheckAnswer(t *testing.T) {
	tests := []struct {
		name, status, contentType string
		size                      int
		err                       string // "" for a key set the plugin reads
	}{
		{"a key set", "200", "application/jwk-set+json", 100, ""},
		{"a key set with parameters and other case", "200", "Application/JWK-Set+JSON; charset=utf-8", 100, ""},
		{"the largest body", "200", refreshapi.ContentType, refreshapi.MaxKeySetBytes, ""},
		{"one byte too many", "200", refreshapi.ContentType, refreshapi.MaxKeySetBytes + 1, "want 1 to"},
		{"an empty body", "200", refreshapi.ContentType, 0, "want 1 to"},
		{"no key set in force", "503", "text/plain", 40, `answered "503"`},
		{"the old 202 of a fire-and-forget fetcher", "202", "", 10, `answered "202"`},
		{"another server's JSON", "200", "application/json", 10, "is the upstream really jwksfetch?"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := refreshapi.CheckAnswer(tt.status, tt.contentType, tt.size)
			if tt.err == "" && err != nil || tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
				t.Fatalf("CheckAnswer = %v, want %q", err, tt.err)
			}
		})
	}
}

func TestEnableByDefault(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"added to a configuration without refresh", `{"providers":{}}`, `{"refresh":{"cluster":"jwksfetch"},"providers":{}}`},
		{"added to an empty object", ` { } `, `{"refresh":{"cluster":"jwksfetch"}}`},
		{"an explicit refresh is kept", `{"refresh":{"cluster":"other"}}`, `{"refresh":{"cluster":"other"}}`},
		{"refresh false is kept", `{"refresh":false}`, `{"refresh":false}`},
		{"a refresh inside a provider does not count", `{"providers":{"a":{"refresh":1}}}`, `{"refresh":{"cluster":"jwksfetch"},"providers":{"a":{"refresh":1}}}`},
		{"not an object: left for the plugin to refuse", `[1]`, `[1]`},
		{"invalid JSON: left for the plugin to refuse", `{"a":`, `{"a":`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(refreshapi.EnableByDefault([]byte(tt.in))); got != tt.want {
				t.Fatalf("EnableByDefault(%s) = %s, want %s", tt.in, got, tt.want)
			}
		})
	}
}
