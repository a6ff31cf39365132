package wasmabi

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/tokengate/tokengate/internal/envoyabi"
)

// tinyModule is a hand-assembled module: type 0 = (i32 i32) -> i32, type 1 =
// () -> (); it imports env.proxy_log with type 0 and exports a function
// "proxy_abi_version_0_2_1" of type 1 and its memory.
var tinyModule = []byte{
	0x00, 'a', 's', 'm', 0x01, 0x00, 0x00, 0x00,
	// type section
	0x01, 0x0a, 0x02, 0x60, 0x02, 0x7f, 0x7f, 0x01, 0x7f, 0x60, 0x00, 0x00,
	// import section: 1 import, "env" "proxy_log" func type 0
	0x02, 0x11, 0x01, 0x03, 'e', 'n', 'v', 0x09, 'p', 'r', 'o', 'x', 'y', '_', 'l', 'o', 'g', 0x00, 0x00,
	// function section: 1 function of type 1
	0x03, 0x02, 0x01, 0x01,
	// memory section: 1 memory, min 1
	0x05, 0x03, 0x01, 0x00, 0x01,
	// export section: 2 exports
	0x07, 0x24, 0x02,
	0x17, 'p', 'r', 'o', 'x', 'y', '_', 'a', 'b', 'i', '_', 'v', 'e', 'r', 's', 'i', 'o', 'n', '_', '0', '_', '2', '_', '1', 0x00, 0x01,
	0x06, 'm', 'e', 'm', 'o', 'r', 'y', 0x02, 0x00,
	// code section: 1 body, empty
	0x0a, 0x04, 0x01, 0x02, 0x00, 0x0b,
}

func TestParseReadsImportsAndExports(t *testing.T) {
	t.Parallel()
	m, err := Parse(tinyModule)
	if err != nil {
		t.Fatal(err)
	}
	wantImports := []Import{{Module: "env", Name: "proxy_log", Func: Func{Params: "i32 i32", Results: "i32"}}}
	if !reflect.DeepEqual(m.Imports, wantImports) {
		t.Errorf("imports = %+v, want %+v", m.Imports, wantImports)
	}
	wantExports := []Export{{Name: "proxy_abi_version_0_2_1", Kind: "func"}, {Name: "memory", Kind: "memory"}}
	if !reflect.DeepEqual(m.Exports, wantExports) {
		t.Errorf("exports = %+v, want %+v", m.Exports, wantExports)
	}
}

func TestCheckFindsMissingAndMismatchedImports(t *testing.T) {
	t.Parallel()
	m, err := Parse(tinyModule)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		tsv  string
		want int
	}{
		{name: "host provides the import", tsv: "module\tname\tparams\tresults\nenv\tproxy_log\ti32 i32\ti32\n", want: 0},
		{name: "host lacks the import", tsv: "module\tname\tparams\tresults\nenv\tproxy_done\t\ti32\n", want: 1},
		{name: "host signature differs", tsv: "module\tname\tparams\tresults\nenv\tproxy_log\ti32 i32 i32\ti32\n", want: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			funcs, err := envoyabi.Parse([]byte(tt.tsv))
			if err != nil {
				t.Fatal(err)
			}
			host := NewHost(funcs)
			if got := Check(m, host); len(got) != tt.want {
				t.Fatalf("Check = %v, want %d problems", got, tt.want)
			}
		})
	}
}

func TestExportRules(t *testing.T) {
	t.Parallel()
	m, err := Parse(tinyModule)
	if err != nil {
		t.Fatal(err)
	}
	if p := RequireExports(m, "proxy_abi_version_0_2_1", "memory"); len(p) != 0 {
		t.Errorf("RequireExports = %v, want none", p)
	}
	if p := RequireExports(m, "_initialize"); len(p) != 1 {
		t.Errorf("RequireExports(_initialize) = %v, want one problem", p)
	}
	if p := ForbidExports(m, "malloc"); len(p) != 0 {
		t.Errorf("ForbidExports(malloc) = %v, want none", p)
	}
}

func TestParseRejectsTruncatedModules(t *testing.T) {
	t.Parallel()
	for n := range 8 {
		if _, err := Parse(tinyModule[:n]); !errors.Is(err, ErrMalformed) {
			t.Fatalf("Parse(first %d bytes) error = %v, want ErrMalformed", n, err)
		}
	}
	if _, err := Parse(tinyModule[:len(tinyModule)-3]); !errors.Is(err, ErrMalformed) {
		t.Fatalf("Parse(truncated section) error = %v, want ErrMalformed", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add(tinyModule)
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = Parse(b) // must not panic or hang
	})
}

// TestParseBoundsVectorCounts: a section claiming billions of entries after
// the reader has failed must end at once, not loop.
func TestParseBoundsVectorCounts(t *testing.T) {
	done := make(chan error, 1)
	go func() {
		_, err := Parse([]byte("\x00asm\x01\x00\x00\x00\a\n\xb4\xb4\xb4\xb4000000"))
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("a malformed export section was accepted")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Parse did not return")
	}
}
