package wasmoci

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// ErrDigestMismatch reports a manifest or blob whose digest is not the one
// expected. Nothing is written or pushed when it occurs.
var ErrDigestMismatch = errors.New("wasmoci: digest mismatch")

const defaultMaxModuleSize = 256 << 20

func newRemoteSettings(opts []RemoteOption) remoteSettings {
	s := remoteSettings{keychain: authn.DefaultKeychain, maxSize: defaultMaxModuleSize}
	for _, o := range opts {
		o(&s)
	}
	return s
}

// parseRef parses an image reference. The oci:// prefix of Istio's url field
// is accepted and dropped.
func (s remoteSettings) parseRef(ref string) (name.Reference, error) {
	var nopts []name.Option
	if s.plainHTTP {
		nopts = append(nopts, name.Insecure)
	}
	r, err := name.ParseReference(strings.TrimPrefix(ref, "oci://"), nopts...)
	if err != nil {
		return nil, fmt.Errorf("wasmoci: %q is not an image reference (want REGISTRY/REPOSITORY:TAG or REGISTRY/REPOSITORY@sha256:HEX): %w", ref, err)
	}
	return r, nil
}

func (s remoteSettings) remoteOptions(ctx context.Context) []remote.Option {
	o := []remote.Option{remote.WithContext(ctx), remote.WithAuthFromKeychain(s.keychain)}
	if s.transport != nil {
		o = append(o, remote.WithTransport(s.transport))
	}
	return o
}

var hexDigest = regexp.MustCompile(`^[a-f0-9]{64}$`)

// normalizeDigest accepts "sha256:<hex>" or the bare hex of Istio's sha256
// field and returns "sha256:<hex>", or "" for "".
func normalizeDigest(d string) (string, error) {
	if d == "" {
		return "", nil
	}
	h := strings.TrimPrefix(d, "sha256:")
	if !hexDigest.MatchString(h) {
		return "", fmt.Errorf("wasmoci: digest %q is not sha256:<64 lowercase hex digits> (or the 64 hex digits alone)", d)
	}
	return "sha256:" + h, nil
}

// explainRemoteError wraps a registry error with what to do about it.
func explainRemoteError(doing string, r name.Reference, err error) error {
	var terr *transport.Error
	switch {
	case errors.As(err, &terr) && (terr.StatusCode == http.StatusUnauthorized || terr.StatusCode == http.StatusForbidden):
		return fmt.Errorf("wasmoci: %s %s: %w (credentials come from the Docker config file: run `docker login %s` or set DOCKER_CONFIG)", doing, r, err, r.Context().RegistryStr())
	case strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		return fmt.Errorf("wasmoci: %s %s: %w (the registry speaks plain HTTP: pass --plain-http if it is a local registry)", doing, r, err)
	default:
		return fmt.Errorf("wasmoci: %s %s: %w", doing, r, err)
	}
}

func digestOf(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}
