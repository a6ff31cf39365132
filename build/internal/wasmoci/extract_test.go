package wasmoci

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

var tinyModule = []byte{0x00, 'a', 's', 'm', 0x01, 0x00, 0x00, 0x00}

type tarEntry struct {
	name     string
	typeflag byte
	body     []byte
}

func tarGz(t testing.TB, entries ...tarEntry) []byte {
	t.Helper()
	var tb bytes.Buffer
	tw := tar.NewWriter(&tb)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Typeflag: e.typeflag, Mode: 0o644, Size: int64(len(e.body))}
		if e.typeflag == tar.TypeSymlink {
			h.Linkname, h.Size = "elsewhere", 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(e.body); err != nil && e.typeflag == tar.TypeReg {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	var zb bytes.Buffer
	zw := gzip.NewWriter(&zb)
	zw.Write(tb.Bytes())
	zw.Close()
	return zb.Bytes()
}

func TestModuleFromTarGz(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		layer   []byte
		max     int64
		wantErr string
	}{
		{name: "a plugin.wasm at the root is found", layer: tarGz(t, tarEntry{"plugin.wasm", tar.TypeReg, tinyModule})},
		{name: "a ./plugin.wasm is found by its base name", layer: tarGz(t, tarEntry{"./plugin.wasm", tar.TypeReg, tinyModule})},
		{name: "other files beside it are ignored", layer: tarGz(t, tarEntry{"runtime-config.json", tar.TypeReg, []byte("{}")}, tarEntry{"x/plugin.wasm", tar.TypeReg, tinyModule})},
		{name: "two plugin.wasm entries are refused", layer: tarGz(t, tarEntry{"plugin.wasm", tar.TypeReg, tinyModule}, tarEntry{"a/plugin.wasm", tar.TypeReg, tinyModule}), wantErr: "more than once"},
		{name: "a symlink named plugin.wasm is refused", layer: tarGz(t, tarEntry{"plugin.wasm", tar.TypeSymlink, nil}), wantErr: "not a regular file"},
		{name: "an archive without plugin.wasm is refused", layer: tarGz(t, tarEntry{"module.wasm", tar.TypeReg, tinyModule}), wantErr: "no file named plugin.wasm"},
		{name: "a layer that is not gzip is refused", layer: []byte("plain text"), wantErr: "not gzip"},
		{name: "a module over the size limit is refused", layer: tarGz(t, tarEntry{"plugin.wasm", tar.TypeReg, bytes.Repeat([]byte{1}, 4096)}), max: 4000, wantErr: "limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			max := tt.max
			if max == 0 {
				max = defaultMaxModuleSize
			}
			got, err := moduleFromTarGz(tt.layer, max)
			if tt.wantErr == "" {
				if err != nil || !bytes.Equal(got, tinyModule) {
					t.Fatalf("got %x, %v; want the module", got, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestExtractRecognisesOnlyLayoutsThatLoad(t *testing.T) {
	t.Parallel()
	compat := tarGz(t, tarEntry{"plugin.wasm", tar.TypeReg, tinyModule})
	blobs := map[v1.Hash][]byte{}
	desc := func(b []byte, mt types.MediaType) v1.Descriptor {
		d := v1.Descriptor{MediaType: mt, Size: int64(len(b)), Digest: sha256Hash(b)}
		blobs[d.Digest] = b
		return d
	}
	fetch := func(d v1.Descriptor) ([]byte, error) { return blobs[d.Digest], nil }
	cfg := desc([]byte("{}"), types.OCIConfigJSON)

	tests := []struct {
		name       string
		manifest   v1.Manifest
		wantFormat Format
		wantErr    string
	}{
		{"an OCI compat image is compat", v1.Manifest{Config: cfg, Layers: []v1.Descriptor{desc(compat, types.OCILayer)}}, FormatCompat, ""},
		{"a Docker compat image is compat", v1.Manifest{MediaType: types.DockerManifestSchema2, Config: cfg, Layers: []v1.Descriptor{desc(compat, types.DockerLayer)}}, FormatCompat, ""},
		{"a two-layer solo image is oci", v1.Manifest{Config: cfg, Layers: []v1.Descriptor{desc([]byte("{}"), MediaTypeWasmRuntimeConfig), desc(tinyModule, MediaTypeWasmContentLayer)}}, FormatOCI, ""},
		{"a CNCF artifact is wasm", v1.Manifest{Config: desc([]byte(`{"os":"wasip1"}`), MediaTypeCNCFWasmConfig), Layers: []v1.Descriptor{desc(tinyModule, MediaTypeCNCFWasmLayer)}}, FormatWasm, ""},
		{"a Docker image with two layers is refused", v1.Manifest{MediaType: types.DockerManifestSchema2, Config: cfg, Layers: []v1.Descriptor{desc(compat, types.DockerLayer), desc(compat, types.DockerLayer)}}, "", "exactly one"},
		{"two compat layers are refused", v1.Manifest{Config: cfg, Layers: []v1.Descriptor{desc(compat, types.OCILayer), desc(compat, types.OCILayer)}}, "", "exactly one application/vnd.module.wasm.content.layer.v1+wasm"},
		{"two content layers are refused", v1.Manifest{Config: cfg, Layers: []v1.Descriptor{desc(tinyModule, MediaTypeWasmContentLayer), desc(tinyModule, MediaTypeWasmContentLayer)}}, "", "exactly one"},
		{"a CNCF artifact with two components is refused", v1.Manifest{Config: desc([]byte(`{}`), MediaTypeCNCFWasmConfig), Layers: []v1.Descriptor{desc(tinyModule, MediaTypeCNCFWasmLayer), desc(tinyModule, MediaTypeCNCFWasmLayer)}}, "", "exactly one application/wasm"},
		{"an uncompressed tar layer is refused", v1.Manifest{Config: cfg, Layers: []v1.Descriptor{desc(compat, types.OCIUncompressedLayer)}}, "", "not a Wasm image"},
		{"an image without layers is refused", v1.Manifest{Config: cfg}, "", "no layers"},
		{"a content layer that is not Wasm is refused", v1.Manifest{Config: cfg, Layers: []v1.Descriptor{desc([]byte("{}"), MediaTypeWasmRuntimeConfig), desc([]byte("<html>"), MediaTypeWasmContentLayer)}}, "", "not a WebAssembly core module"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, got, err := extract(&tt.manifest, fetch, defaultMaxModuleSize)
			if tt.wantErr == "" {
				if err != nil || f != tt.wantFormat || !bytes.Equal(got, tinyModule) {
					t.Fatalf("got %s %x %v; want %s and the module", f, got, err, tt.wantFormat)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestBuildRefusesWhatIsNotACoreModule(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		module []byte
	}{
		{"an empty file", nil},
		{"a truncated header", []byte{0x00, 'a', 's', 'm'}},
		{"a gzip stream", []byte{0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 0}},
		{"a WebAssembly component", []byte{0x00, 'a', 's', 'm', 0x0d, 0x00, 0x01, 0x00}},
	}
	for _, tt := range tests {
		t.Run(tt.name+" is refused", func(t *testing.T) {
			for _, f := range Formats() {
				if _, err := Build(tt.module, f); err == nil {
					t.Fatalf("Build(%s) accepted it", f)
				}
			}
		})
	}
	t.Run("an unknown format is refused", func(t *testing.T) {
		if _, err := Build(tinyModule, Format("docker")); err == nil || !strings.Contains(err.Error(), "unknown format") {
			t.Fatalf("error = %v", err)
		}
	})
}
