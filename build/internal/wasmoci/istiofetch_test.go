package wasmoci_test

import (
	"archive/tar"
	"compress/gzip"
	"fmt"
	"io"
	"path/filepath"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// istioFetch loads a module the way Istio's agent does (pkg/wasm image
// fetcher): remote.Image, the manifest digest compared with the WasmPlugin's
// sha256, then a Docker compat image, an OCI compat image (the single, so
// last, layer gunzipped and untarred, first entry whose base name is
// plugin.wasm), or the two-layer image whose
// application/vnd.module.wasm.content.layer.v1+wasm layer is read raw. It is
// written independently of the package under test, so that a round trip
// through it shows what Istio would load.
func istioFetch(ref, sha256Hex string) ([]byte, error) {
	r, err := name.ParseReference(ref)
	if err != nil {
		return nil, err
	}
	img, err := remote.Image(r)
	if err != nil {
		return nil, err
	}
	d, err := img.Digest()
	if err != nil {
		return nil, err
	}
	if sha256Hex != "" && d.Hex != sha256Hex {
		return nil, fmt.Errorf("manifest digest %s, WasmPlugin pins %s", d.Hex, sha256Hex)
	}
	m, err := img.Manifest()
	if err != nil {
		return nil, err
	}
	layers, err := img.Layers()
	if err != nil {
		return nil, err
	}
	untar := func(want types.MediaType) ([]byte, error) {
		if len(layers) != 1 {
			return nil, fmt.Errorf("compat: %d layers", len(layers))
		}
		last := layers[len(layers)-1]
		if mt, _ := last.MediaType(); mt != want {
			return nil, fmt.Errorf("compat: layer media type %s", mt)
		}
		rc, err := last.Compressed()
		if err != nil {
			return nil, err
		}
		defer rc.Close()
		zr, err := gzip.NewReader(rc)
		if err != nil {
			return nil, err
		}
		tr := tar.NewReader(zr)
		for {
			h, err := tr.Next()
			if err != nil {
				return nil, fmt.Errorf("compat: plugin.wasm not found: %w", err)
			}
			if filepath.Base(h.Name) == "plugin.wasm" {
				return io.ReadAll(tr)
			}
		}
	}
	if m.MediaType == types.DockerManifestSchema2 {
		return untar(types.DockerLayer)
	}
	if b, err := untar(types.OCILayer); err == nil {
		return b, nil
	}
	if len(layers) != 2 {
		return nil, fmt.Errorf("oci: %d layers, want 2", len(layers))
	}
	for _, l := range layers {
		if mt, _ := l.MediaType(); mt == "application/vnd.module.wasm.content.layer.v1+wasm" {
			rc, err := l.Compressed()
			if err != nil {
				return nil, err
			}
			defer rc.Close()
			return io.ReadAll(rc)
		}
	}
	return nil, fmt.Errorf("oci: no content layer")
}
