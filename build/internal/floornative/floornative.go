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
	"errors"
	"os"
	"os/exec"
	"path/filepath"
)

//go:embed c/floor.c
var source []byte

// Source is the C source of the floor module.
func Source() []byte { return source }

// Build compiles the floor module into dir/libtokengate.so (the file name
// Envoy looks for with the module name "tokengate") with $CC, or cc, and
// returns its path.
func Build(dir string) (string, error) {
	cc := os.Getenv("CC")
	if cc == "" {
		cc = "cc"
	}
	src := filepath.Join(dir, "floor.c")
	if err := os.WriteFile(src, source, 0o600); err != nil {
		return "", err
	}
	out := filepath.Join(dir, "libtokengate.so")
	if b, err := exec.Command(cc, "-O2", "-shared", "-fPIC", "-o", out, src).CombinedOutput(); err != nil {
		return "", errors.New("floornative: compiling the floor module with " + cc + " failed (install a C compiler, or set CC): " +
			err.Error() + "\n" + string(b))
	}
	return out, nil
}
