package wasmoci

import (
	"bytes"
	"context"
	"fmt"
	"io"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Pulled is a module fetched from a registry, with the evidence that it is
// the one asked for.
type Pulled struct {
	// Ref is the reference that was pulled.
	Ref string
	// Format is the layout the module was found in. Images built by docker
	// with the Docker media types count as FormatCompat.
	Format Format
	// ManifestDigest is the digest of Manifest, "sha256:<hex>".
	ManifestDigest string
	// Manifest is the manifest as the registry served it.
	Manifest []byte
	// Module is the WebAssembly module.
	Module []byte
}

// ModuleSHA256 returns the hex SHA-256 of the module: the value Envoy's
// vm_config.code.remote.sha256 pins when the module is served over HTTP.
func (p *Pulled) ModuleSHA256() string { return SHA256(p.Module) }

// Pull fetches the image at ref and extracts its module the way Istio's
// image fetcher does, and refuses what Istio would refuse plus anything that
// does not check out: the manifest digest must match the digest in ref and
// the one pinned with WithDigest, every blob must match its descriptor's
// digest and size, and the result must be a core WebAssembly module.
func Pull(ctx context.Context, ref string, opts ...RemoteOption) (*Pulled, error) {
	s := newRemoteSettings(opts)
	r, err := s.parseRef(ref)
	if err != nil {
		return nil, err
	}
	want, err := normalizeDigest(s.digest)
	if err != nil {
		return nil, err
	}
	ropts := s.remoteOptions(ctx)
	desc, err := remote.Get(r, ropts...)
	if err != nil {
		return nil, explainRemoteError("fetching the manifest of", r, err)
	}

	got := digestOf(desc.Manifest)
	if got != desc.Digest.String() {
		return nil, fmt.Errorf("%w: the manifest of %s hashes to %s, not %s", ErrDigestMismatch, r, got, desc.Digest)
	}
	if d, ok := r.(name.Digest); ok && d.DigestStr() != got {
		return nil, fmt.Errorf("%w: %s served manifest %s", ErrDigestMismatch, r, got)
	}
	if want != "" && want != got {
		return nil, fmt.Errorf("%w: %s is manifest %s but %s is pinned; refusing it (if the new image is the intended one, update the pinned digest)", ErrDigestMismatch, r, got, want)
	}
	switch desc.MediaType {
	case types.OCIManifestSchema1, types.DockerManifestSchema2:
	case types.OCIImageIndex, types.DockerManifestList:
		return nil, fmt.Errorf("wasmoci: %s is an image index (%s), not a Wasm image; point at a single manifest", r, desc.MediaType)
	default:
		return nil, fmt.Errorf("wasmoci: %s has manifest media type %q; a Wasm image has an OCI or Docker v2 image manifest", r, desc.MediaType)
	}

	m, err := v1.ParseManifest(bytes.NewReader(desc.Manifest))
	if err != nil {
		return nil, fmt.Errorf("wasmoci: the manifest of %s is not valid JSON: %w", r, err)
	}
	img, err := desc.Image()
	if err != nil {
		return nil, explainRemoteError("reading the image", r, err)
	}
	fetch := func(d v1.Descriptor) ([]byte, error) {
		return readBlob(img, d, s.maxSize)
	}
	format, module, err := extract(m, fetch, s.maxSize)
	if err != nil {
		return nil, fmt.Errorf("wasmoci: %s: %w", r, err)
	}
	return &Pulled{
		Ref:            r.String(),
		Format:         format,
		ManifestDigest: got,
		Manifest:       desc.Manifest,
		Module:         module,
	}, nil
}

// readBlob downloads the blob d describes and checks its size and digest,
// whatever the client library already checked.
func readBlob(img v1.Image, d v1.Descriptor, max int64) ([]byte, error) {
	if d.Size < 0 || d.Size > max {
		return nil, fmt.Errorf("blob %s declares %d bytes, more than the %d-byte limit (raise it with WithMaxModuleSize)", d.Digest, d.Size, max)
	}
	l, err := img.LayerByDigest(d.Digest)
	if err != nil {
		return nil, fmt.Errorf("locating blob %s: %w", d.Digest, err)
	}
	rc, err := l.Compressed()
	if err != nil {
		return nil, fmt.Errorf("fetching blob %s: %w", d.Digest, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, d.Size+1))
	if err != nil {
		return nil, fmt.Errorf("reading blob %s: %w", d.Digest, err)
	}
	if int64(len(b)) != d.Size {
		return nil, fmt.Errorf("%w: blob %s has %d bytes, its descriptor says %d", ErrDigestMismatch, d.Digest, len(b), d.Size)
	}
	if got := digestOf(b); got != d.Digest.String() {
		return nil, fmt.Errorf("%w: blob %s hashes to %s", ErrDigestMismatch, d.Digest, got)
	}
	return b, nil
}
