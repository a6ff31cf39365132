package jwksfetch

import (
	"encoding/json"
	"strings"
	"testing"
)

// FuzzRender checks that any configuration New accepts renders to JSON in
// which fetched providers carry exactly the key sets given, and nothing
// else changes.
func FuzzRender(f *testing.F) {
	f.Add([]byte(`{"realm":"r","providers":{"a":{"issuer":"https://i"},"b":{"jwks":{"keys":[]}}},"rules":[]}`))
	f.Add([]byte(`{"providers":{"a":{"jwks_uri":"https://i/k","jwks":null,"fetch":{"refresh_seconds":60}}}}`))
	f.Add([]byte(`{"providers":{"e":{"issuer":"https://i/{tenantid}/v2.0","tenants":["t1","t2"]},"f":{"issuer":"https://j/{tenantid}","tenants":["x"],"tenant_jwks":{"x":{"keys":[]}}}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		fe, err := New(data, WithLogger(quiet))
		if err != nil {
			return
		}
		fe.mu.Lock()
		for _, p := range fe.provs {
			p.jwks = json.RawMessage(`{"keys":[]}`)
		}
		out, err := fe.render()
		fe.mu.Unlock()
		if err != nil {
			t.Fatalf("render failed on an accepted configuration: %v", err)
		}
		var doc struct {
			Providers map[string]map[string]json.RawMessage `json:"providers"`
		}
		if err := json.Unmarshal(out, &doc); err != nil {
			t.Fatalf("rendered configuration is not JSON: %v", err)
		}
		for _, name := range fe.order {
			if provider, tenant, ok := fe.doc.tenantOf(name); ok {
				var sets map[string]json.RawMessage
				_ = json.Unmarshal(doc.Providers[provider]["tenant_jwks"], &sets)
				if got := string(sets[tenant]); got != `{"keys":[]}` || doc.Providers[provider]["jwks"] != nil {
					t.Fatalf("providers.%s.tenant_jwks.%s = %s (jwks %s)", provider, tenant, got, doc.Providers[provider]["jwks"])
				}
				continue
			}
			if got := string(doc.Providers[name]["jwks"]); got != `{"keys":[]}` {
				t.Fatalf("providers.%s.jwks = %s", name, got)
			}
		}
	})
}

// FuzzUsableKeys checks that whatever a provider serves, the published set
// holds no private member and only keys the plugin's parser accepts.
func FuzzUsableKeys(f *testing.F) {
	f.Add([]byte(`{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"a","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","d":"x"}]}`))
	f.Add([]byte(`{"keys":[{"kty":"oct","k":"c2VjcmV0"},{"kty":"EC"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		out, kids, _, err := usableKeys(data, 0)
		if err != nil {
			return
		}
		var doc struct {
			Keys []map[string]json.RawMessage `json:"keys"`
		}
		if err := json.Unmarshal(out, &doc); err != nil {
			t.Fatalf("output is not JSON: %v", err)
		}
		if len(doc.Keys) != len(kids) {
			t.Fatalf("%d keys but %d kids", len(doc.Keys), len(kids))
		}
		for i, k := range doc.Keys {
			for _, m := range []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"} {
				if _, ok := k[m]; ok {
					t.Fatalf("keys[%d] kept private member %q", i, m)
				}
			}
		}
		if again, kids2, warns, err := usableKeys(out, 0); err != nil || len(warns) != 0 || string(again) != string(out) || strings.Join(kids, ",") != strings.Join(kids2, ",") {
			t.Fatalf("the published set is not stable: %s -> %s (%q, %v)", out, again, warns, err)
		}
	})
}
