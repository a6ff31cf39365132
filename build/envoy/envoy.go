// Package envoy holds tokengate's Envoy configuration: the bootstrap that
// loads the plugin from a local file (tokengate.yaml.tmpl), and the lists of
// host functions Envoy provides to an ABI v0.2.1 module, read from
// proxy-wasm-cpp-host: host-imports.tsv (Envoy ≥ 1.39) and
// host-imports-1.33.tsv (Envoy 1.33–1.38, the oldest supported). Tests, the
// demo and the benchmarks render the same bootstrap users read in the docs,
// so what is tested is what is shipped.
//
//	yaml, err := envoy.Render(envoy.Bootstrap{ListenPort: 10000, AdminPort: 9901,
//		UpstreamPort: 9000, WasmPath: "build/out/tokengate.wasm", PluginConfig: cfg})
package envoy

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"text/template"
)

//go:embed tokengate.yaml.tmpl
var bootstrapTemplate string

// HostImports is Envoy's host-function list (module, name, params, results)
// since 1.39, read from proxy-wasm-cpp-host 09e5f8d and later.
//
//go:embed host-imports.tsv
var HostImports []byte

// HostImportsOldest is the host-function list of Envoy 1.33 to 1.38
// (proxy-wasm-cpp-host c4d7bb0 to beb8a4e), the oldest releases that can
// load a stock-Go module at all. It is host-imports.tsv without the 27 WASI
// functions those releases lack or may lack: the 17 a Go module can import
// and they do not provide (path_filestat_get, pulled in by any os.Stat, is
// the one that matters), and the 10 Go never imports, which the newer list
// added in the same change. The env functions are the same.
//
//go:embed host-imports-1.33.tsv
var HostImportsOldest []byte

// HostList is one host's function list, with the releases it describes.
type HostList struct {
	Name string // e.g. "Envoy 1.33–1.38"
	TSV  []byte
}

// HostLists returns every host list the module must fit, oldest first: the
// same tokengate.wasm is loaded by every Envoy since 1.33.
func HostLists() []HostList {
	return []HostList{
		{Name: "Envoy 1.33–1.38 (build/envoy/host-imports-1.33.tsv)", TSV: HostImportsOldest},
		{Name: "Envoy ≥ 1.39 (build/envoy/host-imports.tsv)", TSV: HostImports},
	}
}

var tmpl = template.Must(template.New("bootstrap").Funcs(template.FuncMap{
	"json": func(v any) (string, error) {
		b, err := json.Marshal(v)
		return string(b), err
	},
}).Parse(bootstrapTemplate))

// Bootstrap are the values of the bootstrap template.
type Bootstrap struct {
	AdminPort, ListenPort, UpstreamPort int
	WasmPath                            string            // absolute path of tokengate.wasm
	PluginConfig                        string            // the plugin configuration (JSON)
	FailurePolicy                       string            // FAIL_CLOSED, FAIL_OPEN or FAIL_RELOAD (default)
	Env                                 map[string]string // environment of the Wasm VM, e.g. GOGC
	JWKSFetchPort                       int               // if set, a "jwksfetch" cluster on this loopback port
}

// Render returns the bootstrap YAML.
func Render(b Bootstrap) ([]byte, error) {
	if b.WasmPath == "" || b.PluginConfig == "" || b.ListenPort == 0 || b.AdminPort == 0 || b.UpstreamPort == 0 {
		return nil, errors.New("envoy: Render needs the three ports, WasmPath and PluginConfig")
	}
	if b.FailurePolicy == "" {
		b.FailurePolicy = "FAIL_RELOAD"
	}
	var out bytes.Buffer
	if err := tmpl.Execute(&out, b); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}
