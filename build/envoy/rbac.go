package envoy

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"text/template"
)

//go:embed rbac.yaml.tmpl
var rbacTemplate string

var rbacTmpl = template.Must(template.New("rbac").Funcs(template.FuncMap{"json": jsonValue}).Parse(rbacTemplate))

// RBAC are the values of the bootstrap that puts Envoy's RBAC filter after
// tokengate and prints what tokengate verified in the access log
// (rbac.yaml.tmpl; docs/configuration.md, "Claims for Envoy").
type RBAC struct {
	Bootstrap            // ports, WasmPath, PluginConfig, FailurePolicy; Env and JWKSFetchPort are not used
	AccessLogPath string // the file the access log is written to
}

// RenderRBAC returns the RBAC bootstrap's YAML. The plugin configuration
// must set "envoy_filter_state" with the default prefix, or the RBAC
// policies on /admin and /reports refuse every request.
func RenderRBAC(r RBAC) ([]byte, error) {
	b := r.Bootstrap
	if b.WasmPath == "" || b.PluginConfig == "" || b.ListenPort == 0 || b.AdminPort == 0 || b.UpstreamPort == 0 || r.AccessLogPath == "" {
		return nil, errors.New("envoy: RenderRBAC needs the three ports, WasmPath, PluginConfig and AccessLogPath")
	}
	if r.FailurePolicy == "" {
		r.FailurePolicy = "FAIL_RELOAD"
	}
	var out bytes.Buffer
	if err := rbacTmpl.Execute(&out, r); err != nil {
		return nil, fmt.Errorf("envoy: rendering the RBAC bootstrap template (check the RBAC values): %w", err)
	}
	return out.Bytes(), nil
}
