package wasmoci_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/tokengate/tokengate/build/internal/wasmoci"
)

var created = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func buildOpts() []wasmoci.Option {
	return []wasmoci.Option{
		wasmoci.WithSource("https://github.com/tokengate/tokengate"),
		wasmoci.WithRevision("0123456789abcdef0123456789abcdef01234567"),
		wasmoci.WithVersion("v1.2.3"),
		wasmoci.WithCreated(created),
	}
}

func TestPushThenPullGivesBackTheModule(t *testing.T) {
	t.Parallel()
	reg := startRegistry(t, nil)
	module := testModule(1, 300_000)
	ctx := context.Background()

	tests := []struct {
		format         wasmoci.Format
		istioLoadsIt   bool
		layerMediaType []string
		configType     string
	}{
		{wasmoci.FormatCompat, true, []string{"application/vnd.oci.image.layer.v1.tar+gzip"}, "application/vnd.oci.image.config.v1+json"},
		{wasmoci.FormatOCI, true, []string{"application/vnd.module.wasm.config.v1+json", "application/vnd.module.wasm.content.layer.v1+wasm"}, "application/vnd.module.wasm.config.v1+json"},
		{wasmoci.FormatWasm, false, []string{"application/wasm"}, "application/vnd.wasm.config.v0+json"},
	}
	for _, tt := range tests {
		t.Run("the "+string(tt.format)+" format round-trips byte for byte", func(t *testing.T) {
			a, err := wasmoci.Build(module, tt.format, buildOpts()...)
			if err != nil {
				t.Fatal(err)
			}
			ref := reg + "/tokengate/" + string(tt.format) + ":v1.2.3"
			digest, err := wasmoci.Push(ctx, ref, a)
			if err != nil {
				t.Fatal(err)
			}
			if digest != a.Digest() {
				t.Fatalf("Push returned %s, the artifact is %s", digest, a.Digest())
			}

			p, err := wasmoci.Pull(ctx, ref, wasmoci.WithDigest(digest))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(p.Module, module) {
				t.Fatalf("pulled %d bytes that differ from the %d pushed", len(p.Module), len(module))
			}
			if p.Format != tt.format || p.ManifestDigest != digest || !bytes.Equal(p.Manifest, a.Manifest()) {
				t.Fatalf("pulled format %s digest %s; want %s %s and the built manifest", p.Format, p.ManifestDigest, tt.format, digest)
			}
			if p.ModuleSHA256() != wasmoci.SHA256(module) {
				t.Fatalf("ModuleSHA256 = %s, want %s", p.ModuleSHA256(), wasmoci.SHA256(module))
			}

			byDigest := reg + "/tokengate/" + string(tt.format) + "@" + digest
			if p, err := wasmoci.Pull(ctx, byDigest); err != nil || !bytes.Equal(p.Module, module) {
				t.Fatalf("pull by digest: %v", err)
			}

			got, err := istioFetch(ref, strings.TrimPrefix(digest, "sha256:"))
			if tt.istioLoadsIt {
				if err != nil {
					t.Fatalf("Istio's fetcher refuses the image: %v", err)
				}
				if !bytes.Equal(got, module) {
					t.Fatalf("Istio's fetcher extracts %d bytes that differ from the module", len(got))
				}
			} else if err == nil {
				t.Fatalf("Istio's fetcher accepted the %s format, which it is documented not to load", tt.format)
			}

			var m v1.Manifest
			if err := json.Unmarshal(p.Manifest, &m); err != nil {
				t.Fatal(err)
			}
			if string(m.Config.MediaType) != tt.configType {
				t.Errorf("config media type %s, want %s", m.Config.MediaType, tt.configType)
			}
			if len(m.Layers) != len(tt.layerMediaType) {
				t.Fatalf("%d layers, want %d", len(m.Layers), len(tt.layerMediaType))
			}
			for i, l := range m.Layers {
				if string(l.MediaType) != tt.layerMediaType[i] {
					t.Errorf("layer %d media type %s, want %s", i, l.MediaType, tt.layerMediaType[i])
				}
			}
			want := map[string]string{
				"org.opencontainers.image.source":   "https://github.com/tokengate/tokengate",
				"org.opencontainers.image.revision": "0123456789abcdef0123456789abcdef01234567",
				"org.opencontainers.image.version":  "v1.2.3",
				"org.opencontainers.image.created":  "2026-01-02T03:04:05Z",
			}
			if tt.format == wasmoci.FormatCompat {
				want["module.wasm.image/variant"] = "compat"
			}
			for k, v := range want {
				if m.Annotations[k] != v {
					t.Errorf("annotation %s = %q, want %q", k, m.Annotations[k], v)
				}
			}
			if len(m.Annotations) != len(want) {
				t.Errorf("annotations %v, want exactly %v", m.Annotations, want)
			}
		})
	}
}

func TestPushingTheSameModuleTwiceGivesTheSameDigest(t *testing.T) {
	t.Parallel()
	reg := startRegistry(t, nil)
	ctx := context.Background()
	for _, f := range wasmoci.Formats() {
		t.Run("the "+string(f)+" format is reproducible", func(t *testing.T) {
			// Two builds from two separate copies of the module, pushed to
			// two repositories, as two CI runs of one commit would.
			a1, err := wasmoci.Build(testModule(2, 50_000), f, buildOpts()...)
			if err != nil {
				t.Fatal(err)
			}
			a2, err := wasmoci.Build(testModule(2, 50_000), f, buildOpts()...)
			if err != nil {
				t.Fatal(err)
			}
			d1, err := wasmoci.Push(ctx, reg+"/first/"+string(f)+":v1", a1)
			if err != nil {
				t.Fatal(err)
			}
			d2, err := wasmoci.Push(ctx, reg+"/second/"+string(f)+":v1", a2)
			if err != nil {
				t.Fatal(err)
			}
			d3, err := wasmoci.Push(ctx, reg+"/first/"+string(f)+":again", a2)
			if err != nil {
				t.Fatal(err)
			}
			if d1 != d2 || d1 != d3 {
				t.Fatalf("digests differ: %s, %s, %s", d1, d2, d3)
			}
		})
	}

	t.Run("a different commit time gives a different digest", func(t *testing.T) {
		m := testModule(2, 1000)
		for _, f := range wasmoci.Formats() {
			a1, _ := wasmoci.Build(m, f, wasmoci.WithCreated(created))
			a2, _ := wasmoci.Build(m, f, wasmoci.WithCreated(created.Add(time.Second)))
			if a1 == nil || a2 == nil || a1.Digest() == a2.Digest() {
				t.Fatalf("%s: created time does not reach the digest", f)
			}
		}
	})

	t.Run("a different module gives a different digest", func(t *testing.T) {
		for _, f := range wasmoci.Formats() {
			a1, _ := wasmoci.Build(testModule(3, 1000), f)
			a2, _ := wasmoci.Build(testModule(4, 1000), f)
			if a1 == nil || a2 == nil || a1.Digest() == a2.Digest() {
				t.Fatalf("%s: module does not reach the digest", f)
			}
		}
	})
}

func TestPushRefusesAnUnexpectedDigest(t *testing.T) {
	t.Parallel()
	reg := startRegistry(t, nil)
	a, err := wasmoci.Build(testModule(5, 100), wasmoci.FormatCompat)
	if err != nil {
		t.Fatal(err)
	}
	other := "sha256:" + strings.Repeat("ab", 32)
	tests := []struct {
		name string
		ref  string
		opts []wasmoci.RemoteOption
	}{
		{"a pinned digest that differs is refused before upload", reg + "/x:v1", []wasmoci.RemoteOption{wasmoci.WithDigest(other)}},
		{"a digest reference that differs is refused", reg + "/x@" + other, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := wasmoci.Push(context.Background(), tt.ref, a, tt.opts...)
			if !errors.Is(err, wasmoci.ErrDigestMismatch) {
				t.Fatalf("Push error = %v, want ErrDigestMismatch", err)
			}
			if _, err := wasmoci.Pull(context.Background(), reg+"/x:v1"); err == nil {
				t.Fatal("the image was uploaded anyway")
			}
		})
	}
	t.Run("the artifact's own digest is accepted in either spelling", func(t *testing.T) {
		for _, d := range []string{a.Digest(), strings.TrimPrefix(a.Digest(), "sha256:")} {
			if _, err := wasmoci.Push(context.Background(), reg+"/y:v1", a, wasmoci.WithDigest(d)); err != nil {
				t.Fatal(err)
			}
		}
	})
}
