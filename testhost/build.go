package testhost

import (
	"os"
	"testing"

	"github.com/tokengate/tokengate/internal/wasmbuild"
)

// Wasm returns the tokengate plugin: the file named by TOKENGATE_WASM, or
// else the plugin built once per test process from this source tree, with
// the release flags (internal/wasmbuild). A failed build fails the test.
func Wasm(t testing.TB) []byte {
	t.Helper()
	return wasmbuild.Bytes(t)
}

// TestHooksWasm returns the plugin built with its test hooks (which its
// configuration can tell to panic or trap); never a release module.
func TestHooksWasm(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile(wasmbuild.TestHooksPath(t))
	if err != nil {
		t.Fatalf("testhost: reading the test-hooks module: %v", err)
	}
	return b
}

// Build compiles the Go package pkg (an import path inside this module, such
// as a test guest under testdata) to a Proxy-Wasm module once per test
// process and returns its bytes. A failed build fails the test.
func Build(t testing.TB, pkg string) []byte {
	t.Helper()
	b, err := os.ReadFile(wasmbuild.Package(t, pkg))
	if err != nil {
		t.Fatalf("testhost: reading the module built from %s: %v", pkg, err)
	}
	return b
}
