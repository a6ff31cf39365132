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

var nativeTmpl = template.Must(template.New("native").Funcs(template.FuncMap{"json": jsonValue}).Parse(nativeTemplate))

// Native are the values of the bootstrap that loads tokengate as a native
// Envoy dynamic module (native.yaml.tmpl). Envoy must run with
// ENVOY_DYNAMIC_MODULES_SEARCH_PATH set to the directory of libtokengate.so.
type Native struct {
	AdminPort, ListenPort, UpstreamPort int
	PluginConfig                        string // the plugin configuration (JSON), as for the Wasm filter
	ECDSPath                            string // if set, the filter configuration is read over ECDS from this file instead
}

// RenderNative returns the bootstrap YAML of the native module.
func RenderNative(n Native) ([]byte, error) {
	if (n.PluginConfig == "") == (n.ECDSPath == "") || n.ListenPort == 0 || n.AdminPort == 0 || n.UpstreamPort == 0 {
		return nil, errors.New("envoy: RenderNative needs the three ports and one of PluginConfig and ECDSPath")
	}
	var out bytes.Buffer
	if err := nativeTmpl.Execute(&out, n); err != nil {
		return nil, fmt.Errorf("envoy: rendering the native bootstrap template (check the Native values): %w", err)
	}
	return out.Bytes(), nil
}

// NativeECDS returns an ECDS resource file (for a path_config_source) that
// configures the native filter "tokengate" with pluginConfig. Write it to a
// temporary file and rename it over the watched path: Envoy reads the new
// version and the module compiles a new Gate from it.
func NativeECDS(pluginConfig string) ([]byte, error) {
	if pluginConfig == "" {
		return nil, errors.New("envoy: NativeECDS needs the plugin configuration")
	}
	doc := map[string]any{"resources": []any{map[string]any{
		"@type": "type.googleapis.com/envoy.config.core.v3.TypedExtensionConfig",
		"name":  "tokengate",
		"typed_config": map[string]any{
			"@type":                 "type.googleapis.com/envoy.extensions.filters.http.dynamic_modules.v3.DynamicModuleFilter",
			"dynamic_module_config": map[string]any{"name": "tokengate"},
			"filter_name":           "tokengate",
			"filter_config": map[string]any{
				"@type": "type.googleapis.com/google.protobuf.StringValue",
				"value": pluginConfig,
			},
		},
	}}}
	return json.Marshal(doc) // JSON is YAML: Envoy reads either
}
