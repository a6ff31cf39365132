package envoy

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"text/template"
)

//go:embed native.yaml.tmpl
var nativeTemplate string

var nativeTmpl = template.Must(template.New("native").Funcs(template.FuncMap{
	"json": func(v any) (string, error) {
		b, err := json.Marshal(v)
		return string(b), err
	},
}).Parse(nativeTemplate))

// Native are the values of the bootstrap that loads tokengate as a native
// Envoy dynamic module (native.yaml.tmpl). Envoy must run with
// ENVOY_DYNAMIC_MODULES_SEARCH_PATH set to the directory of libtokengate.so.
type Native struct {
	AdminPort, ListenPort, UpstreamPort int
	PluginConfig                        string // the plugin configuration (JSON), as for the Wasm filter
}

// RenderNative returns the bootstrap YAML of the native module.
func RenderNative(n Native) ([]byte, error) {
	if n.PluginConfig == "" || n.ListenPort == 0 || n.AdminPort == 0 || n.UpstreamPort == 0 {
		return nil, errors.New("envoy: RenderNative needs the three ports and PluginConfig")
	}
	var out bytes.Buffer
	if err := nativeTmpl.Execute(&out, n); err != nil {
		return nil, fmt.Errorf("envoy: rendering the native bootstrap template (check the Native values): %w", err)
	}
	return out.Bytes(), nil
}
