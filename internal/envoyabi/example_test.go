package envoyabi_test

import (
	"fmt"

	"github.com/tokengate/tokengate/internal/envoyabi"
)

func ExampleLists() {
	for _, l := range envoyabi.Lists() {
		names := l.Names()
		fmt.Printf("%s: %d functions, path_filestat_get: %v\n", l.Name, len(l.Funcs), names["wasi_snapshot_preview1.path_filestat_get"])
	}
	// Output:
	// Envoy 1.33–1.38: 60 functions, path_filestat_get: false
	// Envoy ≥ 1.39: 87 functions, path_filestat_get: true
}
