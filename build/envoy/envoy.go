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
	// ECDS, if set, makes the filter's configuration come from the
	// jwksfetch daemon over ECDS instead of WasmPath and PluginConfig
	// (which must then be empty): the daemon renders the whole filter
	// from its --wasm-template, key sets included.
	ECDS *ECDS
	// Remote, if set, has Envoy download the module over HTTP and check its
	// SHA-256 (vm_config.code.remote) instead of reading WasmPath.
	Remote *Remote
	// Clusters are more upstreams the plugin's HTTP calls can name, such
	// as a provider's introspection endpoint ("introspection": {"cluster":
	// ...}); see Cluster (clusters.go).
	Clusters []Cluster
}

// Remote is a module Envoy downloads: URL on loopback port OriginPort,
// refused unless its SHA-256 (hex) is SHA256 (what `wasm-oci inspect` prints
// as the module sha256).
type Remote struct {
	URL        string
	OriginPort int
	SHA256     string
}

// ECDS is where Envoy discovers the tokengate filter: the file the daemon
// writes (--ecds-file), or its gRPC server (--xds-listen) on XDSPort, which
// the bootstrap reaches through a "jwksfetch_xds" cluster.
type ECDS struct {
	Path    string // a watched ECDS file; or
	XDSPort int    // the daemon's gRPC ECDS server
	APIType string // GRPC (default) or DELTA_GRPC, with XDSPort
}

// Render returns the bootstrap YAML.
func Render(b Bootstrap) ([]byte, error) {
	if b.ListenPort == 0 || b.AdminPort == 0 || b.UpstreamPort == 0 {
		return nil, errors.New("envoy: Render needs the admin, listen and upstream ports")
	}
	if b.ECDS != nil {
		if b.WasmPath != "" || b.PluginConfig != "" || b.Env != nil || b.Remote != nil {
			return nil, errors.New("envoy: with ECDS the daemon renders the filter; leave WasmPath, Remote, PluginConfig and Env empty")
		}
		if (b.ECDS.Path == "") == (b.ECDS.XDSPort == 0) {
			return nil, errors.New("envoy: ECDS needs exactly one of Path (a watched file) and XDSPort (the daemon's gRPC server)")
		}
		e := *b.ECDS
		switch {
		case e.APIType == "" && e.XDSPort != 0:
			e.APIType = "GRPC"
		case e.APIType != "" && e.XDSPort == 0:
			return nil, errors.New("envoy: ECDS.APIType applies to XDSPort only")
		case e.APIType != "" && e.APIType != "GRPC" && e.APIType != "DELTA_GRPC":
			return nil, fmt.Errorf("envoy: ECDS.APIType %q: want GRPC or DELTA_GRPC", e.APIType)
		}
		b.ECDS = &e
	} else if (b.WasmPath == "") == (b.Remote == nil) || b.PluginConfig == "" {
		return nil, errors.New("envoy: Render needs PluginConfig and one of WasmPath and Remote, or ECDS")
	}
	if b.Remote != nil && (b.Remote.URL == "" || b.Remote.OriginPort == 0 || len(b.Remote.SHA256) != 64) {
		return nil, errors.New("envoy: Remote needs the module's URL, the origin's port and its 64-digit hex SHA-256")
	}
	if b.JWKSFetchPort != 0 && b.ECDS == nil {
		b.PluginConfig = string(refreshapi.EnableByDefault([]byte(b.PluginConfig)))
	}
	if err := checkClusters(b.Clusters); err != nil {
		return nil, err
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
