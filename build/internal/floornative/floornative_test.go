package floornative

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// tokengateHooks lists the event hooks tokengate's native module exports:
// the //export lines of its Go binding and the functions of its C file.
func tokengateHooks(t *testing.T) []string {
	t.Helper()
	dir := filepath.Join("..", "..", "..", "plugin", "envoymodule", "internal", "dynmod")
	goSrc, err := os.ReadFile(filepath.Join(dir, "hooks.go"))
	if err != nil {
		t.Fatal(err)
	}
	cSrc, err := os.ReadFile(filepath.Join(dir, "hooks.c"))
	if err != nil {
		t.Fatal(err)
	}
	var hooks []string
	for _, m := range regexp.MustCompile(`(?m)^//export (envoy_dynamic_module_on_\w+)`).FindAllStringSubmatch(string(goSrc), -1) {
		hooks = append(hooks, m[1])
	}
	hooks = append(hooks, definedHooks(string(cSrc))...)
	slices.Sort(hooks)
	return hooks
}

// definedHooks lists the envoy_dynamic_module_on_* functions a C file defines.
func definedHooks(src string) []string {
	var out []string
	for _, m := range regexp.MustCompile(`(?m)^[a-z_0-9]+\s+(envoy_dynamic_module_on_\w+)\(`).FindAllStringSubmatch(src, -1) {
		out = append(out, m[1])
	}
	return out
}

// The floor must be loadable wherever the native module is: the same hooks,
// no more and no fewer.
func TestSameHooksAsTokengate(t *testing.T) {
	want := tokengateHooks(t)
	if len(want) < 10 {
		t.Fatalf("found only %d hooks of the native module: %v", len(want), want)
	}
	got := definedHooks(string(Source()))
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("the floor defines\n%s\nthe native module exports\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// Build compiles a shared library that exports every hook.
func TestBuildExportsTheHooks(t *testing.T) {
	if _, err := exec.LookPath("cc"); err != nil && os.Getenv("CC") == "" {
		t.Skip("no C compiler")
	}
	so, err := Build(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	f, err := elf.Open(so)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	syms, err := f.DynamicSymbols()
	if err != nil {
		t.Fatal(err)
	}
	exported := map[string]bool{}
	for _, s := range syms {
		if s.Section != elf.SHN_UNDEF {
			exported[s.Name] = true
		}
	}
	for _, h := range tokengateHooks(t) {
		if !exported[h] {
			t.Errorf("%s is not exported by %s", h, so)
		}
	}
}
