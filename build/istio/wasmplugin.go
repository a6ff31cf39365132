package istio

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"text/template"
)

//go:embed wasmplugin.yaml.tmpl
var wasmPluginTemplate string

var tmpl = template.Must(template.New("wasmplugin").Funcs(template.FuncMap{
	"json": func(v string) (string, error) {
		b, err := json.Marshal(v)
		return string(b), err
	},
}).Parse(wasmPluginTemplate))

// WasmPlugin are the values of the WasmPlugin resource. Image and SHA256 are
// required; the rest have the defaults documented on each field.
type WasmPlugin struct {
	// Name and Namespace of the resource (default tokengate, istio-system).
	Name, Namespace string
	// Image is the pushed reference, with or without oci://.
	Image string
	// SHA256 is the manifest digest, "sha256:<hex>" or the bare hex.
	SHA256 string
	// Selector picks the workloads (default istio: ingressgateway).
	Selector map[string]string
	// PluginConfig is the tokengate configuration, a JSON object
	// (default: DefaultPluginConfig).
	PluginConfig []byte
	// FailStrategy is FAIL_CLOSE (default), FAIL_OPEN or FAIL_RELOAD.
	FailStrategy string
	// ImagePullPolicy is IfNotPresent (default) or Always.
	ImagePullPolicy string
	// PluginName is the root_id (default tokengate).
	PluginName string
	// Bundle, if set, adds the "bundle" section that makes the plugin poll
	// signed key bundles from the jwksfetch Service (bundle.go).
	Bundle *Bundle
}

// DefaultPluginConfig is the example configuration of the checked-in
// WasmPlugin: one provider whose keys jwksfetch fills in, a public health
// check, and every other path behind a token.
const DefaultPluginConfig = `{
  "realm": "models",
  "providers": {
    "corp": {
      "issuer": "https://idp.example.com/realms/ml",
      "audiences": ["api://scoring"],
      "jwks_uri": "https://idp.example.com/realms/ml/protocol/openid-connect/certs"
    }
  },
  "rules": [
    {"match": {"prefix": "/healthz"}},
    {"match": {"prefix": "/v1/score"}, "requires": {"providers": ["corp"], "scopes": ["score"]}},
    {"match": {"prefix": "/"}, "requires": {"providers": ["corp"]}}
  ]
}`

// Placeholders of the checked-in build/istio/wasmplugin.yaml.
const (
	PlaceholderImage  = "registry.example.com/tokengate/tokengate:VERSION"
	PlaceholderSHA256 = "MANIFEST_DIGEST_FILLED_IN_BY_MAKE_OCI"
)

var (
	hex64     = regexp.MustCompile(`^[a-f0-9]{64}$`)
	dnsLabel  = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`)
	labelPart = regexp.MustCompile(`^[A-Za-z0-9]([-A-Za-z0-9_./]{0,251}[A-Za-z0-9])?$`)
	imageRef  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:/@+-]*$`)
)

// Render returns the WasmPlugin YAML for p. It refuses values Istio would
// refuse, so that what it prints can be applied as it is.
func Render(p WasmPlugin) ([]byte, error) {
	h := strings.TrimPrefix(p.SHA256, "sha256:")
	if !hex64.MatchString(h) {
		return nil, fmt.Errorf("istio: sha256 %q is not a manifest digest (sha256:<64 lowercase hex>); use the digest `wasm-oci push` printed", p.SHA256)
	}
	p.SHA256 = h
	return render(p, false)
}

func render(p WasmPlugin, placeholder bool) ([]byte, error) {
	v := struct {
		WasmPlugin
		URL          string
		PluginConfig string
		Placeholder  bool
		Phase        string
	}{WasmPlugin: p, Placeholder: placeholder, Phase: "AUTHN"}

	def := func(s *string, d string) {
		if *s == "" {
			*s = d
		}
	}
	def(&v.Name, "tokengate")
	def(&v.Namespace, "istio-system")
	def(&v.FailStrategy, "FAIL_CLOSE")
	def(&v.ImagePullPolicy, "IfNotPresent")
	def(&v.WasmPlugin.PluginName, "tokengate")
	if v.Selector == nil {
		v.Selector = map[string]string{"istio": "ingressgateway"}
	}
	for _, s := range []string{v.Name, v.Namespace} {
		if !dnsLabel.MatchString(s) {
			return nil, fmt.Errorf("istio: %q is not a valid Kubernetes name (lowercase letters, digits and '-', at most 63)", s)
		}
	}
	for k, val := range v.Selector {
		if !labelPart.MatchString(k) || (val != "" && !labelPart.MatchString(val)) {
			return nil, fmt.Errorf("istio: selector %s=%s is not a valid Kubernetes label", k, val)
		}
	}
	if len(v.WasmPlugin.PluginName) > 256 {
		return nil, fmt.Errorf("istio: pluginName has %d characters; Istio allows at most 256", len(v.WasmPlugin.PluginName))
	}
	switch v.FailStrategy {
	case "FAIL_CLOSE", "FAIL_OPEN", "FAIL_RELOAD":
	default:
		return nil, fmt.Errorf("istio: failStrategy %q: use FAIL_CLOSE (refuse requests when the plugin is unavailable), FAIL_OPEN or FAIL_RELOAD", v.FailStrategy)
	}
	switch v.ImagePullPolicy {
	case "IfNotPresent", "Always":
	default:
		return nil, fmt.Errorf("istio: imagePullPolicy %q: use IfNotPresent or Always", v.ImagePullPolicy)
	}
	image := strings.TrimPrefix(p.Image, "oci://")
	if !imageRef.MatchString(image) {
		return nil, fmt.Errorf("istio: image %q is not an image reference like ghcr.io/acme/tokengate:v1.0.0", p.Image)
	}
	v.URL = "oci://" + image

	cfg := p.PluginConfig
	if cfg == nil {
		cfg = []byte(DefaultPluginConfig)
	}
	if p.Bundle != nil {
		var err error
		if cfg, err = withBundle(cfg, *p.Bundle); err != nil {
			return nil, err
		}
	}
	pc, err := indentObject(cfg)
	if err != nil {
		return nil, err
	}
	v.PluginConfig = pc

	var out bytes.Buffer
	if err := tmpl.Execute(&out, v); err != nil {
		return nil, fmt.Errorf("istio: rendering the WasmPlugin: %w", err)
	}
	return out.Bytes(), nil
}

// indentObject returns the JSON object cfg, indented to sit under
// spec.pluginConfig, its members in their original order. JSON is YAML flow
// syntax, so the object is written as it is and Istio hands Envoy the same
// JSON.
func indentObject(cfg []byte) (string, error) {
	var compact bytes.Buffer
	if err := json.Compact(&compact, cfg); err != nil {
		return "", fmt.Errorf("istio: the plugin configuration is not valid JSON: %w", err)
	}
	if !bytes.HasPrefix(compact.Bytes(), []byte("{")) {
		return "", fmt.Errorf("istio: the plugin configuration must be a JSON object, not %.20s", compact.String())
	}
	var out bytes.Buffer
	if err := json.Indent(&out, compact.Bytes(), "    ", "  "); err != nil {
		return "", fmt.Errorf("istio: indenting the plugin configuration: %w", err)
	}
	return out.String(), nil
}
