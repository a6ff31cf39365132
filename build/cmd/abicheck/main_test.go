package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/tokengate/tokengate/build/envoy"
	"github.com/tokengate/tokengate/build/internal/wasmabi"
	"github.com/tokengate/tokengate/internal/wasmbuild"
)

// TestTheModuleFitsEveryEnvoy builds tokengate.wasm (or takes TOKENGATE_WASM)
// and checks it against the oldest and the newest Envoy. It also refuses any
// file-system import outright: the module has no use for files, and the
// first one that comes back (an os.Stat somewhere in a dependency's init)
// makes Envoy 1.33–1.38 refuse to load it.
func TestTheModuleFitsEveryEnvoy(t *testing.T) {
	path := wasmbuild.Path(t)
	var stdout, stderr bytes.Buffer
	if err := run(&stdout, &stderr, "", path, true); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	for _, h := range envoy.HostLists() {
		if !strings.Contains(stdout.String(), "all provided by "+h.Name) {
			t.Errorf("the report does not mention %s:\n%s", h.Name, stdout.String())
		}
	}
	for _, line := range strings.Split(stdout.String(), "\n") {
		name, ok := strings.CutPrefix(line, "import wasi_snapshot_preview1.")
		if !ok {
			continue
		}
		if strings.HasPrefix(name, "path_") || strings.HasPrefix(name, "fd_filestat") || strings.HasPrefix(name, "fd_read") {
			t.Errorf("the module imports a file-system function: %s (find the caller with go build -ldflags=-dumpdep)", line)
		}
	}
}

// TestHostListsSayWhatEachEnvoyLinks checks single imports against both
// lists: what the oldest releases lack must be refused for them only, and
// a signature that differs is refused everywhere.
func TestHostListsSayWhatEachEnvoyLinks(t *testing.T) {
	t.Parallel()
	hosts := envoy.HostLists()
	if len(hosts) != 2 {
		t.Fatalf("want the oldest and the newest host list, got %d lists", len(hosts))
	}
	oldest, err := wasmabi.ParseHostTSV(hosts[0].TSV)
	if err != nil {
		t.Fatal(err)
	}
	newest, err := wasmabi.ParseHostTSV(hosts[1].TSV)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name                   string
		imp                    wasmabi.Import
		fitsOldest, fitsNewest bool
	}{
		{name: "os.Stat's path_filestat_get links on 1.39 only",
			imp:        wasmabi.Import{Module: "wasi_snapshot_preview1", Name: "path_filestat_get", Func: wasmabi.Func{Params: "i32 i32 i32 i32 i32", Results: "i32"}},
			fitsOldest: false, fitsNewest: true},
		{name: "fd_filestat_get links on 1.39 only",
			imp:        wasmabi.Import{Module: "wasi_snapshot_preview1", Name: "fd_filestat_get", Func: wasmabi.Func{Params: "i32 i32", Results: "i32"}},
			fitsOldest: false, fitsNewest: true},
		{name: "poll_oneoff links everywhere",
			imp:        wasmabi.Import{Module: "wasi_snapshot_preview1", Name: "poll_oneoff", Func: wasmabi.Func{Params: "i32 i32 i32 i32", Results: "i32"}},
			fitsOldest: true, fitsNewest: true},
		{name: "sched_yield links everywhere",
			imp:        wasmabi.Import{Module: "wasi_snapshot_preview1", Name: "sched_yield", Func: wasmabi.Func{Results: "i32"}},
			fitsOldest: true, fitsNewest: true},
		{name: "proxy_call_foreign_function links everywhere",
			imp:        wasmabi.Import{Module: "env", Name: "proxy_call_foreign_function", Func: wasmabi.Func{Params: "i32 i32 i32 i32 i32 i32", Results: "i32"}},
			fitsOldest: true, fitsNewest: true},
		{name: "Go's seven-argument path_link links nowhere",
			imp:        wasmabi.Import{Module: "wasi_snapshot_preview1", Name: "path_link", Func: wasmabi.Func{Params: "i32 i32 i32 i32 i32 i32 i32", Results: "i32"}},
			fitsOldest: false, fitsNewest: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &wasmabi.Module{Imports: []wasmabi.Import{tt.imp}}
			if got := len(wasmabi.Check(m, oldest)) == 0; got != tt.fitsOldest {
				t.Errorf("fits %s = %v, want %v", hosts[0].Name, got, tt.fitsOldest)
			}
			if got := len(wasmabi.Check(m, newest)) == 0; got != tt.fitsNewest {
				t.Errorf("fits %s = %v, want %v", hosts[1].Name, got, tt.fitsNewest)
			}
		})
	}
}

// TestOldestListIsPartOfTheNewest keeps the two lists from drifting: Envoy
// only ever added host functions, so every line of the oldest list must be
// in the newest with the same signature.
func TestOldestListIsPartOfTheNewest(t *testing.T) {
	t.Parallel()
	newest := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(envoy.HostImports)), "\n")[1:] {
		f := strings.SplitN(line, "\t", 3)
		newest[f[0]+"."+f[1]] = line
	}
	lines := strings.Split(strings.TrimSpace(string(envoy.HostImportsOldest)), "\n")
	if lines[0] != "module\tname\tparams\tresults" {
		t.Fatalf("host-imports-1.33.tsv starts with %q, want the header", lines[0])
	}
	for _, line := range lines[1:] {
		f := strings.SplitN(line, "\t", 3)
		if newest[f[0]+"."+f[1]] != line {
			t.Errorf("host-imports-1.33.tsv has %q, host-imports.tsv has %q", line, newest[f[0]+"."+f[1]])
		}
	}
	if len(lines)-1 >= len(newest) {
		t.Errorf("the oldest list has %d functions, the newest %d: the oldest must lack the file-system ones", len(lines)-1, len(newest))
	}
}
