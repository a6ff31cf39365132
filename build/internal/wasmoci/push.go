package wasmoci

import (
	"context"
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Push uploads the artifact to ref (a tag, or a digest equal to the
// artifact's) and returns its manifest digest. After the upload it asks the
// registry for the manifest's digest and fails if the registry does not serve
// exactly the bytes that were built.
func Push(ctx context.Context, ref string, a *Artifact, opts ...RemoteOption) (string, error) {
	s := newRemoteSettings(opts)
	r, err := s.parseRef(ref)
	if err != nil {
		return "", err
	}
	want, err := normalizeDigest(s.digest)
	if err != nil {
		return "", err
	}
	if want != "" && want != a.Digest() {
		return "", fmt.Errorf("%w: the artifact built from this module is %s but %s was expected; nothing was pushed (check the module, the format and --created)", ErrDigestMismatch, a.Digest(), want)
	}
	if d, ok := r.(name.Digest); ok && d.DigestStr() != a.Digest() {
		return "", fmt.Errorf("%w: reference %s names digest %s but the artifact is %s; push to a tag instead", ErrDigestMismatch, ref, d.DigestStr(), a.Digest())
	}
	img, err := a.Image()
	if err != nil {
		return "", fmt.Errorf("wasmoci: %w", err)
	}
	ropts := s.remoteOptions(ctx)
	if err := remote.Write(r, img, ropts...); err != nil {
		return "", explainRemoteError("pushing to", r, err)
	}
	got, err := remote.Head(r, ropts...)
	if err != nil {
		return "", explainRemoteError("checking the pushed manifest of", r, err)
	}
	if got.Digest.String() != a.Digest() {
		return "", fmt.Errorf("%w: %s now serves manifest %s, not the pushed %s; the registry rewrote the manifest or the tag moved meanwhile", ErrDigestMismatch, r, got.Digest, a.Digest())
	}
	return a.Digest(), nil
}
