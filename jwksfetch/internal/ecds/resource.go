package ecds

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	wasmfilterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/wasm/v3"
	wasmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/wasm/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// ParseTemplate reads a PluginConfig template in its proto JSON form (the
// form Envoy's YAML/JSON configuration uses). It must select a VM
// ("vm_config") and must not carry "configuration", which is filled in for
// every publication.
func ParseTemplate(data []byte) (*wasmv3.PluginConfig, error) {
	var pc wasmv3.PluginConfig
	if err := protojson.Unmarshal(data, &pc); err != nil {
		return nil, fmt.Errorf("ecds: the Wasm template is not a JSON envoy.extensions.wasm.v3.PluginConfig: %w", err)
	}
	if pc.GetConfiguration() != nil {
		return nil, errors.New(`ecds: the Wasm template must not set "configuration"; jwksfetch fills it with the rendered plugin configuration`)
	}
	if pc.GetVmConfig() == nil {
		return nil, errors.New(`ecds: the Wasm template needs "vm_config" (runtime and code of the tokengate module)`)
	}
	if err := pc.ValidateAll(); err != nil {
		return nil, fmt.Errorf("ecds: the Wasm template is invalid: %w", err)
	}
	return &pc, nil
}

// Resource returns the TypedExtensionConfig named name: the Wasm filter
// built from tmpl with configuration set to config.
func Resource(name string, tmpl *wasmv3.PluginConfig, config []byte) (*corev3.TypedExtensionConfig, error) {
	if name == "" {
		return nil, errors.New("ecds: the resource name must not be empty")
	}
	pc := proto.Clone(tmpl).(*wasmv3.PluginConfig)
	conf, err := anypb.New(wrapperspb.String(string(config)))
	if err != nil {
		return nil, fmt.Errorf("ecds: packing the plugin configuration: %w", err)
	}
	pc.Configuration = conf
	filter, err := anypb.New(&wasmfilterv3.Wasm{Config: pc})
	if err != nil {
		return nil, fmt.Errorf("ecds: packing the Wasm filter: %w", err)
	}
	res := &corev3.TypedExtensionConfig{Name: name, TypedConfig: filter}
	if err := res.ValidateAll(); err != nil {
		return nil, fmt.Errorf("ecds: the extension config is invalid: %w", err)
	}
	return res, nil
}

// Version returns a version string derived from the resource's content, so
// that the same configuration always carries the same version, across
// restarts too.
func Version(res *corev3.TypedExtensionConfig) (string, error) {
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(res)
	if err != nil {
		return "", fmt.Errorf("ecds: encoding the extension config: %w", err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8]), nil
}
