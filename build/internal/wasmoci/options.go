package wasmoci

import (
	"net/http"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
)

// Option sets metadata of the artifact Build writes.
type Option func(*buildSettings)

type buildSettings struct {
	source, revision, version string
	created                   time.Time
	rootID                    string
}

// WithSource records the URL of the source repository
// (org.opencontainers.image.source).
func WithSource(url string) Option { return func(s *buildSettings) { s.source = url } }

// WithRevision records the source revision, e.g. the git commit
// (org.opencontainers.image.revision).
func WithRevision(rev string) Option { return func(s *buildSettings) { s.revision = rev } }

// WithVersion records the version, e.g. the git tag
// (org.opencontainers.image.version).
func WithVersion(v string) Option { return func(s *buildSettings) { s.version = v } }

// WithCreated sets the creation time written to the annotations, the image
// configuration and the tar header. Pass the commit time (SOURCE_DATE_EPOCH)
// rather than the wall clock: the digest depends on it. Without this option
// the created annotation is left out and the other places use the Unix epoch,
// so the digest depends on the module and the other options only. The time
// is truncated to whole seconds and written in UTC.
func WithCreated(t time.Time) Option {
	return func(s *buildSettings) { s.created = t.UTC().Truncate(time.Second) }
}

// WithRootID sets the root_id advertised in the FormatOCI runtime
// configuration (default "tokengate", the plugin's root context). Istio's
// WasmPlugin pluginName must match it.
func WithRootID(id string) Option { return func(s *buildSettings) { s.rootID = id } }

// RemoteOption configures how Push and Pull talk to a registry.
type RemoteOption func(*remoteSettings)

type remoteSettings struct {
	plainHTTP bool
	keychain  authn.Keychain
	transport http.RoundTripper
	digest    string
	maxSize   int64
}

// WithPlainHTTP talks to the registry over plain HTTP, for a local registry
// on loopback. Never use it for a registry across a network.
func WithPlainHTTP() RemoteOption { return func(s *remoteSettings) { s.plainHTTP = true } }

// WithKeychain sets where credentials come from. The default is
// authn.DefaultKeychain: the Docker config file ($DOCKER_CONFIG/config.json
// or ~/.docker/config.json) and the credential helpers it names.
func WithKeychain(k authn.Keychain) RemoteOption {
	return func(s *remoteSettings) { s.keychain = k }
}

// WithTransport sets the HTTP transport (default: go-containerregistry's
// remote.DefaultTransport).
func WithTransport(t http.RoundTripper) RemoteOption {
	return func(s *remoteSettings) { s.transport = t }
}

// WithDigest pins the manifest digest ("sha256:<hex>" or the bare hex that
// Istio's sha256 field holds). Push refuses to upload an artifact with a
// different digest, and Pull refuses a manifest with a different digest.
func WithDigest(digest string) RemoteOption {
	return func(s *remoteSettings) { s.digest = digest }
}

// WithMaxModuleSize bounds the size of every blob Pull downloads and of the
// module it extracts (default 256 MiB).
func WithMaxModuleSize(n int64) RemoteOption {
	return func(s *remoteSettings) { s.maxSize = n }
}
