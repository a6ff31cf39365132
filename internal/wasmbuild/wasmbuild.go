// Package wasmbuild gives tests the path of the real plugin module.
//
// Tests must never depend on someone having run `make wasm` by hand, and
// must never silently test a stale module. So: if TOKENGATE_WASM names a
// file (make test builds it first and sets it), that file is used; otherwise
// the plugin is built once per test process from the source tree, with the
// same flags the Makefile uses. A failed build fails the test; it never
// skips.
//
//	path := wasmbuild.Path(t)
package wasmbuild

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

type moduleBuild struct {
	once sync.Once
	path string
	err  string
}

var (
	release   moduleBuild
	testHooks moduleBuild
)

// Path returns the path of tokengate.wasm, building it if needed.
func Path(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("TOKENGATE_WASM"); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("TOKENGATE_WASM=%s: %v (run `make wasm`, or unset it to build from source)", p, err)
		}
		return p
	}
	return release.get(t)
}

// TestHooksPath returns a module built with -tags tokengate_testhooks, which
// can be told by its configuration to panic or trap (see plugin/testhooks_on.go).
// It is always built from source: a release module must never carry the hooks.
func TestHooksPath(t testing.TB) string {
	t.Helper()
	return testHooks.get(t, "-tags=tokengate_testhooks")
}

func (b *moduleBuild) get(t testing.TB, flags ...string) string {
	t.Helper()
	b.once.Do(func() { b.path, b.err = compile(flags) })
	if b.err != "" {
		t.Fatal(b.err)
	}
	return b.path
}

// Bytes returns the module's bytes.
func Bytes(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile(Path(t))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// ModuleRoot returns the directory holding go.mod.
func ModuleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", err
	}
	return filepath.Dir(strings.TrimSpace(string(out))), nil
}

func compile(flags []string) (path, errMsg string) {
	root, err := ModuleRoot()
	if err != nil {
		return "", "wasmbuild: cannot find the module root: " + err.Error()
	}
	dir, err := os.MkdirTemp("", "tokengate-wasm-")
	if err != nil {
		return "", "wasmbuild: " + err.Error()
	}
	out := filepath.Join(dir, "tokengate.wasm")
	args := append([]string{"build", "-buildmode=c-shared", "-trimpath", "-buildvcs=false", "-ldflags=-w", "-o", out}, flags...)
	cmd := exec.Command("go", append(args, "./plugin")...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", "wasmbuild: building the plugin failed: " + err.Error() + "\n" + string(msg)
	}
	return out, ""
}
