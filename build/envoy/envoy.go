// Package envoy holds tokengate's Envoy configuration: the bootstrap that
// loads the plugin from a local file (tokengate.yaml.tmpl). Tests, the demo
// and the benchmarks render the same bootstrap users read in the docs, so
// what is tested is what is shipped. The lists of host functions each Envoy
// links live in internal/envoyabi, which the Go host and abicheck read too.
//
//	yaml, err := envoy.Render(envoy.Bootstrap{ListenPort: 10000, AdminPort: 9901,
//		UpstreamPort: 9000, WasmPath: "build/out/tokengate.wasm", PluginConfig: cfg})
package envoy

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"text/template"

	"github.com/tokengate/tokengate/internal/refreshapi"
)

//go:embed tokengate.yaml.tmpl
var bootstrapTemplate string

var tmpl = template.Must(template.New("bootstrap").Funcs(template.FuncMap{"json": jsonValue}).Parse(bootstrapTemplate))

// Bootstrap are the values of the bootstrap template.
type Bootstrap struct {
	AdminPort, ListenPort, UpstreamPort int
	WasmPath                            string            // absolute path of tokengate.wasm
	PluginConfig                        string            // the plugin configuration (JSON)
	FailurePolicy                       string            // FAIL_CLOSED, FAIL_OPEN or FAIL_RELOAD (default)
	Env                                 map[string]string // environment of the Wasm VM, e.g. GOGC
	// JWKSFetchPort, if set, adds a "jwksfetch" cluster on this loopback
	// port (the daemon's --admin-listen) and, unless PluginConfig says
	// "refresh" itself, "refresh": {"cluster": "jwksfetch"} to the plugin
	// configuration: the cluster and the setting that uses it come together.
	JWKSFetchPort int
}

// Render returns the bootstrap YAML.
func Render(b Bootstrap) ([]byte, error) {
	if b.WasmPath == "" || b.PluginConfig == "" || b.ListenPort == 0 || b.AdminPort == 0 || b.UpstreamPort == 0 {
		return nil, errors.New("envoy: Render needs the three ports, WasmPath and PluginConfig")
	}
	if b.JWKSFetchPort != 0 {
		b.PluginConfig = string(refreshapi.EnableByDefault([]byte(b.PluginConfig)))
	}
	if b.FailurePolicy == "" {
		b.FailurePolicy = "FAIL_RELOAD"
	}
	var out bytes.Buffer
	if err := tmpl.Execute(&out, b); err != nil {
		return nil, fmt.Errorf("envoy: rendering the bootstrap template (check the Bootstrap values): %w", err)
	}
	return out.Bytes(), nil
}
