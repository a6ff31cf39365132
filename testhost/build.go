package testhost

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// PluginPackage is the import path of the tokengate plugin.
const PluginPackage = "github.com/tokengate/tokengate/plugin"

type built struct {
	once sync.Once
	wasm []byte
	err  string
}

var (
	buildsMu sync.Mutex
	builds   = map[string]*built{}
)

// Wasm returns the tokengate plugin, built once per test process, or the file
// named by TOKENGATE_WASM. A failed build fails the test.
func Wasm(t testing.TB) []byte {
	t.Helper()
	if f := os.Getenv("TOKENGATE_WASM"); f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatalf("testhost: TOKENGATE_WASM=%s cannot be read: %v", f, err)
		}
		return b
	}
	return Build(t, PluginPackage)
}

// Build compiles the Go package pkg (an import path inside this module) to a
// Proxy-Wasm module once per test process and returns its bytes.
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
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return nil, "go env GOMOD failed: " + err.Error() + "; is the go command on PATH?"
	}
	root := filepath.Dir(strings.TrimSpace(string(gomod)))
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
