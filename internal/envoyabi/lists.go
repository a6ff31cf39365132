package envoyabi

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
)

//go:embed host-imports.tsv
var newestTSV []byte

//go:embed host-imports-1.33.tsv
var oldestTSV []byte

// Header is the first line of every list.
const Header = "module\tname\tparams\tresults"

// ErrMalformed is wrapped by every error of Parse.
var ErrMalformed = errors.New("envoyabi: malformed host-function list")

// Func is one host function: its module ("env" or
// "wasi_snapshot_preview1"), its name, and its parameter and result types
// in wasm notation separated by spaces ("i32 i64"), empty for none.
type Func struct {
	Module, Name, Params, Results string
}

// List is the host-function list of a range of Envoy releases.
type List struct {
	Name  string // the releases, e.g. "Envoy 1.33–1.38"
	File  string // where the list lives in the repository
	TSV   []byte // the file's bytes
	Funcs []Func // the file parsed, in its order
}

// String names the releases and the file, for messages.
func (l List) String() string { return l.Name + " (" + l.File + ")" }

// Names returns the set of "module.name" keys of the list.
func (l List) Names() map[string]bool {
	m := make(map[string]bool, len(l.Funcs))
	for _, f := range l.Funcs {
		m[f.Module+"."+f.Name] = true
	}
	return m
}

var parsed = sync.OnceValue(func() [2]List {
	lists := [2]List{
		{Name: "Envoy 1.33–1.38", File: "internal/envoyabi/host-imports-1.33.tsv", TSV: oldestTSV},
		{Name: "Envoy ≥ 1.39", File: "internal/envoyabi/host-imports.tsv", TSV: newestTSV},
	}
	for i := range lists {
		funcs, err := Parse(lists[i].TSV)
		if err != nil {
			// Only an edit of the embedded file can get here, and every
			// test of the packages that read it fails on it.
			panic(fmt.Sprintf("envoyabi: %s: %v", lists[i].File, err))
		}
		lists[i].Funcs = funcs
	}
	return lists
})

// Oldest returns the list of Envoy 1.33 to 1.38 (proxy-wasm-cpp-host
// c4d7bb0 to beb8a4e): host-imports.tsv without the 27 WASI functions those
// releases lack or may lack, 17 of which a Go module can import
// (path_filestat_get, pulled in by any os.Stat, is the one that matters).
// The env functions are the same.
func Oldest() List { return clone(parsed()[0]) }

// Newest returns the list of Envoy 1.39 and later (proxy-wasm-cpp-host
// 09e5f8d and later), which the Go host links.
func Newest() List { return clone(parsed()[1]) }

// Lists returns every list a module must fit, oldest first: one
// tokengate.wasm is loaded by every Envoy since 1.33.
func Lists() []List { return []List{Oldest(), Newest()} }

// clone returns a copy the caller may change without changing the lists.
func clone(l List) List {
	l.TSV = bytes.Clone(l.TSV)
	l.Funcs = slices.Clone(l.Funcs)
	return l
}

// valueTypes are the wasm value types a host function may take or return.
var valueTypes = map[string]bool{"i32": true, "i64": true, "f32": true, "f64": true}

// Parse reads a host-function list: the Header line, then one line per
// function with the tab-separated columns module, name, params and
// results, each line ending in a newline. It refuses anything else, naming
// the line.
func Parse(tsv []byte) ([]Func, error) {
	text, ok := strings.CutSuffix(string(tsv), "\n")
	if !ok {
		return nil, fmt.Errorf("%w: it must end with a newline", ErrMalformed)
	}
	lines := strings.Split(text, "\n")
	if lines[0] != Header {
		return nil, fmt.Errorf("%w: line 1 is %q; the first line must be the header %q", ErrMalformed, lines[0], Header)
	}
	funcs := make([]Func, 0, len(lines)-1)
	seen := map[string]int{}
	for i, line := range lines[1:] {
		n := i + 2
		col := strings.Split(line, "\t")
		if len(col) != 4 {
			return nil, fmt.Errorf("%w: line %d has %d tab-separated columns; want module, name, params, results", ErrMalformed, n, len(col))
		}
		f := Func{Module: col[0], Name: col[1], Params: col[2], Results: col[3]}
		if f.Module == "" || f.Name == "" {
			return nil, fmt.Errorf("%w: line %d has an empty module or name", ErrMalformed, n)
		}
		for _, types := range []string{f.Params, f.Results} {
			if types == "" {
				continue
			}
			for _, t := range strings.Split(types, " ") {
				if !valueTypes[t] {
					return nil, fmt.Errorf("%w: line %d: %q is not a wasm value type; use i32, i64, f32 or f64 separated by single spaces", ErrMalformed, n, t)
				}
			}
		}
		key := f.Module + "." + f.Name
		if first, dup := seen[key]; dup {
			return nil, fmt.Errorf("%w: line %d lists %s again (first on line %d)", ErrMalformed, n, key, first)
		}
		seen[key] = n
		funcs = append(funcs, f)
	}
	return funcs, nil
}
