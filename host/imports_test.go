package host

import (
	"context"
	"slices"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/tokengate/tokengate/internal/envoyabi"
)

// TestTheHostLinksEnvoysList links the host functions into a runtime, as
// Load does, and reads back what each host module exports: exactly the
// functions of internal/envoyabi's list for that Envoy, with its
// signatures, so that a module links here if and only if it links there.
func TestTheHostLinksEnvoysList(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		legacy bool
		list   envoyabi.List
	}{
		{name: "the default host links Envoy 1.39's list", list: envoyabi.Newest()},
		{name: "WithLegacyWASI links Envoy 1.33's list", legacy: true, list: envoyabi.Oldest()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			c := defaultConfig()
			c.legacyWASI = tt.legacy
			p := &Plugin{cfg: c, rt: wazero.NewRuntime(ctx)}
			defer p.rt.Close(ctx)
			if err := p.linkHost(ctx); err != nil {
				t.Fatal(err)
			}
			linked := 0
			for _, module := range []string{"env", "wasi_snapshot_preview1"} {
				m := p.rt.Module(module)
				if m == nil {
					t.Fatalf("no host module %s", module)
				}
				defs := m.ExportedFunctionDefinitions()
				linked += len(defs)
				for _, f := range tt.list.Funcs {
					if f.Module != module {
						continue
					}
					d, ok := defs[f.Name]
					if !ok {
						t.Errorf("%s.%s is in %s but not linked", module, f.Name, tt.list)
						continue
					}
					if !slices.Equal(d.ParamTypes(), valTypes(f.Params)) || !slices.Equal(d.ResultTypes(), valTypes(f.Results)) {
						t.Errorf("%s.%s is linked as (%s) -> (%s), %s says (%s) -> (%s)", module, f.Name,
							typeNames(d.ParamTypes()), typeNames(d.ResultTypes()), tt.list, f.Params, f.Results)
					}
				}
			}
			if linked != len(tt.list.Funcs) {
				t.Errorf("the host links %d functions, %s lists %d", linked, tt.list, len(tt.list.Funcs))
			}
		})
	}
}

func typeNames(ts []api.ValueType) string {
	s := ""
	for i, t := range ts {
		if i > 0 {
			s += " "
		}
		s += api.ValueTypeName(t)
	}
	return s
}
