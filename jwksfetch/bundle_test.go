package jwksfetch

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tokengate/tokengate/internal/fetchtest"
	"github.com/tokengate/tokengate/internal/issuer"
	"github.com/tokengate/tokengate/internal/keybundle"
	"github.com/tokengate/tokengate/internal/refreshapi"
)

var testBundleKey = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{31}, 32))

// bundleVerifier verifies what testBundleKey signs.
func bundleVerifier(t testing.TB) *keybundle.Verifier {
	t.Helper()
	v, err := keybundle.NewVerifier(time.Hour, keybundle.NewPublicKey(testBundleKey.Public().(ed25519.PublicKey)))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// keyServer serves whatever set holds, and fails while down is set.
type keyServer struct {
	*httptest.Server
	set  atomic.Value
	down atomic.Bool
}

func newKeyServer(t *testing.T, keys string) *keyServer {
	t.Helper()
	s := &keyServer{}
	s.set.Store(keys)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.down.Load() {
			http.Error(w, "down", http.StatusBadGateway)
			return
		}
		io.WriteString(w, s.set.Load().(string))
	}))
	t.Cleanup(s.Close)
	return s
}

// waitFirstFetch waits until every provider of f has had its first fetch.
func waitFirstFetch(t *testing.T, f *Fetcher) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if _, _, err := f.Bundle(); !errors.Is(err, ErrNoBundleYet) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("no first fetch within 5s")
		}
	}
}

// TestBundleIsIssuedOnChangesAndAgainWhenOld follows one fetcher's bundles:
// none before the first fetches, then one that holds every fetched
// provider's key set with its issuer (not the inline one), the same bundle
// until the key sets change or it is a reissue interval old, and versions
// that only grow, also when the clock goes back and across a restart.
func TestBundleIsIssuedOnChangesAndAgainWhenOld(t *testing.T) {
	t.Parallel()
	k1, k2, k3 := newJWK(t, issuer.ES256, "k1"), newJWK(t, issuer.ES256, "k2"), newJWK(t, issuer.ES256, "k3")
	corp, partner := newKeyServer(t, set(k1)), newKeyServer(t, set(k3))
	cfg := fmt.Sprintf(`{"realm":"r","providers":{
		"corp":{"issuer":"https://idp.example","jwks_uri":%q},
		"partner":{"issuer":"https://partner.example","jwks_uri":%q},
		"inline":{"issuer":"https://inline.example","jwks":%s},
		"batch":{"type":"passphrase","passphrase":"0123456789abcdef"}}}`, corp.URL, partner.URL, set(k2))
	clock := newFakeClock()
	newFetcher := func() *Fetcher {
		f, err := New([]byte(cfg), WithClock(clock), WithLogger(quiet), WithBundleKey(testBundleKey),
			WithBundleReissue(time.Minute), WithOnDemandInterval(time.Second))
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	f := newFetcher()
	if _, _, err := f.Bundle(); !errors.Is(err, ErrNoBundleYet) {
		t.Fatalf("before Run: %v, want ErrNoBundleYet", err)
	}
	fetchtest.Run(t, f)
	waitFirstFetch(t, f)
	v := bundleVerifier(t)

	type bundle struct {
		data    []byte
		version uint64
	}
	get := func() bundle {
		t.Helper()
		data, version, err := f.Bundle()
		if err != nil {
			t.Fatal(err)
		}
		return bundle{data, version}
	}
	read := func(b bundle) *keybundle.Bundle {
		t.Helper()
		kb, err := v.Verify(b.data, 0, clock.Now())
		if err != nil {
			t.Fatalf("the fetcher's bundle does not verify: %v", err)
		}
		if kb.Version != b.version {
			t.Fatalf("Bundle says version %d, the bundle %d", b.version, kb.Version)
		}
		return kb
	}
	kids := func(kb *keybundle.Bundle, name string) []string {
		p := kb.Provider(name)
		if p == nil {
			return nil
		}
		var out []string
		for _, k := range p.Keys.Keys {
			out = append(out, k.Kid)
		}
		return out
	}

	first := get()
	kb := read(first)
	if first.version != uint64(clock.Now().UnixMilli()) || !kb.IssuedAt.Equal(clock.Now()) {
		t.Errorf("version %d issued %v; want the issue time in ms, %d", first.version, kb.IssuedAt, clock.Now().UnixMilli())
	}
	if len(kb.Providers) != 2 || kb.Provider("corp").Issuer != "https://idp.example" || fmt.Sprint(kids(kb, "corp")) != "[k1]" ||
		kb.Provider("partner").Issuer != "https://partner.example" || fmt.Sprint(kids(kb, "partner")) != "[k3]" {
		t.Fatalf("bundle providers %+v", kb.Providers)
	}

	steps := []struct {
		name      string
		do        func()
		newIssue  bool   // a new bundle is signed
		corpKids  string // corp's kids in it
		versionIs func(prev, got uint64) bool
	}{
		{name: "the same bundle within the reissue interval", do: func() { clock.Advance(30 * time.Second) }, corpKids: "[k1]"},
		{name: "the same key sets again once the bundle is a reissue interval old", do: func() { clock.Advance(30 * time.Second) },
			newIssue: true, corpKids: "[k1]"},
		{name: "at once when a key set changes", newIssue: true, corpKids: "[k1 k2]", do: func() {
			corp.set.Store(set(k1, k2))
			f.RequestRefresh("corp", "k2")
			for deadline := time.Now().Add(5 * time.Second); !strings.Contains(fmt.Sprint(f.Status()[0].Kids), "k2"); time.Sleep(5 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatal("k2 was not fetched")
				}
			}
		}},
		{name: "a clock set back still gives a newer version", newIssue: true, corpKids: "[k1 k2]", do: func() { clock.Advance(-time.Hour) }},
	}
	prev := first
	for _, s := range steps {
		s.do()
		b := get()
		kb := read(b)
		if got := b.version != prev.version; got != s.newIssue {
			t.Fatalf("%s: new bundle %v (version %d after %d), want %v", s.name, got, b.version, prev.version, s.newIssue)
		}
		if s.newIssue && b.version <= prev.version {
			t.Fatalf("%s: version %d after %d", s.name, b.version, prev.version)
		}
		if !s.newIssue && !bytes.Equal(b.data, prev.data) {
			t.Fatalf("%s: the same version with other bytes", s.name)
		}
		if got := fmt.Sprint(kids(kb, "corp")); got != s.corpKids {
			t.Fatalf("%s: corp's kids %s, want %s", s.name, got, s.corpKids)
		}
		prev = b
	}

	t.Run("a restarted fetcher's versions are newer once its clock has moved on", func(t *testing.T) {
		clock.Advance(2 * time.Hour) // back past the last version's time
		g := newFetcher()
		fetchtest.Run(t, g)
		waitFirstFetch(t, g)
		data, version, err := g.Bundle()
		if err != nil {
			t.Fatal(err)
		}
		if version <= prev.version {
			t.Fatalf("restarted: version %d, the last one before %d", version, prev.version)
		}
		if _, err := v.Verify(data, prev.version, clock.Now()); err != nil {
			t.Fatalf("a plugin holding the old fetcher's last bundle refuses the restarted fetcher's: %v", err)
		}
	})
}

// TestBundleLeavesOutAWithdrawnKeySet: a provider whose key set was
// withdrawn after max_stale is not in the bundle, so the plugin answers its
// tokens with 503 too.
func TestBundleLeavesOutAWithdrawnKeySet(t *testing.T) {
	t.Parallel()
	corp := newKeyServer(t, set(newJWK(t, issuer.ES256, "k1")))
	clock := newFakeClock()
	rec := fetchtest.NewRecorder()
	f, err := New([]byte(fmt.Sprintf(`{"providers":{"corp":{"issuer":"https://idp.example","jwks_uri":%q,
		"fetch":{"refresh_seconds":30,"max_stale_seconds":40}}}}`, corp.URL)),
		WithClock(clock), WithSink(rec), WithLogger(quiet), WithBundleKey(testBundleKey), almostOne)
	if err != nil {
		t.Fatal(err)
	}
	fetchtest.Run(t, f)
	clock.waitAsked(t, 1)
	rec.WaitFor(t, 5*time.Second, "corp has keys", func(c []byte) bool { return fetchtest.KidsIn(t, c, "corp") != nil })
	corp.down.Store(true)
	clock.Advance(30 * time.Second) // a failed fetch; the next attempt at max_stale
	asked := clock.waitAsked(t, 2)
	clock.Advance(asked[1])
	rec.WaitFor(t, 5*time.Second, "corp is withdrawn", func(c []byte) bool { return fetchtest.KidsIn(t, c, "corp") == nil })
	data, _, err := f.Bundle()
	if err != nil {
		t.Fatal(err)
	}
	kb, err := bundleVerifier(t).Verify(data, 0, clock.Now())
	if err != nil || len(kb.Providers) != 0 {
		t.Fatalf("bundle after the withdrawal: %+v, %v", kb, err)
	}
}

// TestBundleEndpoints drives the admin listener: GET /bundle, its 304, and
// POST /refresh, whose answer is a bundle when the fetcher signs.
func TestBundleEndpoints(t *testing.T) {
	t.Parallel()
	k1, k2 := newJWK(t, issuer.ES256, "k1"), newJWK(t, issuer.ES256, "k2")
	corp := newKeyServer(t, set(k1))
	slow := make(chan struct{})
	stalled := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-slow }))
	t.Cleanup(func() { close(slow); stalled.Close() })
	cfg := fmt.Sprintf(`{"providers":{"corp":{"issuer":"https://idp.example","jwks_uri":%q}}}`, corp.URL)

	serve := func(t *testing.T, config string, opts ...Option) (*Fetcher, *httptest.Server) {
		f, err := New([]byte(config), append([]Option{WithLogger(quiet), WithOnDemandInterval(time.Millisecond)}, opts...)...)
		if err != nil {
			t.Fatal(err)
		}
		admin := httptest.NewServer(f.AdminHandler())
		t.Cleanup(admin.Close)
		return f, admin
	}
	do := func(t *testing.T, method, url string, header ...string) (*http.Response, []byte) {
		req, _ := http.NewRequest(method, url, nil)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp, body
	}

	t.Run("without a signing key: 404 that says how to start one", func(t *testing.T) {
		f, admin := serve(t, cfg)
		fetchtest.Run(t, f)
		resp, body := do(t, "GET", admin.URL+keybundle.Path)
		if resp.StatusCode != 404 || !strings.Contains(string(body), "--bundle-key") {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
		// And /refresh answers the key set, as before.
		waitReady(t, f)
		resp, _ = do(t, "POST", admin.URL+refreshapi.Path+"?provider=corp&kid=k1")
		if resp.Header.Get("Content-Type") != refreshapi.ContentType {
			t.Fatalf("/refresh without a signing key: %s", resp.Header.Get("Content-Type"))
		}
	})
	t.Run("before every provider's first fetch: 503 with Retry-After", func(t *testing.T) {
		f, admin := serve(t, fmt.Sprintf(`{"providers":{"corp":{"issuer":"https://idp.example","jwks_uri":%q}}}`, stalled.URL),
			WithBundleKey(testBundleKey))
		fetchtest.Run(t, f)
		resp, body := do(t, "GET", admin.URL+keybundle.Path)
		if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" || !strings.Contains(string(body), "first fetch") {
			t.Fatalf("%d %v %s", resp.StatusCode, resp.Header, body)
		}
	})
	t.Run("the bundle, its 304, and /refresh answered with a bundle", func(t *testing.T) {
		f, admin := serve(t, cfg, WithBundleKey(testBundleKey))
		fetchtest.Run(t, f)
		waitReady(t, f)
		v := bundleVerifier(t)
		resp, body := do(t, "GET", admin.URL+keybundle.Path, "Accept", keybundle.MediaType)
		if err := keybundle.CheckAnswer(fmt.Sprint(resp.StatusCode), resp.Header.Get("Content-Type"), len(body)); err != nil {
			t.Fatal(err)
		}
		kb, err := v.Verify(body, 0, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		etag := resp.Header.Get("ETag")
		if etag != keybundle.ETag(kb.Version) || resp.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("ETag %q, Cache-Control %q; want %s, no-store", etag, resp.Header.Get("Cache-Control"), keybundle.ETag(kb.Version))
		}
		if resp, body := do(t, "GET", admin.URL+keybundle.Path, "If-None-Match", etag); resp.StatusCode != 304 || len(body) != 0 {
			t.Fatalf("If-None-Match of the bundle in force: %d", resp.StatusCode)
		}
		if resp, _ := do(t, "GET", admin.URL+keybundle.Path, "If-None-Match", `"1"`); resp.StatusCode != 200 {
			t.Fatalf("If-None-Match of another version: %d", resp.StatusCode)
		}

		corp.set.Store(set(k1, k2)) // the provider rotates; a token names k2
		resp, body = do(t, "POST", admin.URL+refreshapi.Path+"?provider=corp&kid=k2")
		if err := keybundle.CheckAnswer(fmt.Sprint(resp.StatusCode), resp.Header.Get("Content-Type"), len(body)); err != nil {
			t.Fatalf("/refresh with a signing key: %v", err)
		}
		fresh, err := v.Verify(body, kb.Version, time.Now())
		if err != nil {
			t.Fatalf("/refresh's bundle: %v", err)
		}
		if p := fresh.Provider("corp"); p == nil || !p.Keys.HasKid("k2") {
			t.Fatalf("/refresh's bundle lacks the fresh kid: %+v", fresh.Providers)
		}
		if resp.Header.Get(refreshapi.OutcomeHeader) != "scheduled" {
			t.Errorf("outcome %q", resp.Header.Get(refreshapi.OutcomeHeader))
		}
		if resp, _ := do(t, "POST", admin.URL+refreshapi.Path+"?provider=nobody&kid=k2"); resp.StatusCode != 404 {
			t.Fatalf("/refresh for an unknown provider: %d", resp.StatusCode)
		}
		_, m := do(t, "GET", admin.URL+"/metrics")
		for _, want := range []string{fmt.Sprintf("jwksfetch_bundle_version %d", fresh.Version), "jwksfetch_bundles_issued_total 2",
			`jwksfetch_bundle_answers_total{code="304"} 1`} {
			if !strings.Contains(string(m), want) {
				t.Errorf("metrics lack %q:\n%s", want, m)
			}
		}
	})
}

func waitReady(t *testing.T, f *Fetcher) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !f.Ready(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no key set within 5s")
		}
	}
}

func TestLoadBundleKey(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	pkcs8 := func(key any) []byte {
		der, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			t.Fatal(err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	}
	good := pkcs8(testBundleKey)
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	write := func(name string, data []byte, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil { // past the umask
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name, path, err string // err: a part of the error; "" when loaded
	}{
		{name: "0600", path: write("ok600", good, 0o600)},
		{name: "0400", path: write("ok400", good, 0o400)},
		{name: "group-readable", path: write("g", good, 0o640), err: "mode 0640 lets others than its owner read or write it; run chmod 600"},
		{name: "world-readable", path: write("o", good, 0o644), err: "mode 0644"},
		{name: "group-writable", path: write("gw", good, 0o620), err: "mode 0620"},
		{name: "a directory", path: dir, err: "not a regular file"},
		{name: "missing", path: filepath.Join(dir, "missing"), err: "no such file"},
		{name: "not PEM", path: write("raw", testBundleKey, 0o600), err: `want one PEM block "PRIVATE KEY"`},
		{name: "two PEM blocks", path: write("two", append(append([]byte{}, good...), good...), 0o600), err: "want one PEM block"},
		{name: "an EC key", path: write("ec", pkcs8(ec), 0o600), err: "not an Ed25519 key"},
		{name: "a PEM block of another type", path: write("pub", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: []byte{1}}), 0o600),
			err: `want one PEM block "PRIVATE KEY"`},
		{name: "garbage in the block", path: write("bad", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{1, 2, 3}}), 0o600),
			err: "not a PKCS #8 private key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			key, err := LoadBundleKey(tt.path)
			if tt.err == "" {
				if err != nil || !key.Equal(testBundleKey) {
					t.Fatalf("LoadBundleKey = %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("err = %v, want it to say %q", err, tt.err)
			}
			// The key never reaches an error message.
			for _, line := range strings.Split(string(good), "\n")[1:2] {
				if strings.Contains(err.Error(), line) {
					t.Fatalf("the error quotes the key: %v", err)
				}
			}
		})
	}
}

func TestGenerateBundleKey(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "bundle.key")
	pinned, err := GenerateBundleKey(path)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, %v; want 0600", st.Mode(), err)
	}
	key, err := LoadBundleKey(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, id := BundlePublicKey(key); got != pinned || len(id) != 11 {
		t.Fatalf("BundlePublicKey = %s (id %s), GenerateBundleKey printed %s", got, id, pinned)
	}
	if _, err := keybundle.ParsePublicKey(pinned); err != nil {
		t.Fatalf("the plugin cannot pin %s: %v", pinned, err)
	}
	if _, err := GenerateBundleKey(path); err == nil || !strings.Contains(err.Error(), "never replaced") {
		t.Fatalf("an existing key was replaced: %v", err)
	}
	if again, _ := LoadBundleKey(path); !again.Equal(key) {
		t.Fatal("the key changed")
	}
}

// TestBundleKeyIsNeverLogged runs a signing fetcher with a debug logger and
// looks for the key's bytes in everything it logged.
func TestBundleKeyIsNeverLogged(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	corp := newKeyServer(t, set(newJWK(t, issuer.ES256, "k1")))
	f, err := New([]byte(fmt.Sprintf(`{"providers":{"corp":{"issuer":"https://idp.example","jwks_uri":%q}}}`, corp.URL)),
		WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))), WithBundleKey(testBundleKey))
	if err != nil {
		t.Fatal(err)
	}
	fetchtest.Run(t, f)
	waitReady(t, f)
	if _, _, err := f.Bundle(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "key bundle issued") {
		t.Fatalf("nothing logged about the bundle:\n%s", logs.String())
	}
	der, _ := x509.MarshalPKCS8PrivateKey(testBundleKey)
	for _, secret := range [][]byte{testBundleKey.Seed(), der, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})} {
		for _, enc := range []string{string(secret), fmt.Sprintf("%x", secret), fmt.Sprint(secret)} {
			if strings.Contains(logs.String(), enc) {
				t.Fatal("the log holds the signing key")
			}
		}
	}
}
