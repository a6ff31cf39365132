package wasmoci_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/tokengate/tokengate/build/internal/wasmoci"
)

// dockerBuiltImage is what `docker build` makes of
// "FROM scratch / COPY plugin.wasm ./": a Docker v2 manifest with one
// rootfs.diff.tar.gzip layer.
func dockerBuiltImage(t *testing.T, module []byte) *bytes.Buffer {
	t.Helper()
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	tw := tar.NewWriter(zw)
	if err := tw.WriteHeader(&tar.Header{Name: "plugin.wasm", Mode: 0o644, Size: int64(len(module)), Typeflag: tar.TypeReg}); err != nil {
		t.Fatal(err)
	}
	if _, err := tw.Write(module); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return &gz
}

func TestPullReadsImagesOtherToolsBuilt(t *testing.T) {
	t.Parallel()
	reg := startRegistry(t, nil)
	module := testModule(8, 5000)
	ctx := context.Background()

	t.Run("a docker-built compat image is pulled as compat", func(t *testing.T) {
		gz := dockerBuiltImage(t, module)
		layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
			return io.NopCloser(bytes.NewReader(gz.Bytes())), nil
		}, tarball.WithMediaType(types.DockerLayer))
		if err != nil {
			t.Fatal(err)
		}
		img, err := mutate.Append(empty.Image, mutate.Addendum{Layer: layer})
		if err != nil {
			t.Fatal(err)
		}
		if mt, _ := img.MediaType(); mt != types.DockerManifestSchema2 {
			t.Fatalf("test image has manifest type %s", mt)
		}
		ref, _ := name.ParseReference(reg + "/docker-built:v1")
		if err := remote.Write(ref, img); err != nil {
			t.Fatal(err)
		}
		p, err := wasmoci.Pull(ctx, ref.String())
		if err != nil {
			t.Fatal(err)
		}
		if p.Format != wasmoci.FormatCompat || !bytes.Equal(p.Module, module) {
			t.Fatalf("pulled format %s and %d bytes; want compat and the module", p.Format, len(p.Module))
		}
	})

	t.Run("an image index is refused", func(t *testing.T) {
		a, err := wasmoci.Build(module, wasmoci.FormatCompat)
		if err != nil {
			t.Fatal(err)
		}
		img, err := a.Image()
		if err != nil {
			t.Fatal(err)
		}
		idx := mutate.AppendManifests(empty.Index, mutate.IndexAddendum{Add: img})
		ref, _ := name.ParseReference(reg + "/index:v1")
		if err := remote.WriteIndex(ref, idx); err != nil {
			t.Fatal(err)
		}
		if _, err := wasmoci.Pull(ctx, ref.String()); err == nil || !strings.Contains(err.Error(), "image index") {
			t.Fatalf("error = %v, want a refusal naming the image index", err)
		}
	})
}
