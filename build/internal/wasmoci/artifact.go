package wasmoci

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/tokengate/tokengate/internal/abi"
)

// Artifact is a Wasm module laid out as an OCI image, built in memory and
// ready to push. Its manifest, configuration and layers are fixed byte
// strings, so its digest is known before anything is uploaded.
type Artifact struct {
	format   Format
	manifest []byte
	digest   v1.Hash
	config   blob
	layers   []blob
}

// blob is one content-addressed byte string and its descriptor.
type blob struct {
	desc v1.Descriptor
	data []byte
}

func newBlob(data []byte, mt types.MediaType, annotations map[string]string) blob {
	return blob{
		desc: v1.Descriptor{MediaType: mt, Size: int64(len(data)), Digest: sha256Hash(data), Annotations: annotations},
		data: data,
	}
}

func sha256Hash(b []byte) v1.Hash {
	sum := sha256.Sum256(b)
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(sum[:])}
}

// Build lays module out in format. The result is a pure function of its
// inputs: the same module, format and options always give the same bytes and
// so the same digest. module must be a core WebAssembly module.
func Build(module []byte, format Format, opts ...Option) (*Artifact, error) {
	if err := checkModule(module); err != nil {
		return nil, err
	}
	s := buildSettings{rootID: "tokengate"}
	for _, o := range opts {
		o(&s)
	}
	if s.rootID == "" {
		return nil, fmt.Errorf("wasmoci: the root ID is empty; pass the plugin's root_id (default tokengate)")
	}

	var (
		a   = &Artifact{format: format}
		err error
	)
	annotations := s.annotations()
	switch format {
	case FormatCompat:
		err = a.layoutCompat(module, s)
	case FormatOCI:
		err = a.layoutOCI(module, s)
	case FormatWasm:
		err = a.layoutWasm(module, s)
	default:
		err = fmt.Errorf("wasmoci: unknown format %q: use FormatCompat, FormatOCI or FormatWasm (ParseFormat reads a flag value)", format)
	}
	if err != nil {
		return nil, err
	}
	if format == FormatCompat {
		annotations[AnnotationVariant] = "compat"
	}

	m := v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.OCIManifestSchema1,
		Config:        a.config.desc,
		Annotations:   annotations,
	}
	for _, l := range a.layers {
		m.Layers = append(m.Layers, l.desc)
	}
	if len(m.Annotations) == 0 {
		m.Annotations = nil
	}
	// encoding/json writes struct fields in declaration order and map keys
	// sorted, so the manifest bytes are stable.
	a.manifest, err = json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("wasmoci: encoding the manifest: %w", err)
	}
	a.digest = sha256Hash(a.manifest)
	return a, nil
}

// annotations returns the standard OCI annotations that were set.
func (s buildSettings) annotations() map[string]string {
	m := map[string]string{}
	put := func(k, v string) {
		if v != "" {
			m[k] = v
		}
	}
	put(annotationSource, s.source)
	put(annotationRevision, s.revision)
	put(annotationVersion, s.version)
	if !s.created.IsZero() {
		put(annotationCreated, s.created.Format(time.RFC3339))
	}
	return m
}

// createdOrEpoch is the time written where a time is mandatory.
func (s buildSettings) createdOrEpoch() time.Time {
	if s.created.IsZero() {
		return time.Unix(0, 0).UTC()
	}
	return s.created
}

// imageConfig is the OCI image configuration of FormatCompat.
type imageConfig struct {
	Created      string   `json:"created,omitempty"`
	Architecture string   `json:"architecture"`
	OS           string   `json:"os"`
	Config       struct{} `json:"config"`
	RootFS       rootFS   `json:"rootfs"`
}

type rootFS struct {
	Type    string   `json:"type"`
	DiffIDs []string `json:"diff_ids"`
}

func (a *Artifact) layoutCompat(module []byte, s buildSettings) error {
	tarball, gz, err := compatLayer(module, s.createdOrEpoch())
	if err != nil {
		return err
	}
	cfg := imageConfig{Architecture: "wasm", OS: "wasip1", RootFS: rootFS{Type: "layers", DiffIDs: []string{sha256Hash(tarball).String()}}}
	if !s.created.IsZero() {
		cfg.Created = s.created.Format(time.RFC3339)
	}
	raw, err := json.Marshal(cfg)
	if err != nil {
		return fmt.Errorf("wasmoci: encoding the image configuration: %w", err)
	}
	a.config = newBlob(raw, types.OCIConfigJSON, nil)
	a.layers = []blob{newBlob(gz, types.OCILayer, nil)}
	return nil
}

// runtimeConfig is the FormatOCI runtime configuration for Envoy.
type runtimeConfig struct {
	Type        string   `json:"type"`
	ABIVersions []string `json:"abiVersions"`
	Config      struct {
		RootIDs []string `json:"root_ids"`
	} `json:"config"`
}

func (a *Artifact) layoutOCI(module []byte, s buildSettings) error {
	rc := runtimeConfig{Type: "envoy_proxy", ABIVersions: []string{abi.ABIVersionExport}}
	rc.Config.RootIDs = []string{s.rootID}
	raw, err := json.Marshal(rc)
	if err != nil {
		return fmt.Errorf("wasmoci: encoding the runtime configuration: %w", err)
	}
	// The runtime configuration is both the manifest's config (as the wasme
	// tool wrote it) and a layer, because Istio's fetcher requires exactly
	// two layers and picks the module among them by media type.
	a.config = newBlob(raw, MediaTypeWasmRuntimeConfig, nil)
	a.layers = []blob{
		newBlob(raw, MediaTypeWasmRuntimeConfig, map[string]string{annotationTitle: runtimeConfigFileName}),
		newBlob(module, MediaTypeWasmContentLayer, map[string]string{annotationTitle: ModuleFileName}),
	}
	return nil
}

// cncfConfig is the FormatWasm configuration (application/vnd.wasm.config.v0+json).
type cncfConfig struct {
	Created      string   `json:"created"`
	Architecture string   `json:"architecture"`
	OS           string   `json:"os"`
	LayerDigests []string `json:"layerDigests"`
}

func (a *Artifact) layoutWasm(module []byte, s buildSettings) error {
	layer := newBlob(module, MediaTypeCNCFWasmLayer, map[string]string{annotationTitle: ModuleFileName})
	cfg := cncfConfig{
		Created:      s.createdOrEpoch().Format(time.RFC3339),
		Architecture: "wasm",
		OS:           "wasip1",
		LayerDigests: []string{layer.desc.Digest.String()},
	}
	raw, err := json.Marshal(cfg)
	if err != nil {
		return fmt.Errorf("wasmoci: encoding the Wasm configuration: %w", err)
	}
	a.config = newBlob(raw, MediaTypeCNCFWasmConfig, nil)
	a.layers = []blob{layer}
	return nil
}

// Format returns the layout of the artifact.
func (a *Artifact) Format() Format { return a.format }

// Digest returns the manifest digest, "sha256:<hex>": the value to pin in a
// WasmPlugin's sha256 field (without the "sha256:" prefix) or in an
// image reference (repo@sha256:<hex>).
func (a *Artifact) Digest() string { return a.digest.String() }

// Manifest returns a copy of the manifest bytes.
func (a *Artifact) Manifest() []byte { return bytes.Clone(a.manifest) }

// Image returns the artifact as a go-containerregistry image, e.g. for
// remote.Write or layout.Write.
func (a *Artifact) Image() (v1.Image, error) {
	return partial.CompressedToImage(artifactCore{a})
}

// artifactCore implements partial.CompressedImageCore over the fixed bytes.
type artifactCore struct{ a *Artifact }

func (c artifactCore) RawConfigFile() ([]byte, error)      { return bytes.Clone(c.a.config.data), nil }
func (c artifactCore) MediaType() (types.MediaType, error) { return types.OCIManifestSchema1, nil }
func (c artifactCore) RawManifest() ([]byte, error)        { return bytes.Clone(c.a.manifest), nil }

func (c artifactCore) LayerByDigest(h v1.Hash) (partial.CompressedLayer, error) {
	for _, b := range append([]blob{c.a.config}, c.a.layers...) {
		if b.desc.Digest == h {
			return blobLayer{b}, nil
		}
	}
	return nil, fmt.Errorf("wasmoci: the artifact has no blob %s", h)
}

// blobLayer implements partial.CompressedLayer: the bytes are uploaded as
// they are, whatever their media type.
type blobLayer struct{ b blob }

func (l blobLayer) Digest() (v1.Hash, error)            { return l.b.desc.Digest, nil }
func (l blobLayer) Size() (int64, error)                { return l.b.desc.Size, nil }
func (l blobLayer) MediaType() (types.MediaType, error) { return l.b.desc.MediaType, nil }
func (l blobLayer) Compressed() (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(l.b.data)), nil
}
