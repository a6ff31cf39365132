package istio

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"reflect"
	"strings"
	"testing"

	"go.yaml.in/yaml/v2"
)

var update = flag.Bool("update", false, "rewrite wasmplugin.yaml from the template")

func TestTheCheckedInWasmPluginIsTheTemplatesOutput(t *testing.T) {
	want, err := render(WasmPlugin{Image: PlaceholderImage, SHA256: PlaceholderSHA256}, true)
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile("wasmplugin.yaml", want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile("wasmplugin.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("build/istio/wasmplugin.yaml differs from the template's output; run `go test ./build/istio -update`\n--- got\n%s\n--- want\n%s", got, want)
	}
	if _, err := Render(WasmPlugin{Image: PlaceholderImage, SHA256: PlaceholderSHA256}); err == nil {
		t.Fatal("Render accepted the placeholder digest")
	}
}

// toJSONish turns the map[interface{}]interface{} yaml.v2 decodes into the
// map[string]any encoding/json decodes, so the two can be compared.
func toJSONish(v any) any {
	switch x := v.(type) {
	case map[any]any:
		m := map[string]any{}
		for k, e := range x {
			m[k.(string)] = toJSONish(e)
		}
		return m
	case []any:
		for i := range x {
			x[i] = toJSONish(x[i])
		}
		return x
	case int:
		return float64(x)
	default:
		return x
	}
}

func TestRenderWritesAWasmPluginWithTheGivenValues(t *testing.T) {
	t.Parallel()
	cfg := []byte(`{"realm":"r <&> \"q\"","providers":{"p":{"issuer":"https://i.example","jwks":{"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}}},"rules":[{"match":{"prefix":"/"},"requires":{"providers":["p"]}}],"n":1.5}`)
	digest := strings.Repeat("0123456789abcdef", 4)
	tests := []struct {
		name string
		in   WasmPlugin
		want map[string]any
	}{
		{
			name: "the defaults pin the digest and fail closed in AUTHN",
			in:   WasmPlugin{Image: "ghcr.io/acme/tokengate:v1.0.0", SHA256: "sha256:" + digest},
			want: map[string]any{"name": "tokengate", "namespace": "istio-system", "url": "oci://ghcr.io/acme/tokengate:v1.0.0",
				"failStrategy": "FAIL_CLOSE", "imagePullPolicy": "IfNotPresent", "selector": map[string]any{"istio": "ingressgateway"}},
		},
		{
			name: "every field can be set",
			in: WasmPlugin{Name: "authn", Namespace: "models", Image: "oci://127.0.0.1:5000/t@sha256:" + digest, SHA256: digest,
				Selector: map[string]string{"app": "scoring", "tier": "api"}, PluginConfig: cfg, FailStrategy: "FAIL_RELOAD", ImagePullPolicy: "Always", PluginName: "tg"},
			want: map[string]any{"name": "authn", "namespace": "models", "url": "oci://127.0.0.1:5000/t@sha256:" + digest,
				"failStrategy": "FAIL_RELOAD", "imagePullPolicy": "Always", "pluginName": "tg", "selector": map[string]any{"app": "scoring", "tier": "api"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := Render(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			var doc map[any]any
			if err := yaml.Unmarshal(out, &doc); err != nil {
				t.Fatalf("not YAML: %v\n%s", err, out)
			}
			d := toJSONish(doc).(map[string]any)
			meta, spec := d["metadata"].(map[string]any), d["spec"].(map[string]any)
			check := func(what string, got, want any) {
				t.Helper()
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%s = %#v, want %#v", what, got, want)
				}
			}
			check("apiVersion", d["apiVersion"], "extensions.istio.io/v1alpha1")
			check("kind", d["kind"], "WasmPlugin")
			check("metadata.name", meta["name"], tt.want["name"])
			check("metadata.namespace", meta["namespace"], tt.want["namespace"])
			check("spec.url", spec["url"], tt.want["url"])
			check("spec.sha256", spec["sha256"], digest)
			check("spec.phase", spec["phase"], "AUTHN")
			check("spec.failStrategy", spec["failStrategy"], tt.want["failStrategy"])
			check("spec.imagePullPolicy", spec["imagePullPolicy"], tt.want["imagePullPolicy"])
			check("spec.selector.matchLabels", spec["selector"].(map[string]any)["matchLabels"], tt.want["selector"])
			wantName := "tokengate"
			if n, ok := tt.want["pluginName"]; ok {
				wantName = n.(string)
			}
			check("spec.pluginName", spec["pluginName"], wantName)

			src := tt.in.PluginConfig
			if src == nil {
				src = []byte(DefaultPluginConfig)
			}
			var wantCfg any
			if err := json.Unmarshal(src, &wantCfg); err != nil {
				t.Fatal(err)
			}
			check("spec.pluginConfig", spec["pluginConfig"], wantCfg)
		})
	}
}

func TestRenderRefusesWhatIstioWouldRefuse(t *testing.T) {
	t.Parallel()
	ok := WasmPlugin{Image: "ghcr.io/acme/tokengate:v1", SHA256: strings.Repeat("a", 64)}
	tests := []struct {
		name    string
		mutate  func(*WasmPlugin)
		wantErr string
	}{
		{"a short digest", func(p *WasmPlugin) { p.SHA256 = "abc" }, "not a manifest digest"},
		{"an uppercase digest", func(p *WasmPlugin) { p.SHA256 = strings.Repeat("A", 64) }, "not a manifest digest"},
		{"a missing image", func(p *WasmPlugin) { p.Image = "" }, "not an image reference"},
		{"an image with a line break", func(p *WasmPlugin) { p.Image = "ghcr.io/a:v1\nsha256: x" }, "not an image reference"},
		{"an upper-case name", func(p *WasmPlugin) { p.Name = "TokenGate" }, "not a valid Kubernetes name"},
		{"an unknown fail strategy", func(p *WasmPlugin) { p.FailStrategy = "FAIL_SOMETIMES" }, "failStrategy"},
		{"an unknown pull policy", func(p *WasmPlugin) { p.ImagePullPolicy = "Never" }, "imagePullPolicy"},
		{"a selector label with a space", func(p *WasmPlugin) { p.Selector = map[string]string{"a b": "c"} }, "label"},
		{"a plugin name over 256 characters", func(p *WasmPlugin) { p.PluginName = strings.Repeat("x", 257) }, "at most 256"},
		{"a configuration that is an array", func(p *WasmPlugin) { p.PluginConfig = []byte(`[1]`) }, "must be a JSON object"},
		{"a configuration that is not JSON", func(p *WasmPlugin) { p.PluginConfig = []byte(`{realm: x}`) }, "not valid JSON"},
		{"a configuration with trailing data", func(p *WasmPlugin) { p.PluginConfig = []byte(`{} {}`) }, "not valid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name+" is refused", func(t *testing.T) {
			p := ok
			tt.mutate(&p)
			_, err := Render(p)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}
