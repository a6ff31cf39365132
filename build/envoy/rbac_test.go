package envoy

import (
	"strings"
	"testing"
)

func TestRBACBootstrap(t *testing.T) {
	t.Parallel()
	full := RBAC{Bootstrap: Bootstrap{AdminPort: 9901, ListenPort: 10000, UpstreamPort: 9000, WasmPath: "/m/tokengate.wasm",
		PluginConfig: `{"providers":{}}`}, AccessLogPath: "/var/log/envoy access.log"}
	tests := []struct {
		name    string
		r       RBAC
		wantErr bool
		want    []string // substrings of the bootstrap
	}{
		{name: "the RBAC filter comes after tokengate and before the router, matching tokengate's filter state", r: full,
			want: []string{"name: tokengate", "name: envoy.filters.http.rbac", "key: wasm.tokengate.sub",
				"key: wasm.tokengate.scope", "key: wasm.tokengate.tenant", `path: "/var/log/envoy access.log"`,
				`value: "{\"providers\":{}}"`, "failure_policy: FAIL_RELOAD",
				"sub=%FILTER_STATE(wasm.tokengate.sub:PLAIN)%"}},
		{name: "an access log path is required", r: RBAC{Bootstrap: full.Bootstrap}, wantErr: true},
		{name: "the ports are required", r: RBAC{Bootstrap: Bootstrap{WasmPath: "/m", PluginConfig: "{}"}, AccessLogPath: "/l"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := RenderRBAC(tt.r)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err %v, want an error: %v", err, tt.wantErr)
			}
			s := string(b)
			for _, w := range tt.want {
				if !strings.Contains(s, w) {
					t.Errorf("bootstrap lacks %s:\n%s", w, s)
				}
			}
			if tt.wantErr {
				return
			}
			tg, rbac, router := strings.Index(s, "name: tokengate"), strings.Index(s, "name: envoy.filters.http.rbac"), strings.Index(s, "name: envoy.filters.http.router")
			if !(tg < rbac && rbac < router) {
				t.Errorf("filter order: tokengate at %d, rbac at %d, router at %d; want tokengate, rbac, router", tg, rbac, router)
			}
		})
	}
}
