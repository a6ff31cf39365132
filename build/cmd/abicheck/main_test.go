package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tokengate/tokengate/build/internal/wasmabi"
	"github.com/tokengate/tokengate/internal/envoyabi"
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
	for _, h := range envoyabi.Lists() {
		if !strings.Contains(stdout.String(), "all provided by "+h.String()) {
			t.Errorf("the report does not mention %s:\n%s", h, stdout.String())
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
	hosts := envoyabi.Lists()
	if len(hosts) != 2 {
		t.Fatalf("want the oldest and the newest host list, got %d lists", len(hosts))
	}
	oldest, newest := wasmabi.NewHost(hosts[0].Funcs), wasmabi.NewHost(hosts[1].Funcs)
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

// TestHostFlagReadsTheListStrictly: a list given with -host is parsed by
// internal/envoyabi, as the embedded ones are, and a malformed one is
// refused before the module is read.
func TestHostFlagReadsTheListStrictly(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tests := []struct {
		name, tsv, wantErr string
	}{
		{name: "a list with a mistyped value type is refused",
			tsv: envoyabi.Header + "\nenv\tproxy_log\ti32 i3\ti32\n", wantErr: "malformed host-function list"},
		{name: "a list without the header is refused",
			tsv: "env\tproxy_log\ti32\ti32\n", wantErr: "malformed host-function list"},
		{name: "a well-formed list is taken, then the module is read",
			tsv: envoyabi.Header + "\nenv\tproxy_log\ti32 i32 i32\ti32\n", wantErr: "reading the module"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			list := filepath.Join(dir, strconv.Itoa(i)+".tsv")
			if err := os.WriteFile(list, []byte(tt.tsv), 0o600); err != nil {
				t.Fatal(err)
			}
			var stdout, stderr bytes.Buffer
			err := run(&stdout, &stderr, list, filepath.Join(dir, "missing.wasm"), false)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want one saying %q", err, tt.wantErr)
			}
		})
	}
}
