package wasmabi

import (
	"errors"
	"strconv"
	"strings"
)

// Host is the set of functions a host provides, keyed by "module.name".
type Host map[string]Func

// ParseHostTSV reads a host's function list: a header line, then one line per
// function with the tab-separated columns module, name, params, results.
func ParseHostTSV(tsv []byte) (Host, error) {
	h := Host{}
	lines := strings.Split(strings.TrimRight(string(tsv), "\n"), "\n")
	if len(lines) < 2 || !strings.HasPrefix(lines[0], "module\tname\t") {
		return nil, errors.New("wasmabi: host list must start with the header \"module\\tname\\tparams\\tresults\"")
	}
	for i, line := range lines[1:] {
		f := strings.Split(line, "\t")
		if len(f) < 4 {
			return nil, errors.New("wasmabi: host list line " + strconv.Itoa(i+2) + " has fewer than 4 columns")
		}
		h[f[0]+"."+f[1]] = Func{Params: f[2], Results: f[3]}
	}
	return h, nil
}

// Problem is one way a module does not fit its host.
type Problem struct {
	Item, Reason string
}

func (p Problem) String() string { return p.Item + ": " + p.Reason }

// Check lists every import the host does not provide with the same
// signature.
func Check(m *Module, host Host) []Problem {
	var out []Problem
	for _, im := range m.Imports {
		key := im.Module + "." + im.Name
		want, ok := host[key]
		switch {
		case !ok:
			out = append(out, Problem{key, "MISSING: the host does not provide this import"})
		case want != im.Func:
			out = append(out, Problem{key, "signature differs: module imports (" + im.Params + ") -> (" + im.Results +
				"), host provides (" + want.Params + ") -> (" + want.Results + ")"})
		}
	}
	return out
}

// RequireExports lists the named exports the module lacks.
func RequireExports(m *Module, names ...string) []Problem {
	have := map[string]bool{}
	for _, e := range m.Exports {
		have[e.Name] = true
	}
	var out []Problem
	for _, n := range names {
		if !have[n] {
			out = append(out, Problem{n, "MISSING export"})
		}
	}
	return out
}

// ForbidExports lists the named exports the module must not have.
func ForbidExports(m *Module, names ...string) []Problem {
	var out []Problem
	for _, e := range m.Exports {
		for _, n := range names {
			if e.Name == n {
				out = append(out, Problem{n, "forbidden export"})
			}
		}
	}
	return out
}
