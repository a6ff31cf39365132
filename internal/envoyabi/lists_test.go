package envoyabi

import (
	"errors"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	t.Parallel()
	const h = Header + "\n"
	tests := []struct {
		name    string
		tsv     string
		want    []Func
		wantErr string // substring of the error; "" when it must parse
	}{
		{name: "a list with params and results parses",
			tsv:  h + "env\tproxy_log\ti32 i32 i32\ti32\n",
			want: []Func{{"env", "proxy_log", "i32 i32 i32", "i32"}}},
		{name: "empty params and results stay empty",
			tsv:  h + "env\tproxy_done\t\ti32\nenv\temscripten_notify_memory_growth\ti32\t\n",
			want: []Func{{"env", "proxy_done", "", "i32"}, {"env", "emscripten_notify_memory_growth", "i32", ""}}},
		{name: "i64, f32 and f64 are value types", tsv: h + "m\tf\ti64 f32 f64\t\n", want: []Func{{"m", "f", "i64 f32 f64", ""}}},
		{name: "a header alone is an empty list", tsv: h, want: []Func{}},
		{name: "no trailing newline is refused", tsv: h + "env\tproxy_done\t\ti32", wantErr: "end with a newline"},
		{name: "an empty file is refused", tsv: "", wantErr: "end with a newline"},
		{name: "a missing header is refused", tsv: "env\tproxy_done\t\ti32\n", wantErr: "header"},
		{name: "CRLF line ends are refused", tsv: Header + "\r\nenv\tproxy_done\t\ti32\r\n", wantErr: "header"},
		{name: "three columns are refused", tsv: h + "env\tproxy_done\ti32\n", wantErr: "line 2 has 3"},
		{name: "five columns are refused", tsv: h + "env\tproxy_done\t\ti32\textra\n", wantErr: "line 2 has 5"},
		{name: "a blank line is refused", tsv: h + "env\tproxy_done\t\ti32\n\n", wantErr: "line 3 has 1"},
		{name: "an unknown type is refused", tsv: h + "env\tproxy_log\ti32 i33\ti32\n", wantErr: `"i33" is not a wasm value type`},
		{name: "a double space between types is refused", tsv: h + "env\tproxy_log\ti32  i32\ti32\n", wantErr: `"" is not a wasm value type`},
		{name: "an empty name is refused", tsv: h + "env\t\t\ti32\n", wantErr: "empty module or name"},
		{name: "a function listed twice is refused",
			tsv: h + "env\tproxy_done\t\ti32\nenv\tproxy_done\t\ti32\n", wantErr: "line 3 lists env.proxy_done again (first on line 2)"},
		{name: "one name in two modules is two functions",
			tsv:  h + "a\tf\t\t\nb\tf\t\t\n",
			want: []Func{{"a", "f", "", ""}, {"b", "f", "", ""}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse([]byte(tt.tsv))
			if tt.wantErr != "" {
				if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want ErrMalformed saying %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d functions %v, want %v", len(got), got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("function %d is %+v, want %+v", i, got[i], tt.want[i])
				}
			}
		})
	}
}

// TestTheEmbeddedLists checks what the lists must say: the number of
// functions of each, and the functions whose presence decides whether a
// stock-Go module loads.
func TestTheEmbeddedLists(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		list          List
		funcs, wasi   int
		has, lacks    []string
		wantListIndex int
	}{
		{name: "Envoy 1.33–1.38 link 18 WASI functions and no file system",
			list: Oldest(), funcs: 60, wasi: 18, wantListIndex: 0,
			has:   []string{"wasi_snapshot_preview1.poll_oneoff", "wasi_snapshot_preview1.fd_write", "env.proxy_call_foreign_function"},
			lacks: []string{"wasi_snapshot_preview1.path_filestat_get", "wasi_snapshot_preview1.fd_filestat_get"}},
		{name: "Envoy 1.39 and later link 45 WASI functions",
			list: Newest(), funcs: 87, wasi: 45, wantListIndex: 1,
			has: []string{"wasi_snapshot_preview1.path_filestat_get", "env.envoy_resolve_dns", "env.proxy_call_foreign_function"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wasi := 0
			for _, f := range tt.list.Funcs {
				if f.Module == "wasi_snapshot_preview1" {
					wasi++
				}
			}
			if len(tt.list.Funcs) != tt.funcs || wasi != tt.wasi {
				t.Errorf("%s has %d functions, %d of them WASI; want %d and %d", tt.list, len(tt.list.Funcs), wasi, tt.funcs, tt.wasi)
			}
			names := tt.list.Names()
			for _, n := range tt.has {
				if !names[n] {
					t.Errorf("%s lacks %s", tt.list, n)
				}
			}
			for _, n := range tt.lacks {
				if names[n] {
					t.Errorf("%s lists %s", tt.list, n)
				}
			}
			if got := Lists()[tt.wantListIndex]; got.File != tt.list.File {
				t.Errorf("Lists()[%d] is %s, want %s: the oldest comes first", tt.wantListIndex, got, tt.list)
			}
		})
	}
}

// TestOldestIsPartOfTheNewest keeps the two lists from drifting: Envoy only
// ever added host functions, so every function of the oldest list is in the
// newest with the same signature.
func TestOldestIsPartOfTheNewest(t *testing.T) {
	t.Parallel()
	newest := map[string]Func{}
	for _, f := range Newest().Funcs {
		newest[f.Module+"."+f.Name] = f
	}
	for _, f := range Oldest().Funcs {
		if n, ok := newest[f.Module+"."+f.Name]; !ok || n != f {
			t.Errorf("host-imports-1.33.tsv has %+v, host-imports.tsv has %+v", f, n)
		}
	}
}

// TestListsAreCopies: a caller that changes what it was given does not
// change the lists.
func TestListsAreCopies(t *testing.T) {
	t.Parallel()
	l := Newest()
	l.Funcs[0].Name = "changed"
	l.TSV[0] = 'X'
	if again := Newest(); again.Funcs[0].Name == "changed" || again.TSV[0] == 'X' {
		t.Fatal("changing a returned list changed the list")
	}
}

// FuzzParse: no input panics, and what parses is exactly the text it was
// read from.
func FuzzParse(f *testing.F) {
	f.Add(newestTSV)
	f.Add(oldestTSV)
	f.Fuzz(func(t *testing.T, tsv []byte) {
		funcs, err := Parse(tsv)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("an error that is not ErrMalformed: %v", err)
			}
			return
		}
		var b strings.Builder
		b.WriteString(Header + "\n")
		for _, f := range funcs {
			b.WriteString(f.Module + "\t" + f.Name + "\t" + f.Params + "\t" + f.Results + "\n")
		}
		if b.String() != string(tsv) {
			t.Fatalf("%q parsed as %v, which writes back as %q", tsv, funcs, b.String())
		}
	})
}
