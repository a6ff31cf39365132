package wasmabi

import "github.com/tokengate/tokengate/internal/envoyabi"

// Host is the set of functions a host provides, keyed by "module.name".
type Host map[string]Func

// NewHost indexes a host's function list (internal/envoyabi, which owns
// Envoy's lists and parses any other) for Check.
func NewHost(funcs []envoyabi.Func) Host {
	h := make(Host, len(funcs))
	for _, f := range funcs {
		h[f.Module+"."+f.Name] = Func{Params: f.Params, Results: f.Results}
	}
	return h
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
