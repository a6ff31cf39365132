package istio

import (
	"encoding/json"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v2"
)

// pinned is a public key as `jwksfetch keygen` prints it (RFC 8037's
// example key).
const pinned = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"

func pluginConfigOf(t *testing.T, out []byte) map[string]any {
	t.Helper()
	var doc map[any]any
	if err := yaml.Unmarshal(out, &doc); err != nil {
		t.Fatalf("not YAML: %v\n%s", err, out)
	}
	return toJSONish(doc).(map[string]any)["spec"].(map[string]any)["pluginConfig"].(map[string]any)
}

func TestRenderAddsTheBundleSection(t *testing.T) {
	t.Parallel()
	digest := strings.Repeat("ab", 32)
	tests := []struct {
		name   string
		bundle Bundle
		want   map[string]any
	}{
		{name: "the defaults: the jwksfetch Service in the tokengate namespace, port 9902",
			bundle: Bundle{PublicKeys: []string{pinned}},
			want: map[string]any{"cluster": "outbound|9902||jwksfetch.tokengate.svc.cluster.local",
				"authority": "jwksfetch.tokengate.svc.cluster.local", "public_keys": []any{pinned}}},
		{name: "every field",
			bundle: Bundle{Service: "keys", Namespace: "auth", Port: 8080, PublicKeys: []string{pinned, "1meaY-vtX0lx6QYRZWgB4YjOByLvFyvebKinjhAF7K4"},
				PollSeconds: 10, MaxStaleSeconds: 600},
			want: map[string]any{"cluster": "outbound|8080||keys.auth.svc.cluster.local", "authority": "keys.auth.svc.cluster.local",
				"public_keys": []any{pinned, "1meaY-vtX0lx6QYRZWgB4YjOByLvFyvebKinjhAF7K4"}, "poll_interval_seconds": float64(10), "max_stale_seconds": float64(600)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := tt.bundle
			out, err := Render(WasmPlugin{Image: "ghcr.io/acme/tokengate:v1", SHA256: digest, Bundle: &b})
			if err != nil {
				t.Fatal(err)
			}
			cfg := pluginConfigOf(t, out)
			got, _ := json.Marshal(cfg["bundle"])
			want, _ := json.Marshal(tt.want)
			if string(got) != string(want) {
				t.Fatalf("bundle section\n got %s\nwant %s", got, want)
			}
			var def map[string]any
			_ = json.Unmarshal([]byte(DefaultPluginConfig), &def)
			for k, v := range def {
				g, _ := json.Marshal(cfg[k])
				w, _ := json.Marshal(v)
				if string(g) != string(w) {
					t.Errorf("%s changed: %s, was %s", k, g, w)
				}
			}
		})
	}
	t.Run("the section comes first, the configuration's members keep their order", func(t *testing.T) {
		out, err := Render(WasmPlugin{Image: "ghcr.io/acme/tokengate:v1", SHA256: digest, Bundle: &Bundle{PublicKeys: []string{pinned}},
			PluginConfig: []byte(`{"realm":"m","providers":{"corp":{"issuer":"https://i"}}}`)})
		if err != nil {
			t.Fatal(err)
		}
		s := string(out)
		if b, r, p := strings.Index(s, `"bundle"`), strings.Index(s, `"realm"`), strings.Index(s, `"providers"`); b < 0 || !(b < r && r < p) {
			t.Fatalf("member order:\n%s", s)
		}
	})
}

func TestRenderRefusesABadBundle(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		bundle Bundle
		config string
		err    string
	}{
		{name: "no pinned key", bundle: Bundle{}, err: "no public key to pin"},
		{name: "a key that is not one", bundle: Bundle{PublicKeys: []string{"MCowBQYDK2VwAyEA"}}, err: "public key 0: a pinned bundle key must be"},
		{name: "an upper-case namespace", bundle: Bundle{Namespace: "Auth", PublicKeys: []string{pinned}}, err: "not a valid Kubernetes name"},
		{name: "a port out of range", bundle: Bundle{Port: 70000, PublicKeys: []string{pinned}}, err: "not a TCP port"},
		{name: "max_stale no longer than the poll", bundle: Bundle{PublicKeys: []string{pinned}, PollSeconds: 60, MaxStaleSeconds: 30}, err: "must be longer"},
		{name: "a configuration with a bundle section", bundle: Bundle{PublicKeys: []string{pinned}},
			config: `{"bundle":{},"providers":{}}`, err: "has a \"bundle\" section already"},
	}
	for _, tt := range tests {
		t.Run(tt.name+" is refused", func(t *testing.T) {
			t.Parallel()
			b := tt.bundle
			p := WasmPlugin{Image: "ghcr.io/acme/tokengate:v1", SHA256: strings.Repeat("a", 64), Bundle: &b}
			if tt.config != "" {
				p.PluginConfig = []byte(tt.config)
			}
			if _, err := Render(p); err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("error = %v, want one containing %q", err, tt.err)
			}
		})
	}
}

// TestTheDocsDeployJWKSFetchAsTheBundleSectionExpects reads the Kubernetes
// resources docs/distribution.md prints for jwksfetch under Istio and holds
// them to what the plugin's "bundle" section needs: the cluster and host
// Istio derives from the Service, the daemon serving bundles on that port
// to other pods, and a signing key it will accept.
func TestTheDocsDeployJWKSFetchAsTheBundleSectionExpects(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("../../docs/distribution.md")
	if err != nil {
		t.Fatal(err)
	}
	const marker = "<!-- istio:jwksfetch -->\n```yaml\n"
	i := strings.Index(string(doc), marker)
	if i < 0 {
		t.Fatalf("docs/distribution.md lost its %q block", marker)
	}
	block := string(doc)[i+len(marker):]
	block = block[:strings.Index(block, "\n```")]
	kinds := map[string]map[string]any{}
	dec := yaml.NewDecoder(strings.NewReader(block))
	for {
		var r map[any]any
		if err := dec.Decode(&r); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("the YAML does not parse: %v", err)
		}
		m := toJSONish(r).(map[string]any)
		kinds[m["kind"].(string)] = m
	}
	for _, k := range []string{"ConfigMap", "Deployment", "Service", "AuthorizationPolicy"} {
		if kinds[k] == nil {
			t.Fatalf("no %s among %v", k, kinds)
		}
	}
	at := func(v any, path ...any) any {
		for _, p := range path {
			switch k := p.(type) {
			case string:
				v = v.(map[string]any)[k]
			case int:
				v = v.([]any)[k]
			}
		}
		return v
	}
	svc := kinds["Service"]
	port := int(at(svc, "spec", "ports", 0, "port").(float64))
	b := Bundle{Service: at(svc, "metadata", "name").(string), Namespace: at(svc, "metadata", "namespace").(string), Port: port}

	var cfg struct {
		Bundle struct {
			Cluster, Authority string
			Keys               []string `json:"public_keys"`
		}
	}
	if err := json.Unmarshal([]byte(at(kinds["ConfigMap"], "data", "tokengate.json").(string)), &cfg); err != nil {
		t.Fatalf("the ConfigMap's configuration: %v", err)
	}
	if cfg.Bundle.Cluster != b.Cluster() || cfg.Bundle.Authority != b.Host() {
		t.Errorf("the configuration names %s (%s); Istio calls the Service %s (%s)", cfg.Bundle.Cluster, cfg.Bundle.Authority, b.Cluster(), b.Host())
	}
	b.PublicKeys = cfg.Bundle.Keys
	if _, err := b.section(); err != nil {
		t.Errorf("the configuration's bundle section: %v", err)
	}
	if !strings.Contains(string(doc), `"cluster": "`+b.Cluster()+`"`) {
		t.Errorf("the plugin configuration printed in the docs does not name %s", b.Cluster())
	}

	pod := at(kinds["Deployment"], "spec", "template", "spec")
	args := strings.Join(func() []string {
		var out []string
		for _, a := range at(pod, "containers", 0, "args").([]any) {
			out = append(out, a.(string))
		}
		return out
	}(), " ")
	target := int(at(svc, "spec", "ports", 0, "targetPort").(float64))
	if !strings.Contains(args, "--admin-listen :"+strconv.Itoa(target)) || !strings.Contains(args, "--bundle-key /run/jwksfetch/bundle.key") {
		t.Errorf("jwksfetch's args %q do not serve bundles on every interface's port %d", args, target)
	}
	for _, v := range at(pod, "volumes").([]any) {
		if s, ok := v.(map[string]any)["secret"]; ok {
			if mode := s.(map[string]any)["defaultMode"]; mode != float64(0o400) {
				t.Errorf("the Secret's defaultMode is %v, want 0400", mode)
			}
		}
	}
	if init := at(pod, "initContainers", 0, "command").([]any); init[2] != "0600" {
		t.Errorf("the key is copied with mode %v, want 0600", init[2])
	}
}
