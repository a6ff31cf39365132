//go:build cgo && linux

package main

import (
	"strings"
	"testing"
)

// TestNewConfigRefusesCallouts: the native module makes no HTTP calls, so a
// configuration that needs them is refused rather than half served:
// browsers sent to sign in with no way back, opaque tokens and bundle-fed
// providers refused forever.
func TestNewConfigRefusesCallouts(t *testing.T) {
	const login = `{"providers": {"kc": {"issuer": "https://kc.example.com/realms/ml", "login": {
	  "client_id": "ui", "client_secret": "s", "cluster": "keycloak",
	  "redirect_uri": "https://ui.example.com/oauth2/callback",
	  "authorization_endpoint": "https://kc.example.com/realms/ml/protocol/openid-connect/auth",
	  "token_endpoint": "https://kc.example.com/realms/ml/protocol/openid-connect/token",
	  "cookie_keys": [{"id": "k1", "key": "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE="}]}}}}`
	const introspection = `{"providers": {"op": {"type": "introspection", "issuer": "https://op.example.com",
	  "introspection": {"cluster": "op", "path": "/introspect", "client_id": "c", "client_secret": "s"}}}}`
	const bundle = `{"providers": {"corp": {"issuer": "https://idp.example.com"}},
	  "bundle": {"cluster": "jwksfetch", "public_keys": ["11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"]}}`
	tests := []struct{ name, config, want string }{
		{"sign-in", login, "providers.kc.login: the native module makes no HTTP calls"},
		{"introspection", introspection, "providers.op.introspection: the native module makes no HTTP calls"},
		{"key bundles", bundle, "bundle: the native module makes no HTTP calls"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := newConfig([]byte(tc.config), 2)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("newConfig = %v, want %q", err, tc.want)
			}
		})
	}
}
