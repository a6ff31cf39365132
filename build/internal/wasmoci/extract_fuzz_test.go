package wasmoci

import (
	"archive/tar"
	"testing"
)

// FuzzModuleFromTarGz feeds arbitrary layers to the compat extractor: it must
// never panic, never return more than the limit, and never return a module
// when it reports an error. Seeds live in testdata/fuzz/FuzzModuleFromTarGz.
func FuzzModuleFromTarGz(f *testing.F) {
	f.Add(tarGz(f, tarEntry{"plugin.wasm", tar.TypeReg, tinyModule}))
	f.Add(tarGz(f, tarEntry{"a/plugin.wasm", tar.TypeReg, tinyModule}, tarEntry{"b/plugin.wasm", tar.TypeReg, tinyModule}))
	f.Fuzz(func(t *testing.T, layer []byte) {
		const max = 1 << 16
		m, err := moduleFromTarGz(layer, max)
		if err != nil && m != nil {
			t.Fatalf("error %v with a module", err)
		}
		if len(m) > max {
			t.Fatalf("returned %d bytes, over the %d limit", len(m), max)
		}
	})
}
