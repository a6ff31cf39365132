package wasmoci_test

import (
	"testing"

	"github.com/tokengate/tokengate/build/internal/wasmoci"
)

// BenchmarkBuild measures laying out a plugin-sized (4 MiB) module; compat
// is dominated by gzip at the best-compression level.
func BenchmarkBuild(b *testing.B) {
	module := testModule(9, 4<<20)
	for _, f := range wasmoci.Formats() {
		b.Run(string(f), func(b *testing.B) {
			b.SetBytes(int64(len(module)))
			for b.Loop() {
				if _, err := wasmoci.Build(module, f, buildOpts()...); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
