package host

import "testing"

// TestLegacyAllowlistsFitTheOldestEnvoysList keeps WithLegacyWASI's
// restricted-callback lists in step with Envoy 1.33–1.38: they name only
// functions those releases link (internal/envoyabi's oldest list, which
// TestTheHostLinksEnvoysList proves the legacy host links), and only
// functions the newer releases allow too, since the lists only ever grew.
func TestLegacyAllowlistsFitTheOldestEnvoysList(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name           string
		legacy, newest map[string]bool
	}{
		{"during _initialize", legacyInitAllowed, initAllowed},
		{"in proxy_on_memory_allocate", legacyAllocAllowed, allocAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for name := range tt.legacy {
				if !legacyImports["env."+name] && !legacyImports["wasi_snapshot_preview1."+name] {
					t.Errorf("%s is allowed %s on Envoy 1.33, which does not link it", name, tt.name)
				}
				if !tt.newest[name] {
					t.Errorf("%s is allowed %s on Envoy 1.33 but not on 1.39: the lists only ever grew", name, tt.name)
				}
			}
		})
	}
}
