//go:build !wasip1

package main

import (
	"errors"
	"testing"

	"github.com/tokengate/tokengate/internal/jsonstrict"
	"github.com/tokengate/tokengate/jwksfetch"
	"github.com/tokengate/tokengate/plugin/internal/gate"
)

// TestPluginAndFetcherReadConfigurationsAlike holds the plugin's compiler
// and jwksfetch to one reading of a configuration: a document one of them
// refuses for its JSON (a member twice at any depth, invalid UTF-8, deep
// nesting) the other refuses too, so the fetcher can never fetch keys for
// one issuer while the plugin checks another.
func TestPluginAndFetcherReadConfigurationsAlike(t *testing.T) {
	const ok = `"issuer":"https://idp.example.com","jwks_uri":"https://idp.example.com/certs"`
	tests := []struct {
		name   string
		config string
		strict error // nil: both accept
	}{
		{"one provider", `{"providers":{"corp":{` + ok + `}}}`, nil},
		{"two providers", `{"providers":{"corp":{` + ok + `},"b":{` + ok + `}}}`, nil},
		{"a provider named twice", `{"providers":{"corp":{` + ok + `},"corp":{"issuer":"https://evil.example.com","jwks_uri":"https://evil.example.com/certs"}}}`, jsonstrict.ErrDuplicate},
		{"an issuer given twice", `{"providers":{"corp":{` + ok + `,"issuer":"https://evil.example.com"}}}`, jsonstrict.ErrDuplicate},
		{"providers given twice", `{"providers":{"corp":{` + ok + `}},"providers":{}}`, jsonstrict.ErrDuplicate},
		{"a duplicate inside fetch settings", `{"providers":{"corp":{` + ok + `,"fetch":{"timeout_seconds":5,"timeout_seconds":6}}}}`, jsonstrict.ErrDuplicate},
		{"an escaped duplicate", `{"providers":{"corp":{` + ok + `,"\u0069ssuer":"https://evil.example.com"}}}`, jsonstrict.ErrDuplicate},
		{"invalid UTF-8", "{\"providers\":{\"corp\":{" + ok + ",\"x\":\"\xff\"}}}", jsonstrict.ErrEncoding},
		{"a lone surrogate", `{"providers":{"corp":{` + ok + `}},"realm":"\ud800"}`, jsonstrict.ErrEncoding},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, perr := gate.Compile([]byte(tt.config))
			_, ferr := jwksfetch.New([]byte(tt.config))
			if tt.strict == nil {
				if perr != nil || ferr != nil {
					t.Fatalf("plugin: %v; jwksfetch: %v; want both to accept", perr, ferr)
				}
				return
			}
			if perr == nil || !errors.Is(ferr, tt.strict) {
				t.Fatalf("plugin: %v; jwksfetch: %v; want both to refuse with %v", perr, ferr, tt.strict)
			}
		})
	}
}
