package jwksfetch

import (
	"bufio"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tokengate/tokengate/internal/keybundle"
)

// Signed key bundles (internal/keybundle; docs/jwksfetch.md, "Key
// bundles"). With a signing key, the fetcher also serves every provider's
// key set as one signed bundle, GET /bundle on the admin listener, and its
// answer to POST /refresh is that bundle too. This is how keys reach a
// plugin whose configuration never changes (an Istio WasmPlugin): the
// plugin polls the bundle over the network and trusts it only because it
// verifies against the public key its configuration pins.
//
// A bundle is issued when the key sets change and, with the same sets,
// again once the one in force is older than the reissue interval (default
// DefaultBundleReissue), so that a plugin can tell a live fetcher from a
// frozen one by the issue time. Its version is the issue time in Unix
// milliseconds, one more than the last version when the clock has not
// moved past it: versions grow within one process, across restarts (as long
// as the clock is not set back) and across replicas that share the signing
// key (RATIONALE.md, "Why are key bundle versions signing times?").

// DefaultBundleReissue is how old the bundle in force may grow before the
// fetcher signs the same key sets again.
const DefaultBundleReissue = time.Minute

// Errors of Bundle.
var (
	// ErrNoBundleKey: the fetcher was made without WithBundleKey.
	ErrNoBundleKey = errors.New("jwksfetch: no bundle signing key: start jwksfetch with --bundle-key (WithBundleKey)")
	// ErrNoBundleYet: not every provider has had its first fetch.
	ErrNoBundleYet = errors.New("jwksfetch: no key bundle yet: the first fetch of every provider has not ended")
)

// bundleSettings are the options of bundle signing.
type bundleSettings struct {
	key     ed25519.PrivateKey
	reissue time.Duration
}

// bundleIssuer is the bundle in force and what it was made from.
type bundleIssuer struct {
	mu       sync.Mutex
	data     []byte
	version  uint64
	issued   time.Time
	content  string // the providers, issuers and key sets it holds
	issues   uint64 // bundles signed
	served   uint64 // answers with a bundle
	notMod   uint64 // answers 304
	failures uint64 // bundles that could not be made
}

// WithBundleKey makes the fetcher sign key bundles with key (an Ed25519
// private key, LoadBundleKey) and serve them (Bundle, GET /bundle); its
// answer to POST /refresh is then a bundle as well.
func WithBundleKey(key ed25519.PrivateKey) Option {
	return func(s *settings) { s.bundle.key = key }
}

// WithBundleReissue sets how old the bundle in force may grow before the
// same key sets are signed again (default DefaultBundleReissue). Keep it
// well under the plugins' max_stale_seconds, which refuse older bundles.
func WithBundleReissue(d time.Duration) Option {
	return func(s *settings) { s.bundle.reissue = d }
}

// Bundle returns the signed bundle in force and its version, issuing a new
// one first when the key sets changed since it was signed or it is older
// than the reissue interval. It holds every fetched provider that has a key
// set in force (a provider whose set was withdrawn is left out, and the
// plugin answers its tokens with 503). It fails with ErrNoBundleKey without
// a signing key, and with ErrNoBundleYet until every provider has had its
// first fetch, so that no plugin installs a partial bundle.
func (f *Fetcher) Bundle() ([]byte, uint64, error) {
	key := f.s.bundle.key
	if key == nil {
		return nil, 0, ErrNoBundleKey
	}
	reissue := f.s.bundle.reissue
	if reissue <= 0 {
		reissue = DefaultBundleReissue
	}
	f.mu.Lock()
	now := f.s.clock.Now()
	var (
		provs   []keybundle.Provider
		content strings.Builder
	)
	for _, name := range f.order {
		p := f.provs[name]
		if p.completed == 0 {
			f.mu.Unlock()
			return nil, 0, ErrNoBundleYet
		}
		if _, configured := f.doc.providers[name]; !configured || p.jwks == nil {
			continue // a key set withdrawn, or one tenant's of a multi-tenant provider
		}
		provs = append(provs, keybundle.Provider{Name: name, Issuer: p.cfg.Issuer, JWKS: p.jwks})
		content.WriteString(name + "\x00" + p.cfg.Issuer + "\x00" + string(p.jwks) + "\x00")
	}
	f.mu.Unlock()

	b := &f.bundles
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.data != nil && b.content == content.String() && now.Sub(b.issued) < reissue && !now.Before(b.issued) {
		return b.data, b.version, nil
	}
	version := uint64(max(now.UnixMilli(), 1))
	if version <= b.version {
		version = b.version + 1
	}
	data, err := keybundle.Sign(keybundle.Bundle{Version: version, IssuedAt: now, Providers: provs}, key)
	if err != nil {
		b.failures++
		return nil, 0, fmt.Errorf("jwksfetch: signing the key bundle: %w", err)
	}
	if b.content != content.String() {
		names := make([]string, len(provs))
		for i, p := range provs {
			names[i] = p.Name
		}
		f.s.logger.Info("jwksfetch: key bundle issued with new key sets", "version", version, "providers", names)
	}
	b.data, b.version, b.issued, b.content = data, version, now, content.String()
	b.issues++
	return data, version, nil
}

// signsBundles reports whether the fetcher was given a signing key.
func (f *Fetcher) signsBundles() bool { return f.s.bundle.key != nil }

// serveBundle answers GET /bundle, and POST /refresh of a fetcher that signs
// bundles: the bundle in force (ETag its version), or 304 when the request's
// If-None-Match names it.
func (f *Fetcher) serveBundle(w http.ResponseWriter, r *http.Request) {
	data, version, err := f.Bundle()
	switch {
	case errors.Is(err, ErrNoBundleKey):
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	case errors.Is(err, ErrNoBundleYet):
		w.Header().Set("Retry-After", "1")
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	case err != nil:
		f.s.logger.Error("jwksfetch: no key bundle to serve", "error", err)
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	etag := keybundle.ETag(version)
	w.Header().Set("ETag", etag)
	w.Header().Set("Cache-Control", "no-store")
	b := &f.bundles
	if r.Method == http.MethodGet && r.Header.Get("If-None-Match") == etag {
		b.mu.Lock()
		b.notMod++
		b.mu.Unlock()
		w.WriteHeader(http.StatusNotModified)
		return
	}
	b.mu.Lock()
	b.served++
	b.mu.Unlock()
	w.Header().Set("Content-Type", keybundle.MediaType)
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	_, _ = w.Write(data)
}

// writeBundleMetrics writes the bundle metrics, after WriteMetrics's.
func (f *Fetcher) writeBundleMetrics(w io.Writer) error {
	if !f.signsBundles() {
		return nil
	}
	b := &f.bundles
	b.mu.Lock()
	defer b.mu.Unlock()
	bw := bufio.NewWriter(w)
	metric := func(name, kind, help string, v uint64) {
		fmt.Fprintf(bw, "# HELP %s %s\n# TYPE %s %s\n%s %d\n", name, help, name, kind, name, v)
	}
	issued := uint64(0)
	if !b.issued.IsZero() {
		issued = uint64(b.issued.Unix())
	}
	metric("jwksfetch_bundle_version", "gauge", "Version of the key bundle in force (0: none yet).", b.version)
	metric("jwksfetch_bundle_issued_timestamp_seconds", "gauge", "Unix time the key bundle in force was signed.", issued)
	metric("jwksfetch_bundles_issued_total", "counter", "Key bundles signed.", b.issues)
	metric("jwksfetch_bundle_failures_total", "counter", "Key bundles that could not be signed.", b.failures)
	fmt.Fprintf(bw, "# HELP jwksfetch_bundle_answers_total Answers with the key bundle (200) or that it is unchanged (304).\n"+
		"# TYPE jwksfetch_bundle_answers_total counter\njwksfetch_bundle_answers_total{code=\"200\"} %d\njwksfetch_bundle_answers_total{code=\"304\"} %d\n", b.served, b.notMod)
	return bw.Flush()
}

// maxKeyFile bounds a key file: a PEM Ed25519 key is about 120 bytes.
const maxKeyFile = 64 << 10

// LoadBundleKey reads the bundle signing key from path: an Ed25519 private
// key in PKCS #8 PEM ("-----BEGIN PRIVATE KEY-----"), as GenerateBundleKey
// and `openssl genpkey -algorithm ed25519` write it. The file must be a
// regular file that only its owner can read or write (mode 0600 or
// stricter): a key that others can read lets them forge key sets every
// proxy trusts. The key itself never appears in an error.
func LoadBundleKey(path string) (ed25519.PrivateKey, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("bundle signing key: %w", err)
	}
	defer file.Close()
	st, err := file.Stat()
	if err != nil {
		return nil, fmt.Errorf("bundle signing key: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("bundle signing key %s: not a regular file", path)
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("bundle signing key %s: mode %04o lets others than its owner read or write it; "+
			"run chmod 600 %s (only the owner may read a signing key)", path, perm, path)
	}
	raw, err := io.ReadAll(io.LimitReader(file, maxKeyFile+1))
	if err != nil {
		return nil, fmt.Errorf("bundle signing key: %w", err)
	}
	if len(raw) > maxKeyFile {
		return nil, fmt.Errorf("bundle signing key %s: larger than %d bytes; not a PEM Ed25519 key", path, maxKeyFile)
	}
	block, rest := pem.Decode(raw)
	if block == nil || block.Type != "PRIVATE KEY" || len(strings.TrimSpace(string(rest))) != 0 {
		return nil, fmt.Errorf("bundle signing key %s: want one PEM block \"PRIVATE KEY\" (PKCS #8), as `jwksfetch keygen` "+
			"or `openssl genpkey -algorithm ed25519` write it", path)
	}
	parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("bundle signing key %s: not a PKCS #8 private key", path)
	}
	key, ok := parsed.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("bundle signing key %s: a %T, not an Ed25519 key", path, parsed)
	}
	return key, nil
}

// GenerateBundleKey makes a new Ed25519 signing key, writes it to path as
// LoadBundleKey reads it (mode 0600; an existing file is never replaced)
// and returns the public key to pin in the plugins' configuration.
func GenerateBundleKey(path string) (string, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return "", err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return "", err
	}
	file, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", fmt.Errorf("writing the bundle signing key: %w (an existing key is never replaced)", err)
	}
	if err := pem.Encode(file, &pem.Block{Type: "PRIVATE KEY", Bytes: der}); err != nil {
		file.Close()
		os.Remove(path)
		return "", fmt.Errorf("writing the bundle signing key: %w", err)
	}
	if err := file.Close(); err != nil {
		os.Remove(path)
		return "", fmt.Errorf("writing the bundle signing key: %w", err)
	}
	return keybundle.NewPublicKey(pub).String(), nil
}

// BundlePublicKey returns the public key of a signing key as the plugin's
// "bundle.public_keys" writes it, and its ID (the "key_id" of the bundles it
// signs), which is safe to log.
func BundlePublicKey(key ed25519.PrivateKey) (pinned, id string) {
	k := keybundle.NewPublicKey(key.Public().(ed25519.PublicKey))
	return k.String(), k.ID()
}
