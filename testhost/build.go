package testhost

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/tokengate/tokengate/internal/wasmbuild"
)

type built struct {
	once sync.Once
	wasm []byte
	err  string
}

var (
	buildsMu sync.Mutex
	builds   = map[string]*built{}
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
	buildsMu.Lock()
	b, ok := builds[pkg]
	if !ok {
		b = &built{}
		builds[pkg] = b
	}
	buildsMu.Unlock()
	b.once.Do(func() { b.wasm, b.err = build(pkg) })
	if b.err != "" {
		t.Fatalf("testhost: %s", b.err)
	}
	return b.wasm
}

func build(pkg string) ([]byte, string) {
	root, err := wasmbuild.ModuleRoot()
	if err != nil {
		return nil, "cannot find the module root (go env GOMOD): " + err.Error() + "; is the go command on PATH?"
	}
	dir, err := os.MkdirTemp("", "testhost-wasm-")
	if err != nil {
		return nil, err.Error()
	}
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, "plugin.wasm")
	cmd := exec.Command("go", "build", "-buildmode=c-shared", "-trimpath", "-o", out, pkg)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return nil, "building " + pkg + " for wasip1 failed (" + err.Error() + "):\n" + string(msg)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		return nil, err.Error()
	}
	return b, ""
}
