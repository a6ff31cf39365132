// Package wasmbuild builds Proxy-Wasm modules from this source tree for
// tests: the real plugin, the plugin with its test hooks, and test guests.
//
// Tests must never depend on someone having run `make wasm` by hand, and
// must never silently test a stale module. So: if TOKENGATE_WASM names a
// file (make test builds it first and sets it), that file is the plugin;
// otherwise the plugin is built once per test process from the source tree,
// with the flags the Makefile uses. Every other module is built the same
// way, once per package and flags. A failed build fails the test; it never
// skips.
//
//	path := wasmbuild.Path(t)                        // the plugin
//	guest := wasmbuild.Package(t, "./host/testdata/conformance")
package wasmbuild

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// Plugin is the package of the release module.
const Plugin = "./plugin"

// Module is the path of the repository's main module, whose directory
// relative packages such as Plugin are built in.
const Module = "github.com/tokengate/tokengate"

type build struct {
	once sync.Once
	path string
	err  error
}

var (
	mu     sync.Mutex
	builds = map[string]*build{}
)

// Path returns the path of tokengate.wasm: TOKENGATE_WASM, or the plugin
// built from source.
func Path(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("TOKENGATE_WASM"); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("TOKENGATE_WASM=%s: %v (run `make wasm`, or unset it to build from source)", p, err)
		}
		return p
	}
	return Package(t, Plugin)
}

// TestHooksPath returns a module built with -tags tokengate_testhooks, which
// can be told by its configuration to panic or trap (see plugin/testhooks_on.go).
// It is always built from source: a release module must never carry the hooks.
func TestHooksPath(t testing.TB) string {
	t.Helper()
	return Package(t, Plugin, "-tags=tokengate_testhooks")
}

// Bytes returns the plugin's bytes.
func Bytes(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile(Path(t))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Package builds pkg (a path relative to the module root, such as
// "./host/testdata/conformance", or an import path inside this module) as a
// wasip1 reactor once per test process and flags, and returns the module's
// path.
func Package(t testing.TB, pkg string, flags ...string) string {
	t.Helper()
	key := pkg + "\x00" + strings.Join(flags, "\x00")
	mu.Lock()
	b, ok := builds[key]
	if !ok {
		b = &build{}
		builds[key] = b
	}
	mu.Unlock()
	b.once.Do(func() { b.path, b.err = compile(pkg, flags) })
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.path
}

// ModuleRoot returns the repository root: the directory of Module.
func ModuleRoot() (string, error) {
	// The repository's main module, wherever the test runs: in it, or in
	// the e2e or build module beside it (which reach it with a replace or
	// the workspace).
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", Module).Output()
	if err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return "", fmt.Errorf("wasmbuild: go list -m %s: %s; run the tests from the repository", Module, strings.TrimSpace(string(exit.Stderr)))
		}
		return "", fmt.Errorf("wasmbuild: go list -m %s: %w; is the go command on PATH?", Module, err)
	}
	dir := strings.TrimSpace(string(out))
	if dir == "" {
		return "", fmt.Errorf("wasmbuild: %s has no directory here; run the tests from the repository", Module)
	}
	return dir, nil
}

func compile(pkg string, flags []string) (string, error) {
	root, err := ModuleRoot()
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", "tokengate-wasm-")
	if err != nil {
		return "", fmt.Errorf("wasmbuild: %w", err)
	}
	out := filepath.Join(dir, filepath.Base(strings.TrimSuffix(pkg, "/"))+".wasm")
	args := []string{"build", "-buildmode=c-shared", "-trimpath", "-buildvcs=false", "-ldflags=-w", "-o", out}
	args = append(append(args, flags...), pkg)
	cmd := exec.Command("go", args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("wasmbuild: building %s for wasip1: %w\n%s", pkg, err, msg)
	}
	return out, nil
}
