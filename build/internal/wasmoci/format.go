package wasmoci

import (
	"fmt"
	"strings"
)

// Format names one of the three image layouts a Wasm module is published in.
type Format string

const (
	// FormatCompat is the Istio "compat" variant: an OCI image manifest with
	// one application/vnd.oci.image.layer.v1.tar+gzip layer holding
	// plugin.wasm, annotated module.wasm.image/variant=compat. Every Istio
	// version that loads Wasm from OCI accepts it, and so do docker, podman
	// and crane, so it is the default.
	FormatCompat Format = "compat"

	// FormatOCI is the solo.io "Wasm Artifact Image" variant: exactly two
	// layers, the raw module as application/vnd.module.wasm.content.layer.v1+wasm
	// and an Envoy runtime configuration as application/vnd.module.wasm.config.v1+json.
	// Istio accepts it; some registries refuse its custom media types.
	FormatOCI Format = "oci"

	// FormatWasm is the CNCF TAG-Runtime "Wasm OCI Artifact" layout: a config
	// of type application/vnd.wasm.config.v0+json and one application/wasm
	// layer holding the raw module. wkg, wasmCloud, Spin and runwasi read it;
	// Istio does not, so use it for registries and tools that follow the
	// CNCF layout, not for WasmPlugin.
	FormatWasm Format = "wasm"
)

// Formats returns the formats Build writes, the default first.
func Formats() []Format { return []Format{FormatCompat, FormatOCI, FormatWasm} }

// ParseFormat returns the Format named s (case-insensitive).
func ParseFormat(s string) (Format, error) {
	for _, f := range Formats() {
		if strings.EqualFold(s, string(f)) {
			return f, nil
		}
	}
	return "", fmt.Errorf("wasmoci: unknown format %q: use compat (Istio, the default), oci (solo.io two-layer image) or wasm (CNCF Wasm OCI artifact)", s)
}

// Media types and annotation keys of the three layouts.
const (
	// MediaTypeWasmContentLayer is the raw module layer of FormatOCI.
	MediaTypeWasmContentLayer = "application/vnd.module.wasm.content.layer.v1+wasm"
	// MediaTypeWasmRuntimeConfig is the runtime configuration of FormatOCI,
	// used both as the manifest's config and as its second layer.
	MediaTypeWasmRuntimeConfig = "application/vnd.module.wasm.config.v1+json"
	// MediaTypeCNCFWasmConfig is the manifest config of FormatWasm.
	MediaTypeCNCFWasmConfig = "application/vnd.wasm.config.v0+json"
	// MediaTypeCNCFWasmLayer is the raw module layer of FormatWasm.
	MediaTypeCNCFWasmLayer = "application/wasm"

	// AnnotationVariant marks a FormatCompat manifest.
	AnnotationVariant = "module.wasm.image/variant"

	annotationTitle    = "org.opencontainers.image.title"
	annotationSource   = "org.opencontainers.image.source"
	annotationRevision = "org.opencontainers.image.revision"
	annotationVersion  = "org.opencontainers.image.version"
	annotationCreated  = "org.opencontainers.image.created"
)

// ModuleFileName is the name of the module inside a FormatCompat layer, and
// the title of the module layer in the other formats. Istio's fetcher looks
// for exactly this base name.
const ModuleFileName = "plugin.wasm"

// runtimeConfigFileName is the title of the FormatOCI runtime configuration.
const runtimeConfigFileName = "runtime-config.json"
