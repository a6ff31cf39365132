// Package floornative builds the native floor module: a C library with the
// event hooks of tokengate's Envoy dynamic module (plugin/envoymodule) and,
// per request, the Envoy callbacks that module makes for an accepted request
// whose token is cached, but no Go and no decision (c/floor.c). Envoy running
// it costs what the dynamic-modules filter and those callbacks cost and
// nothing more, so `make bench` (build/cmd/benchrun) shows what the Go
// runtime and the gate add on top, as build/internal/floorwasm does for the
// Wasm filter.
//
//	so, err := floornative.Build(dir) // dir/libtokengate.so
package floornative

import (
	_ "embed"

	"github.com/tokengate/tokengate/build/internal/cc"
)

//go:embed c/floor.c
var source []byte

// Source is the C source of the floor module.
func Source() []byte { return source }

// Build compiles the floor module into dir/libtokengate.so (the file name
// Envoy looks for with the module name "tokengate") and returns its path.
func Build(dir string) (string, error) {
	return cc.Compile(dir, "floor.c", source, "libtokengate.so", []string{"-O2", "-shared", "-fPIC"}, nil)
}
