package istio

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/tokengate/tokengate/internal/keybundle"
)

// Bundle makes the rendered WasmPlugin take its key sets from signed key
// bundles that the jwksfetch Service in the mesh serves, so that key
// rotation needs no new pluginConfig (docs/distribution.md, "Istio: keys
// without re-applying anything"). Render adds the plugin's "bundle"
// section (docs/configuration.md) to the configuration.
type Bundle struct {
	// Service, Namespace and Port of the jwksfetch Service: its admin port,
	// where it serves GET /bundle and POST /refresh (default jwksfetch,
	// tokengate, 9902).
	Service, Namespace string
	Port               int
	// PublicKeys are the pinned signing keys, as `jwksfetch keygen`
	// printed them: one, or two while the signing key is rotated.
	PublicKeys []string
	// PollSeconds and MaxStaleSeconds are the plugin's
	// poll_interval_seconds and max_stale_seconds; 0 keeps its defaults.
	PollSeconds, MaxStaleSeconds int
}

func (b Bundle) withDefaults() Bundle {
	if b.Service == "" {
		b.Service = "jwksfetch"
	}
	if b.Namespace == "" {
		b.Namespace = "tokengate"
	}
	if b.Port == 0 {
		b.Port = 9902
	}
	return b
}

// Host is the Service's name in the mesh, SERVICE.NAMESPACE.svc.cluster.local,
// which the plugin sends as :authority.
func (b Bundle) Host() string {
	b = b.withDefaults()
	return b.Service + "." + b.Namespace + ".svc.cluster.local"
}

// Cluster is the Envoy cluster Istio creates for the Service's port,
// outbound|PORT||SERVICE.NAMESPACE.svc.cluster.local: the upstream the
// plugin's calls name.
func (b Bundle) Cluster() string {
	b = b.withDefaults()
	return "outbound|" + strconv.Itoa(b.Port) + "||" + b.Host()
}

// section checks b and returns the plugin's "bundle" section for it.
func (b Bundle) section() ([]byte, error) {
	b = b.withDefaults()
	for _, s := range []string{b.Service, b.Namespace} {
		if !dnsLabel.MatchString(s) {
			return nil, fmt.Errorf("istio: bundle: %q is not a valid Kubernetes name (lowercase letters, digits and '-', at most 63)", s)
		}
	}
	if b.Port < 1 || b.Port > 65535 {
		return nil, fmt.Errorf("istio: bundle: port %d is not a TCP port", b.Port)
	}
	if len(b.PublicKeys) == 0 {
		return nil, fmt.Errorf("istio: bundle: no public key to pin; run `jwksfetch keygen --out bundle.key` and pin the key it prints")
	}
	for i, k := range b.PublicKeys {
		if _, err := keybundle.ParsePublicKey(k); err != nil {
			return nil, fmt.Errorf("istio: bundle: public key %d: %w", i, err)
		}
	}
	if b.PollSeconds < 0 || b.MaxStaleSeconds < 0 || b.MaxStaleSeconds != 0 && b.MaxStaleSeconds <= b.PollSeconds {
		return nil, fmt.Errorf("istio: bundle: max_stale_seconds (%d) must be longer than poll_interval_seconds (%d)", b.MaxStaleSeconds, b.PollSeconds)
	}
	s := struct {
		Cluster   string   `json:"cluster"`
		Authority string   `json:"authority"`
		Keys      []string `json:"public_keys"`
		Poll      int      `json:"poll_interval_seconds,omitempty"`
		MaxStale  int      `json:"max_stale_seconds,omitempty"`
	}{b.Cluster(), b.Host(), b.PublicKeys, b.PollSeconds, b.MaxStaleSeconds}
	return json.Marshal(s)
}

// withBundle returns the configuration cfg, a JSON object, with the "bundle"
// section first; a configuration that has one already is refused.
func withBundle(cfg []byte, b Bundle) ([]byte, error) {
	var compact bytes.Buffer
	if err := json.Compact(&compact, cfg); err != nil {
		return nil, fmt.Errorf("istio: the plugin configuration is not valid JSON: %w", err)
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(compact.Bytes(), &members); err != nil || members == nil {
		return nil, fmt.Errorf("istio: the plugin configuration must be a JSON object")
	}
	if _, ok := members["bundle"]; ok {
		return nil, fmt.Errorf("istio: the plugin configuration has a \"bundle\" section already; set WasmPlugin.Bundle or write the section, not both")
	}
	section, err := b.section()
	if err != nil {
		return nil, err
	}
	rest := bytes.TrimPrefix(compact.Bytes(), []byte("{"))
	out := append([]byte(`{"bundle":`), section...)
	if !bytes.Equal(rest, []byte("}")) {
		out = append(out, ',')
	}
	return append(out, rest...), nil
}
