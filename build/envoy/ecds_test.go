package envoy

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestECDSBootstrap(t *testing.T) {
	t.Parallel()
	ports := func(e *ECDS) Bootstrap {
		return Bootstrap{AdminPort: 9901, ListenPort: 10000, UpstreamPort: 9000, JWKSFetchPort: 9902, ECDS: e}
	}
	file, err := Render(ports(&ECDS{Path: "/var/run/tokengate/ecds.json"}))
	if err != nil {
		t.Fatal(err)
	}
	grpc, err := Render(ports(&ECDS{XDSPort: 18000, APIType: "DELTA_GRPC"}))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		yaml      []byte
		want, not []string
	}{
		{"a watched file", file,
			[]string{`path_config_source: {path: "/var/run/tokengate/ecds.json"}`, "node: {id: tokengate", "- name: jwksfetch\n"},
			[]string{"typed_config:\n              \"@type\": type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm", "jwksfetch_xds", "vm_config"}},
		{"the daemon's gRPC server", grpc,
			[]string{"api_type: DELTA_GRPC", "cluster_name: jwksfetch_xds", "port_value: 18000", "http2_protocol_options"},
			[]string{"path_config_source", "vm_config"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := string(tc.yaml)
			for _, w := range tc.want {
				if !strings.Contains(s, w) {
					t.Errorf("bootstrap lacks %q:\n%s", w, s)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(s, n) {
					t.Errorf("bootstrap has %q:\n%s", n, s)
				}
			}
		})
	}
	t.Run("gRPC is the default API type", func(t *testing.T) {
		b, err := Render(ports(&ECDS{XDSPort: 18000}))
		if err != nil || !strings.Contains(string(b), "api_type: GRPC\n") {
			t.Fatalf("err %v:\n%s", err, b)
		}
	})
	t.Run("contradictory values are refused", func(t *testing.T) {
		for name, b := range map[string]Bootstrap{
			"both sources":          ports(&ECDS{Path: "/x", XDSPort: 1}),
			"no source":             ports(&ECDS{}),
			"an API type for files": ports(&ECDS{Path: "/x", APIType: "GRPC"}),
			"an unknown API type":   ports(&ECDS{XDSPort: 1, APIType: "REST"}),
			"an inline config too": {AdminPort: 1, ListenPort: 2, UpstreamPort: 3, PluginConfig: "{}",
				ECDS: &ECDS{Path: "/x"}},
			"neither ECDS nor a module": {AdminPort: 1, ListenPort: 2, UpstreamPort: 3},
		} {
			if _, err := Render(b); err == nil {
				t.Errorf("%s: accepted", name)
			}
		}
	})
	t.Run("Envoy accepts both", func(t *testing.T) {
		bin := os.Getenv("TOKENGATE_ENVOY")
		if bin == "" {
			t.Skip("TOKENGATE_ENVOY is not set; `make e2e` installs Envoy")
		}
		// A path config source must name an existing file.
		watched := filepath.Join(t.TempDir(), "ecds.json")
		if err := os.WriteFile(watched, []byte(`{"resources":[]}`), 0o600); err != nil {
			t.Fatal(err)
		}
		file, err := Render(ports(&ECDS{Path: watched}))
		if err != nil {
			t.Fatal(err)
		}
		for name, y := range map[string][]byte{"file": file, "grpc": grpc} {
			p := filepath.Join(t.TempDir(), name+".yaml")
			if err := os.WriteFile(p, y, 0o600); err != nil {
				t.Fatal(err)
			}
			if out, err := exec.Command(bin, "--mode", "validate", "-c", p).CombinedOutput(); err != nil {
				t.Errorf("envoy refused the %s bootstrap: %v\n%s", name, err, out)
			}
		}
	})
}

func TestRemoteModuleBootstrap(t *testing.T) {
	t.Parallel()
	sha := strings.Repeat("ab", 32)
	b := Bootstrap{AdminPort: 9901, ListenPort: 10000, UpstreamPort: 9000, PluginConfig: "{}",
		Remote: &Remote{URL: "http://127.0.0.1:8080/tokengate.wasm", OriginPort: 8080, SHA256: sha}}
	y, err := Render(b)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{`uri: "http://127.0.0.1:8080/tokengate.wasm"`, `sha256: "` + sha + `"`, "cluster_name: wasm_origin", "port_value: 8080"} {
		if !strings.Contains(string(y), w) {
			t.Errorf("bootstrap lacks %q:\n%s", w, y)
		}
	}
	if strings.Contains(string(y), "local: {filename") {
		t.Errorf("bootstrap reads a local module too:\n%s", y)
	}
	for name, r := range map[string]Remote{"no URL": {OriginPort: 1, SHA256: sha}, "no port": {URL: "u", SHA256: sha},
		"a short digest": {URL: "u", OriginPort: 1, SHA256: "ab"}} {
		b.Remote = &r
		if _, err := Render(b); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	b.Remote, b.WasmPath = &Remote{URL: "u", OriginPort: 1, SHA256: sha}, "/x.wasm"
	if _, err := Render(b); err == nil {
		t.Error("both a local and a remote module: accepted")
	}
}
