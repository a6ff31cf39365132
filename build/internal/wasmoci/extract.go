package wasmoci

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"path"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// extract finds the module in the image m describes, trying the layouts in
// the order Istio's fetcher does (Docker compat, OCI compat, solo oci) and
// then the CNCF layout. fetch returns a verified blob.
func extract(m *v1.Manifest, fetch func(v1.Descriptor) ([]byte, error), max int64) (Format, []byte, error) {
	var (
		format Format
		layer  v1.Descriptor
	)
	switch {
	case m.MediaType == types.DockerManifestSchema2:
		if len(m.Layers) != 1 || m.Layers[0].MediaType != types.DockerLayer {
			return "", nil, fmt.Errorf("a Docker Wasm image must have exactly one %s layer holding %s; it has %s", types.DockerLayer, ModuleFileName, describeLayers(m.Layers))
		}
		format, layer = FormatCompat, m.Layers[0]
	case m.Config.MediaType == MediaTypeCNCFWasmConfig:
		if len(m.Layers) != 1 || m.Layers[0].MediaType != MediaTypeCNCFWasmLayer {
			return "", nil, fmt.Errorf("a CNCF Wasm artifact with one core module has exactly one %s layer; it has %s", MediaTypeCNCFWasmLayer, describeLayers(m.Layers))
		}
		format, layer = FormatWasm, m.Layers[0]
	case len(m.Layers) == 1 && m.Layers[0].MediaType == types.OCILayer:
		format, layer = FormatCompat, m.Layers[0]
	case len(m.Layers) == 2:
		n := 0
		for _, l := range m.Layers {
			if l.MediaType == MediaTypeWasmContentLayer {
				layer = l
				n++
			}
		}
		if n != 1 {
			return "", nil, fmt.Errorf("a two-layer Wasm image must have exactly one %s layer; it has %s", MediaTypeWasmContentLayer, describeLayers(m.Layers))
		}
		format = FormatOCI
	default:
		return "", nil, fmt.Errorf("not a Wasm image Istio can load: want one %s layer with %s (compat), or two layers one of which is %s (oci), or a %s config with one %s layer (wasm); it has %s",
			types.OCILayer, ModuleFileName, MediaTypeWasmContentLayer, MediaTypeCNCFWasmConfig, MediaTypeCNCFWasmLayer, describeLayers(m.Layers))
	}

	b, err := fetch(layer)
	if err != nil {
		return "", nil, err
	}
	module := b
	if format == FormatCompat {
		if module, err = moduleFromTarGz(b, max); err != nil {
			return "", nil, err
		}
	}
	if err := checkModule(module); err != nil {
		return "", nil, fmt.Errorf("the %s layer %s: %w", format, layer.Digest, err)
	}
	return format, module, nil
}

func describeLayers(ls []v1.Descriptor) string {
	if len(ls) == 0 {
		return "no layers"
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "%d layer(s):", len(ls))
	for _, l := range ls {
		fmt.Fprintf(&b, " %s", l.MediaType)
	}
	return b.String()
}

// moduleFromTarGz returns the content of the one regular file whose base
// name is plugin.wasm, as Istio's fetcher matches it. An archive with two
// such entries is refused: which one a loader picks is not something to
// leave to chance.
func moduleFromTarGz(gz []byte, max int64) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, fmt.Errorf("the compat layer is not gzip: %w", err)
	}
	tr := tar.NewReader(io.LimitReader(zr, max))
	var module []byte
	found := false
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("the compat layer is not a valid tar (or exceeds %d bytes uncompressed): %w", max, err)
		}
		if path.Base(h.Name) != ModuleFileName {
			continue
		}
		if found {
			return nil, fmt.Errorf("the compat layer holds %s more than once; rebuild the image with a single %s", ModuleFileName, ModuleFileName)
		}
		if h.Typeflag != tar.TypeReg {
			return nil, fmt.Errorf("the compat layer's %s is not a regular file (tar type %q)", h.Name, h.Typeflag)
		}
		if h.Size > max {
			return nil, fmt.Errorf("the compat layer's %s has %d bytes, more than the %d-byte limit", h.Name, h.Size, max)
		}
		module, err = io.ReadAll(tr)
		if err != nil {
			return nil, fmt.Errorf("reading %s from the compat layer: %w", h.Name, err)
		}
		found = true
	}
	if !found {
		return nil, fmt.Errorf("the compat layer has no file named %s", ModuleFileName)
	}
	return module, nil
}
