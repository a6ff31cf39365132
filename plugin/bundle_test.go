//go:build !wasip1

package main

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokengate/tokengate/host"
	"github.com/tokengate/tokengate/internal/issuer"
	"github.com/tokengate/tokengate/internal/keybundle"
	"github.com/tokengate/tokengate/internal/refreshapi"
	"github.com/tokengate/tokengate/testhost"
)

// These tests drive the real module with a "bundle" section: no keys in the
// configuration, key sets from signed bundles that a fake jwksfetch serves
// on the "jwksfetch" upstream, on a clock the test moves.

var (
	bundleSigner   = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{21}, 32))
	strangerSigner = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{22}, 32))
	bundlePub      = keybundle.NewPublicKey(bundleSigner.Public().(ed25519.PublicKey)).String()
)

const bundleCfg = `{"bundle": {"cluster": "jwksfetch", "public_keys": ["PUB"], "poll_interval_seconds": 10, "max_stale_seconds": 60, "timeout_ms": 2000},
  "providers": {"corp": {"issuer": "` + iss + `", "audiences": ["` + aud + `"]}}}`

func bundleConfigWith(pub string) string { return strings.Replace(bundleCfg, "PUB", pub, 1) }

// clock is the plugin's clock, moved by the test.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// bundleFetcher is a fake jwksfetch: GET /bundle answers with whatever
// answer returns, POST /refresh with refresh (or answer, when refresh is nil).
type bundleFetcher struct {
	mu               sync.Mutex
	answer           func() (*http.Response, error)
	refresh          func() (*http.Response, error)
	polls, refreshes int
	ifNoneMatch      string
}

func (f *bundleFetcher) RoundTrip(r *http.Request) (*http.Response, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case r.Method == http.MethodGet && r.URL.Path == keybundle.Path:
		f.polls++
		f.ifNoneMatch = r.Header.Get("If-None-Match")
		if r.Header.Get("Accept") != keybundle.MediaType {
			return answer(400, "text/plain", []byte("accept")), nil
		}
		return f.answer()
	case r.Method == http.MethodPost && r.URL.Path == refreshapi.Path:
		f.refreshes++
		if f.refresh != nil {
			return f.refresh()
		}
		return f.answer()
	}
	return answer(404, "text/plain", nil), nil
}

func (f *bundleFetcher) set(a func() (*http.Response, error)) {
	f.mu.Lock()
	f.answer = a
	f.mu.Unlock()
}
func (f *bundleFetcher) counts() (polls, refreshes int, inm string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.polls, f.refreshes, f.ifNoneMatch
}

func serve(data []byte) func() (*http.Response, error) {
	return func() (*http.Response, error) { return answer(200, keybundle.MediaType, data), nil }
}

// bundleOf signs a bundle holding corp's set of the given keys.
func bundleOf(t *testing.T, key ed25519.PrivateKey, version uint64, at time.Time, idp *issuer.Issuer, keys ...*issuer.Key) []byte {
	t.Helper()
	saved := idp.Keys
	idp.Keys = keys
	set := idp.JWKS()
	idp.Keys = saved
	data, err := keybundle.Sign(keybundle.Bundle{Version: version, IssuedAt: at,
		Providers: []keybundle.Provider{{Name: "corp", Issuer: iss, JWKS: set}}}, key)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// bundleHost is the module with bundleCfg and its fake fetcher.
type bundleHost struct {
	th      *testhost.Host
	clock   *clock
	fetcher *bundleFetcher
	idp     *issuer.Issuer
	old     *issuer.Key // in the first bundle
	new     *issuer.Key // not in it
}

func newBundleHost(t *testing.T, opts ...testhost.Option) *bundleHost {
	t.Helper()
	idp := newIssuer(t)
	rotated, err := issuer.NewKey(issuer.ES256, "rotated")
	if err != nil {
		t.Fatal(err)
	}
	b := &bundleHost{clock: &clock{now: time.Now().Truncate(time.Second)}, fetcher: &bundleFetcher{}, idp: idp, old: idp.Keys[0], new: rotated}
	idp.Keys = append(idp.Keys, rotated)
	// The fetcher has no bundle yet when the module polls as it is configured.
	b.fetcher.set(func() (*http.Response, error) { return answer(503, "text/plain", []byte("no key bundle yet")), nil })
	b.th = testhost.New(t, bundleConfigWith(bundlePub), append(opts, testhost.WithClock(b.clock.Now),
		testhost.WithHostOption(host.WithUpstreamTransport("jwksfetch", "http://jwksfetch", b.fetcher)))...)
	b.waitMetric(t, "tokengate.bundle.call_failed", 1)
	b.fetcher.set(serve(bundleOf(t, bundleSigner, 100, b.clock.Now(), idp, b.old)))
	return b
}

// waitMetric waits until the module's metric named reaches want.
func (b *bundleHost) waitMetric(t *testing.T, name string, want int64) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); b.th.Plugin().Metrics()[name] < want; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s did not reach %d; metrics %v", name, want, bundleMetrics(b.th))
		}
	}
}

// status sends a token signed with key and returns the status (200 for a
// request that went upstream).
func (b *bundleHost) status(t *testing.T, key *issuer.Key) (int, testhost.Response) {
	t.Helper()
	res := b.th.Do(t, testhost.Request{Path: "/v1", Headers: [][2]string{{"authorization",
		"Bearer " + token(t, b.idp, nil, issuer.WithKey(key.Kid), issuer.WithTTL(time.Hour))}}})
	if res.Continued {
		return 200, res
	}
	return res.Status, res
}

// tick moves the clock by d, delivers the tick and waits until the metric
// named counts one more than before (the poll's answer is delivered after
// the tick, when the call returns).
func (b *bundleHost) tick(t *testing.T, d time.Duration, metric string) []string {
	t.Helper()
	before := b.th.Plugin().Metrics()[metric]
	b.clock.Add(d)
	_, logs := b.th.Tick(t)
	deadline := time.Now().Add(5 * time.Second)
	for b.th.Plugin().Metrics()[metric] <= before {
		if time.Now().After(deadline) {
			t.Fatalf("%s stayed at %d after the tick; metrics %v; log:\n%s", metric, before, bundleMetrics(b.th), strings.Join(logs, "\n"))
		}
		time.Sleep(5 * time.Millisecond)
	}
	return logs
}

func bundleMetrics(th *testhost.Host) map[string]int64 {
	out := map[string]int64{}
	for k, v := range th.Plugin().Metrics() {
		if strings.HasPrefix(k, "tokengate.bundle.") {
			out[k] = v
		}
	}
	return out
}

// TestPluginPollsSignedKeyBundles: the module starts with no keys (503),
// installs the first bundle its poll brings, and then takes or refuses the
// next one according to what the fetcher, or an attacker on the way,
// answers: a refused bundle is counted by reason and the keys in force stay.
// An unsigned key set is never installed.
func TestPluginPollsSignedKeyBundles(t *testing.T) { forEachEnvoy(t, testPluginPollsSignedKeyBundles) }

func testPluginPollsSignedKeyBundles(t *testing.T, opts ...testhost.Option) {
	tests := []struct {
		name     string
		next     func(b *bundleHost) []byte // the second poll's bundle; nil with raw
		raw      func() (*http.Response, error)
		metric   string // the metric the second poll moves
		old, new int    // statuses of the old and the new key's tokens afterwards
	}{
		{name: "a newer bundle is installed", metric: "tokengate.bundle.installed", old: 401, new: 200,
			next: func(b *bundleHost) []byte { return bundleOf(t, bundleSigner, 101, b.clock.Now(), b.idp, b.new) }},
		{name: "a bundle changed on the way is refused", metric: "tokengate.bundle.rejected.bad_signature", old: 200, new: 401,
			next: func(b *bundleHost) []byte {
				return withSignatureOf(t, bundleOf(t, bundleSigner, 101, b.clock.Now(), b.idp, b.new), bundleOf(t, bundleSigner, 101, b.clock.Now(), b.idp, b.old))
			}},
		{name: "a bundle signed with a key that is not pinned is refused", metric: "tokengate.bundle.rejected.bad_signature", old: 200, new: 401,
			next: func(b *bundleHost) []byte { return bundleOf(t, strangerSigner, 101, b.clock.Now(), b.idp, b.new) }},
		{name: "an older bundle is a replay", metric: "tokengate.bundle.rejected.replay", old: 200, new: 401,
			next: func(b *bundleHost) []byte { return bundleOf(t, bundleSigner, 99, b.clock.Now(), b.idp, b.new) }},
		{name: "a stale bundle is refused", metric: "tokengate.bundle.rejected.stale", old: 200, new: 401,
			next: func(b *bundleHost) []byte {
				return bundleOf(t, bundleSigner, 101, b.clock.Now().Add(-61*time.Second), b.idp, b.new)
			}},
		{name: "a bundle from the future is refused", metric: "tokengate.bundle.rejected.future", old: 200, new: 401,
			next: func(b *bundleHost) []byte {
				return bundleOf(t, bundleSigner, 101, b.clock.Now().Add(2*time.Minute), b.idp, b.new)
			}},
		{name: "a bundle that does not read is refused", metric: "tokengate.bundle.rejected.malformed", old: 200, new: 401,
			next: func(b *bundleHost) []byte { return []byte(`{"key_id":"x","payload":"e30","signature":"e30"}`) }},
		{name: "the same bundle is nothing to do", metric: "tokengate.bundle.unchanged", old: 200, new: 401,
			next: func(b *bundleHost) []byte { return bundleOf(t, bundleSigner, 100, b.clock.Now(), b.idp, b.new) }},
		{name: "304: nothing to do", metric: "tokengate.bundle.unchanged", old: 200, new: 401,
			raw: func() (*http.Response, error) { return answer(304, "", nil), nil }},
		{name: "an unsigned key set is not installed", metric: "tokengate.bundle.call_failed", old: 200, new: 401,
			raw: func() (*http.Response, error) { return answer(200, refreshapi.ContentType, newIssuerSet(t)), nil }},
		{name: "the fetcher fails", metric: "tokengate.bundle.call_failed", old: 200, new: 401,
			raw: func() (*http.Response, error) { return nil, errors.New("connection refused") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBundleHost(t, opts...)
			if polls, _, _ := b.fetcher.counts(); polls != 1 {
				t.Fatalf("%d polls as the module was configured, want 1", polls)
			}
			if st, res := b.status(t, b.old); st != 503 || res.Header("retry-after") == "" {
				t.Fatalf("before the first bundle: %d (want 503 with Retry-After)", st)
			}
			// Without keys it polls again 5 s later, not poll_interval_seconds.
			logs := b.tick(t, 5*time.Second, "tokengate.bundle.installed")
			if st, _ := b.status(t, b.old); st != 200 {
				t.Fatalf("after the first bundle: %d; log:\n%s", st, strings.Join(logs, "\n"))
			}
			if m := b.th.Plugin().Metrics(); m["tokengate.bundle.version"] != 100 {
				t.Errorf("version gauge %d, want 100", m["tokengate.bundle.version"])
			}
			if tt.raw != nil {
				b.fetcher.set(tt.raw)
			} else {
				b.fetcher.set(serve(tt.next(b)))
			}
			// Within poll_interval_seconds nothing is asked.
			polls, _, _ := b.fetcher.counts()
			b.clock.Add(5 * time.Second)
			b.th.Tick(t)
			if p, _, _ := b.fetcher.counts(); p != polls {
				t.Fatalf("%d polls within the interval", p-polls)
			}
			b.tick(t, 5*time.Second, tt.metric)
			if _, _, inm := b.fetcher.counts(); inm != keybundle.ETag(100) {
				t.Errorf("if-none-match %q, want %s", inm, keybundle.ETag(100))
			}
			old, _ := b.status(t, b.old)
			neu, _ := b.status(t, b.new)
			if old != tt.old || neu != tt.new {
				t.Fatalf("old key %d, new key %d; want %d, %d; metrics %v", old, neu, tt.old, tt.new, bundleMetrics(b.th))
			}
		})
	}
}

// newIssuerSet is a key set that would let the stranger's tokens in.
func newIssuerSet(t *testing.T) []byte {
	stranger, err := issuer.New(iss, issuer.ES256)
	if err != nil {
		t.Fatal(err)
	}
	return stranger.JWKS()
}

// withSignatureOf returns data carrying the signature of from.
func withSignatureOf(t *testing.T, data, from []byte) []byte {
	t.Helper()
	var a, b map[string]string
	if json.Unmarshal(data, &a) != nil || json.Unmarshal(from, &b) != nil {
		t.Fatal("not a bundle envelope")
	}
	a["signature"] = b["signature"]
	out, _ := json.Marshal(a)
	return out
}

// TestPluginWithdrawsKeysAfterMaxStale: with the fetcher gone, the last good
// keys serve until max_stale after the bundle was issued, then the tokens
// get 503 with Retry-After; the next good bundle brings them back.
func TestPluginWithdrawsKeysAfterMaxStale(t *testing.T) {
	b := newBundleHost(t)
	b.tick(t, 5*time.Second, "tokengate.bundle.installed") // issued at start, installed at +5 s
	b.fetcher.set(func() (*http.Response, error) { return nil, errors.New("connection refused") })
	for at := 15; at <= 55; at += 10 {
		b.tick(t, 10*time.Second, "tokengate.bundle.call_failed")
		if st, _ := b.status(t, b.old); st != 200 {
			t.Fatalf("%d s after the bundle was issued, with the fetcher down: %d", at, st)
		}
	}
	b.clock.Add(10 * time.Second) // 65 s: older than max_stale (60 s)
	_, logs := b.th.Tick(t)
	if !strings.Contains(strings.Join(logs, "\n"), "the keys of providers [corp] are withdrawn and their tokens are answered with 503") {
		t.Errorf("the withdrawal is not logged clearly:\n%s", strings.Join(logs, "\n"))
	}
	st, res := b.status(t, b.old)
	if st != 503 || res.Header("retry-after") == "" {
		t.Fatalf("after max_stale: %d, want 503 with Retry-After", st)
	}
	if m := b.th.Plugin().Metrics(); m["tokengate.bundle.withdrawn"] != 1 {
		t.Errorf("withdrawn counter %d", m["tokengate.bundle.withdrawn"])
	}
	b.fetcher.set(serve(bundleOf(t, bundleSigner, 200, b.clock.Now(), b.idp, b.old)))
	b.tick(t, 10*time.Second, "tokengate.bundle.installed")
	if st, _ := b.status(t, b.old); st != 200 {
		t.Fatalf("after the fetcher came back: %d", st)
	}
}

// TestPluginRefreshesKeysFromABundle: a token with an unknown kid is paused
// and the fetcher's answer to the refresh is a bundle; the request goes on
// when the bundle verifies and holds the kid, and is refused as before
// otherwise. An unsigned key set is never installed.
func TestPluginRefreshesKeysFromABundle(t *testing.T) {
	tests := []struct {
		name    string
		refresh func(b *bundleHost) (*http.Response, error)
		status  int
		log     string
		metric  string // the bundle metric the answer moves
	}{
		{name: "a newer bundle with the kid: the request goes on", status: 200, log: "installed version 101 from the key refresh for provider corp", metric: "installed",
			refresh: func(b *bundleHost) (*http.Response, error) {
				return answer(200, keybundle.MediaType, bundleOf(t, bundleSigner, 101, b.clock.Now(), b.idp, b.old, b.new)), nil
			}},
		{name: "the bundle in force: 401", status: 401, log: "the fetcher's bundle is the one in force", metric: "unchanged",
			refresh: func(b *bundleHost) (*http.Response, error) {
				return answer(200, keybundle.MediaType, bundleOf(t, bundleSigner, 100, b.clock.Now(), b.idp, b.old)), nil
			}},
		{name: "a tampered bundle: 401", status: 401, log: "refused (bad_signature)", metric: "rejected.bad_signature",
			refresh: func(b *bundleHost) (*http.Response, error) {
				return answer(200, keybundle.MediaType, withSignatureOf(t, bundleOf(t, bundleSigner, 101, b.clock.Now(), b.idp, b.old, b.new),
					bundleOf(t, bundleSigner, 101, b.clock.Now(), b.idp, b.old))), nil
			}},
		{name: "an unsigned key set: 401", status: 401, log: "is the upstream jwksfetch, started with --bundle-key?", metric: "call_failed",
			refresh: func(b *bundleHost) (*http.Response, error) {
				return answer(200, refreshapi.ContentType, b.idp.JWKS()), nil
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBundleHost(t)
			b.tick(t, 5*time.Second, "tokengate.bundle.installed")
			b.fetcher.mu.Lock()
			b.fetcher.refresh = func() (*http.Response, error) { return tt.refresh(b) }
			b.fetcher.mu.Unlock()
			before := b.th.Plugin().Metrics()["tokengate.bundle."+tt.metric]
			st, res := b.status(t, b.new)
			if st != tt.status {
				t.Fatalf("status %d, want %d; log:\n%s", st, tt.status, strings.Join(res.Logs, "\n"))
			}
			if !strings.Contains(strings.Join(res.Logs, "\n"), tt.log) {
				t.Errorf("the log does not say %q:\n%s", tt.log, strings.Join(res.Logs, "\n"))
			}
			if got := b.th.Plugin().Metrics()["tokengate.bundle."+tt.metric]; got != before+1 {
				t.Errorf("tokengate.bundle.%s went from %d to %d, want one more", tt.metric, before, got)
			}
			if _, refreshes, _ := b.fetcher.counts(); refreshes != 1 {
				t.Errorf("%d refresh calls, want 1", refreshes)
			}
			if st, _ := b.status(t, b.old); st != 200 {
				t.Errorf("the old key after the refresh: %d", st)
			}
		})
	}
}

func TestPluginRefusesABadBundleSection(t *testing.T) {
	tests := []struct{ name, config, log string }{
		{name: "a key in openssl's DER form", log: "bundle.public_keys[0]: a pinned bundle key must be the 32-byte Ed25519 public key",
			config: bundleConfigWith("MCowBQYDK2VwAyEA" + strings.Repeat("A", 43))},
		{name: "no pinned key", log: "bundle.public_keys: must be an array",
			config: strings.Replace(bundleCfg, `"public_keys": ["PUB"], `, "", 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logs := testhost.Refused(t, tt.config)
			if !strings.Contains(strings.Join(logs, "\n"), tt.log) {
				t.Fatalf("log does not say %q:\n%s", tt.log, strings.Join(logs, "\n"))
			}
		})
	}
}
