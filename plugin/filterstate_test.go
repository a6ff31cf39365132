//go:build !wasip1

package main

// envoy_filter_state through the real module: what the gate decides to
// write must arrive at the host as proxy_set_property calls on the request,
// under the names Envoy's filter state gives them, and nothing else.

import (
	"maps"
	"strings"
	"testing"

	"github.com/tokengate/tokengate/internal/issuer"
	"github.com/tokengate/tokengate/testhost"
)

func TestPluginWritesFilterStateForEnvoy(t *testing.T) {
	idp := newIssuer(t)
	enabled := strings.Replace(config(t, idp), `"realm"`,
		`"envoy_filter_state": {"claims": ["tenant", {"claim": "realm_access.roles", "name": "roles"}]}, "realm"`, 1)
	bearer := func(c issuer.Claims) [][2]string { return [][2]string{{"authorization", "Bearer " + token(t, idp, c)}} }
	full := bearer(issuer.Claims{"tenant": "ml", "realm_access": map[string]any{"roles": []string{"reader", "writer"}}})
	tests := []struct {
		name, config string
		req          testhost.Request
		status       int // 0: continued
		want         map[string]string
	}{
		{"an allowed request carries provider, sub, scopes and the configured claims", enabled,
			testhost.Request{Path: "/v1/score", Headers: full}, 0,
			map[string]string{"wasm.tokengate.provider": "corp", "wasm.tokengate.sub": "alice", "wasm.tokengate.scope": "score",
				"wasm.tokengate.tenant": "ml", "wasm.tokengate.roles": "reader,writer"}},
		{"the same token again, from the cache, carries the same", enabled,
			testhost.Request{Path: "/v1/score", Headers: full}, 0,
			map[string]string{"wasm.tokengate.provider": "corp", "wasm.tokengate.sub": "alice", "wasm.tokengate.scope": "score",
				"wasm.tokengate.tenant": "ml", "wasm.tokengate.roles": "reader,writer"}},
		{"a sub with a control character is not written", enabled,
			testhost.Request{Path: "/other", Headers: bearer(issuer.Claims{"sub": "alice\r\nx: y"})}, 0,
			map[string]string{"wasm.tokengate.provider": "corp", "wasm.tokengate.scope": "score"}},
		{"a refused request carries nothing", enabled,
			testhost.Request{Path: "/v1/score", Headers: bearer(issuer.Claims{"scope": "read"})}, 403, map[string]string{}},
		{"a public route carries nothing", enabled,
			testhost.Request{Path: "/healthz", Headers: full}, 0, map[string]string{}},
		{"without envoy_filter_state nothing is written", config(t, idp),
			testhost.Request{Path: "/v1/score", Headers: full}, 0, map[string]string{}},
	}
	hosts := map[string]*testhost.Host{} // one per configuration, so that the second request hits the cache
	for _, tt := range tests {
		if hosts[tt.config] == nil {
			hosts[tt.config] = testhost.New(t, tt.config)
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := hosts[tt.config].Do(t, tt.req)
			if tt.status == 0 && !r.Continued || tt.status != 0 && r.Status != tt.status {
				t.Fatalf("continued %v, status %d; want status %d (0: continued)\nlog: %q", r.Continued, r.Status, tt.status, r.Logs)
			}
			if !maps.Equal(r.FilterState, tt.want) {
				t.Errorf("filter state\n got %v\nwant %v", r.FilterState, tt.want)
			}
		})
	}
}
