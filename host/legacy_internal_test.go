package host

import (
	"strings"
	"testing"

	"github.com/tokengate/tokengate/build/envoy"
)

// TestLegacyWASIIsTheOldestEnvoysList keeps WithLegacyWASI in step with
// build/envoy/host-imports-1.33.tsv, which abicheck holds the module to:
// the host links exactly the WASI functions that list names.
func TestLegacyWASIIsTheOldestEnvoysList(t *testing.T) {
	t.Parallel()
	listed := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(envoy.HostImportsOldest)), "\n")[1:] {
		f := strings.Split(line, "\t")
		if f[0] == "wasi_snapshot_preview1" {
			listed[f[1]] = true
		}
	}
	for _, im := range imports {
		if im.module != "wasi_snapshot_preview1" {
			continue
		}
		if legacyWASI[im.name] != listed[im.name] {
			t.Errorf("%s: WithLegacyWASI links it: %v; host-imports-1.33.tsv lists it: %v", im.name, legacyWASI[im.name], listed[im.name])
		}
	}
	if len(legacyWASI) != len(listed) {
		t.Errorf("WithLegacyWASI links %d WASI functions, host-imports-1.33.tsv lists %d", len(legacyWASI), len(listed))
	}
	for name := range legacyInitAllowed {
		if !initAllowed[name] {
			t.Errorf("%s is allowed during _initialize on Envoy 1.33 but not on 1.39: the lists only ever grew", name)
		}
	}
	for name := range legacyAllocAllowed {
		if !allocAllowed[name] {
			t.Errorf("%s is allowed in proxy_on_memory_allocate on Envoy 1.33 but not on 1.39", name)
		}
	}
}
