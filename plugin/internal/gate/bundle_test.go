package gate

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tokengate/tokengate/internal/issuer"
	"github.com/tokengate/tokengate/internal/keybundle"
)

// The bundle-signing keys of these tests, from fixed seeds.
var (
	bundleKey      = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{9}, 32))
	bundleKeyB     = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{10}, 32))
	bundlePinned   = keybundle.NewPublicKey(bundleKey.Public().(ed25519.PublicKey)).String()
	bundlePinnedB  = keybundle.NewPublicKey(bundleKeyB.Public().(ed25519.PublicKey)).String()
	unpinnedSigner = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{11}, 32))
)

// bundleConfig is a configuration whose provider "corp" has no keys: they
// come from bundles. "inline" keeps its own; "pass" is a passphrase.
func bundleConfig(t testing.TB, extra string) string {
	return `{"bundle":{"cluster":"outbound|9902||jwksfetch.tokengate.svc.cluster.local","authority":"jwksfetch.tokengate.svc.cluster.local",
		"public_keys":["` + bundlePinned + `","` + bundlePinnedB + `"],"poll_interval_seconds":10,"max_stale_seconds":60` + extra + `},
	  "providers":{"corp":{"issuer":"` + corpURL + `"},
	    "inline":{"issuer":"` + otherURL + `","jwks":` + string(fx(t).other.JWKS()) + `},
	    "pass":{"type":"passphrase","passphrase":"0123456789abcdef"}}}`
}

// signBundle signs a bundle holding corp's key set keys, version v, issued at.
func signBundle(t *testing.T, key ed25519.PrivateKey, v uint64, at time.Time, provs ...keybundle.Provider) []byte {
	t.Helper()
	data, err := keybundle.Sign(keybundle.Bundle{Version: v, IssuedAt: at, Providers: provs}, key)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func corpSet(r *rotation, keys ...*issuer.Key) keybundle.Provider {
	return keybundle.Provider{Name: "corp", Issuer: corpURL, JWKS: r.set(keys...)}
}

func TestBundleConfiguration(t *testing.T) {
	t.Parallel()
	prov := `,"providers":{"corp":{"issuer":"` + corpURL + `"}}}`
	withBundle := func(fields string) string {
		return `{"bundle":{"cluster":"jwksfetch","public_keys":["` + bundlePinned + `"]` + fields + `}` + prov
	}
	tests := []struct {
		name, config, err string // err: a part of the error; "" when accepted
	}{
		{name: "the smallest section", config: withBundle("")},
		{name: "every field", config: withBundle(`,"authority":"jwksfetch.ns.svc.cluster.local","path":"/bundle","poll_interval_seconds":5,"max_stale_seconds":600,"timeout_ms":1000`)},
		{name: "an unknown field", config: withBundle(`,"max_stale":600`), err: "bundle.max_stale: unknown field"},
		{name: "no cluster", config: `{"bundle":{"public_keys":["` + bundlePinned + `"]}` + prov, err: "bundle.cluster: is required"},
		{name: "no pinned key", config: `{"bundle":{"cluster":"j"}` + prov, err: "bundle.public_keys: must be an array of 1 to 8"},
		{name: "an empty list of keys", config: `{"bundle":{"cluster":"j","public_keys":[]}` + prov, err: "bundle.public_keys: must be an array of 1 to 8"},
		{name: "nine pinned keys", config: `{"bundle":{"cluster":"j","public_keys":[` + strings.TrimSuffix(strings.Repeat(`"`+bundlePinned+`",`, 9), ",") + `]}` + prov,
			err: "bundle.public_keys: must be an array of 1 to 8"},
		{name: "a key that is not a string", config: `{"bundle":{"cluster":"j","public_keys":[1]}` + prov, err: "bundle.public_keys[0]: must be a string"},
		{name: "a key in standard base64", config: `{"bundle":{"cluster":"j","public_keys":["` + strings.Repeat("+", 43) + `"]}` + prov,
			err: "bundle.public_keys[0]: a pinned bundle key must be the 32-byte Ed25519 public key"},
		{name: "the same key twice", config: `{"bundle":{"cluster":"j","public_keys":["` + bundlePinned + `","` + bundlePinned + `"]}` + prov,
			err: "bundle.public_keys[1]: is the same key as public_keys[0]"},
		{name: "max_stale no longer than the poll interval", config: withBundle(`,"poll_interval_seconds":60,"max_stale_seconds":60`),
			err: "bundle.max_stale_seconds: must be longer than poll_interval_seconds (60)"},
		{name: "a poll interval under a second", config: withBundle(`,"poll_interval_seconds":0.5`), err: "bundle.poll_interval_seconds: must be at least 1"},
		{name: "max_stale over a week", config: withBundle(`,"max_stale_seconds":604801`), err: "bundle.max_stale_seconds: must be a number from 0 to 604800"},
		{name: "a zero timeout", config: withBundle(`,"timeout_ms":0`), err: "bundle.timeout_ms: must be at least 1"},
		{name: "a path with a query", config: withBundle(`,"path":"/bundle?x=1"`), err: "bundle.path: must be an absolute path in canonical form"},
		{name: "a relative path", config: withBundle(`,"path":"bundle"`), err: "bundle.path: must be an absolute path"},
		{name: "an authority with a control character", config: withBundle(`,"authority":"a\u0001"`), err: "bundle.authority: must be non-empty printable ASCII"},
		{name: "not an object", config: `{"bundle":true` + prov, err: "bundle: must be an object"},
		{name: "a multi-tenant provider without inline keys",
			config: `{"bundle":{"cluster":"j","public_keys":["` + bundlePinned + `"]},"providers":{"corp":{"issuer":"https://idp.example.com/realms/{tenantid}","tenants":["ml"]}}}`,
			err:    `providers.corp.issuer: is an issuer template, whose tenants' key sets key bundles do not carry`},
		{name: "a multi-tenant provider with inline keys keeps them",
			config: `{"bundle":{"cluster":"j","public_keys":["` + bundlePinned + `"]},"providers":{"corp":{"issuer":"https://idp.example.com/realms/{tenantid}","tenants":["ml"],
				"tenant_jwks":{"ml":{"keys":[]}}},"other":{"issuer":"https://other"}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := compileErr(tt.config)
			if tt.err == "" && got != "" || tt.err != "" && !strings.Contains(got, tt.err) {
				t.Fatalf("Compile error %q, want %q", got, tt.err)
			}
		})
	}
}

// TestBundleTurnsOnTheKeyRefresh: without "refresh", an unknown kid asks
// the bundle's upstream; "refresh" says otherwise, and false turns it off.
func TestBundleTurnsOnTheKeyRefresh(t *testing.T) {
	t.Parallel()
	r := newRotation(t)
	at := time.Now()
	tests := []struct {
		name, refresh, upstream string // upstream: "" for no call
	}{
		{name: "no refresh: the bundle's upstream", upstream: "outbound|9902||jwksfetch.tokengate.svc.cluster.local"},
		{name: "a refresh of its own", refresh: `"refresh":{"cluster":"other"},`, upstream: "other"},
		{name: "refresh false: none", refresh: `"refresh":false,`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := compile(t, "{"+tt.refresh+bundleConfig(t, "")[1:])
			if _, err := g.InstallBundle(signBundle(t, bundleKey, 1, at, corpSet(r, r.old)), at); err != nil {
				t.Fatal(err)
			}
			d := g.Decide(r.token(t, "new"), at)
			step, call := g.PlanRefresh(&d, 1, at)
			if tt.upstream == "" {
				if step != RefreshNone {
					t.Fatalf("step %v, want none", step)
				}
				return
			}
			if step != RefreshSend || call.Upstream != tt.upstream {
				t.Fatalf("step %v, call %+v; want a call to %s", step, call, tt.upstream)
			}
		})
	}
	t.Run("every token provider with inline keys: a warning", func(t *testing.T) {
		_, warnings, err := Compile([]byte(`{"bundle":{"cluster":"j","public_keys":["` + bundlePinned + `"]},
			"providers":{"corp":{"issuer":"` + corpURL + `","jwks":` + string(r.set(r.old)) + `}}}`))
		if err != nil || len(warnings) != 1 || !strings.Contains(warnings[0], "key bundles change nothing") {
			t.Fatalf("warnings %q, err %v", warnings, err)
		}
	})
}

func TestPlanBundlePoll(t *testing.T) {
	t.Parallel()
	r := newRotation(t)
	g := compile(t, bundleConfig(t, `,"timeout_ms":2000`))
	at := time.Now()
	type step struct {
		after    time.Duration // since at
		do       string        // "plan", "end", "install"
		want     bool          // plan: a call is due
		etagWant string        // plan: the if-none-match header ("" none)
	}
	steps := []step{
		{after: 0, do: "plan", want: true},                // the first at once
		{after: time.Second, do: "plan", want: false},     // in flight
		{after: 3 * time.Second, do: "plan", want: false}, // in flight, under twice the timeout
		{after: 3 * time.Second, do: "end"},
		{after: 4 * time.Second, do: "plan", want: false}, // no keys yet: every 5 s, not every 10
		{after: 5 * time.Second, do: "plan", want: true},
		{after: 9*time.Second + time.Millisecond, do: "plan", want: false}, // taken as lost, but within 5 s
		{after: 10 * time.Second, do: "plan", want: true},                  // lost, and 5 s passed
		{after: 11 * time.Second, do: "end"},
		{after: 11 * time.Second, do: "install"},
		{after: 16 * time.Second, do: "plan", want: false}, // keys: every poll_interval_seconds (10)
		{after: 20 * time.Second, do: "plan", want: true, etagWant: keybundle.ETag(7)},
		{after: 21 * time.Second, do: "end"},
		{after: 72 * time.Second, do: "expire"}, // the bundle, signed at 11 s, is older than max_stale (60 s)
		{after: 72 * time.Second, do: "plan", want: true, etagWant: keybundle.ETag(7)},
		{after: 73 * time.Second, do: "end"},
		{after: 76 * time.Second, do: "plan", want: false},
		{after: 77 * time.Second, do: "plan", want: true, etagWant: keybundle.ETag(7)}, // withdrawn: every 5 s again
	}
	for i, s := range steps {
		now := at.Add(s.after)
		switch s.do {
		case "end":
			g.BundlePollEnded()
		case "expire":
			if w, _ := g.ExpireBundle(now); len(w) != 1 {
				t.Fatalf("step %d: withdrew %v", i, w)
			}
		case "install":
			if _, err := g.InstallBundle(signBundle(t, bundleKey, 7, now, corpSet(r, r.old)), now); err != nil {
				t.Fatal(err)
			}
		case "plan":
			call, ok := g.PlanBundlePoll(now)
			if ok != s.want {
				t.Fatalf("step %d (%v): poll due %v, want %v", i, s.after, ok, s.want)
			}
			if !ok {
				continue
			}
			want := map[string]string{":method": "GET", ":path": "/bundle", ":authority": "jwksfetch.tokengate.svc.cluster.local",
				"accept": keybundle.MediaType, "if-none-match": s.etagWant}
			got := map[string]string{}
			for _, h := range call.Headers {
				got[h[0]] = h[1]
			}
			for k, w := range want {
				if got[k] != w {
					t.Errorf("step %d: header %s = %q, want %q", i, k, got[k], w)
				}
			}
			if call.Upstream != "outbound|9902||jwksfetch.tokengate.svc.cluster.local" || call.TimeoutMillis != 2000 {
				t.Errorf("step %d: call %+v", i, call)
			}
		}
	}
	if _, ok := compile(t, standardConfig(t)).PlanBundlePoll(at); ok {
		t.Fatal("a configuration without bundles polls")
	}
}

func TestInstallBundle(t *testing.T) {
	t.Parallel()
	r := newRotation(t)
	at := time.Now().Truncate(time.Second)
	otherTok := get("/", bearer(mint(t, fx(t).other, nil))...)
	tests := []struct {
		name      string
		held      []byte    // installed first, at at
		bundle    []byte    // then this one, at now
		now       time.Time // default at
		reason    string    // keybundle.Reason of the refusal; "" when installed
		oldStatus int       // the old key's token afterwards (200 allowed)
		newStatus int
		missing   string // a provider the outcome reports missing
		warning   string
	}{
		{name: "a first bundle installs corp's keys", bundle: signBundle(t, bundleKey, 5, at, corpSet(r, r.old)), oldStatus: 200, newStatus: 401},
		{name: "a newer bundle replaces them", held: signBundle(t, bundleKey, 5, at, corpSet(r, r.old)),
			bundle: signBundle(t, bundleKey, 6, at, corpSet(r, r.old, r.new)), oldStatus: 200, newStatus: 200},
		{name: "a bundle signed by the second pinned key", held: signBundle(t, bundleKey, 5, at, corpSet(r, r.old)),
			bundle: signBundle(t, bundleKeyB, 6, at, corpSet(r, r.new)), oldStatus: 401, newStatus: 200},
		{name: "the bundle in force again changes nothing", held: signBundle(t, bundleKey, 5, at, corpSet(r, r.old)),
			bundle: signBundle(t, bundleKey, 5, at, corpSet(r, r.old)), reason: "unchanged", oldStatus: 200, newStatus: 401},
		{name: "an older bundle is a replay: the keys in force stay", held: signBundle(t, bundleKey, 6, at, corpSet(r, r.new)),
			bundle: signBundle(t, bundleKey, 5, at, corpSet(r, r.old)), reason: "replay", oldStatus: 401, newStatus: 200},
		{name: "a stale bundle is refused", held: signBundle(t, bundleKey, 5, at, corpSet(r, r.old)),
			bundle: signBundle(t, bundleKey, 6, at, corpSet(r, r.new)), now: at.Add(61 * time.Second), reason: "stale", oldStatus: 200, newStatus: 401},
		{name: "a bundle from the future is refused", held: signBundle(t, bundleKey, 5, at, corpSet(r, r.old)),
			bundle: signBundle(t, bundleKey, 6, at.Add(2*time.Minute), corpSet(r, r.new)), reason: "future", oldStatus: 200, newStatus: 401},
		{name: "a bundle signed by a key that is not pinned is refused", held: signBundle(t, bundleKey, 5, at, corpSet(r, r.old)),
			bundle: signBundle(t, unpinnedSigner, 6, at, corpSet(r, r.new)), reason: "bad_signature", oldStatus: 200, newStatus: 401},
		{name: "a bundle changed after signing is refused", held: signBundle(t, bundleKey, 5, at, corpSet(r, r.old)),
			bundle: swapSignature(t, signBundle(t, bundleKey, 6, at, corpSet(r, r.new)), signBundle(t, bundleKey, 6, at, corpSet(r, r.old))),
			reason: "bad_signature", oldStatus: 200, newStatus: 401},
		{name: "no bundle yet: 503", bundle: []byte(`{}`), reason: "malformed", oldStatus: 503, newStatus: 503},
		{name: "a bundle without corp withdraws its keys: 503", held: signBundle(t, bundleKey, 5, at, corpSet(r, r.old)),
			bundle: signBundle(t, bundleKey, 6, at), oldStatus: 503, newStatus: 503, missing: "corp"},
		{name: "a key set for another issuer is not installed", held: signBundle(t, bundleKey, 5, at, corpSet(r, r.old)),
			bundle:    signBundle(t, bundleKey, 6, at, keybundle.Provider{Name: "corp", Issuer: otherURL, JWKS: r.set(r.new)}),
			oldStatus: 503, newStatus: 503, missing: "corp", warning: `is for issuer "https://other.example.com", not "https://idp.example.com/realms/ml"`},
		{name: "a provider with inline keys keeps them, whatever the bundle says", held: signBundle(t, bundleKey, 5, at, corpSet(r, r.old)),
			bundle:    signBundle(t, bundleKey, 6, at, corpSet(r, r.old), keybundle.Provider{Name: "inline", Issuer: otherURL, JWKS: r.set(r.new)}),
			oldStatus: 200, newStatus: 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			g := compile(t, bundleConfig(t, ""))
			if tt.held != nil {
				if _, err := g.InstallBundle(tt.held, at); err != nil {
					t.Fatal(err)
				}
			}
			now := tt.now
			if now.IsZero() {
				now = at
			}
			out, err := g.InstallBundle(tt.bundle, now)
			if got := keybundle.Reason(err); got != tt.reason || (err == nil) != (tt.reason == "") {
				t.Fatalf("InstallBundle: %v (reason %q), want reason %q", err, got, tt.reason)
			}
			if tt.missing != "" && (len(out.Missing) != 1 || out.Missing[0] != tt.missing) {
				t.Errorf("missing %v, want %s", out.Missing, tt.missing)
			}
			if tt.warning != "" && !strings.Contains(strings.Join(out.Warnings, "\n"), tt.warning) {
				t.Errorf("warnings %q lack %q", out.Warnings, tt.warning)
			}
			for kid, want := range map[string]int{"old": tt.oldStatus, "new": tt.newStatus} {
				if d := g.Decide(r.token(t, kid), now); status(d) != want {
					t.Errorf("a token signed with the %s key: %d (%s), want %d", kid, status(d), d.Reason, want)
				}
			}
			if d := g.Decide(otherTok, now); !d.Allow {
				t.Errorf("the provider with inline keys: %d %s", status(d), d.Reason)
			}
		})
	}
}

func status(d Decision) int {
	if d.Allow {
		return 200
	}
	return d.Status
}

// TestExpireBundle: the keys stay for max_stale after the bundle in force
// was issued, however long the fetcher is away; then the managed providers
// get 503, once, and the next good bundle brings them back. A token cached
// before the withdrawal is not let through from the cache either.
func TestExpireBundle(t *testing.T) {
	t.Parallel()
	r := newRotation(t)
	g := compile(t, bundleConfig(t, ""))
	at := time.Now().Truncate(time.Second)
	if w, _ := g.ExpireBundle(at.Add(time.Hour)); w != nil {
		t.Fatalf("withdrew %v before any bundle", w)
	}
	if _, err := g.InstallBundle(signBundle(t, bundleKey, 5, at, corpSet(r, r.old)), at.Add(10*time.Second)); err != nil {
		t.Fatal(err)
	}
	tok := r.token(t, "old")
	if d := g.Decide(tok, at.Add(30*time.Second)); !d.Allow {
		t.Fatalf("before max_stale: %d %s", d.Status, d.Reason)
	}
	if d := g.Decide(tok, at.Add(31*time.Second)); !d.Cached {
		t.Fatal("the token was not cached")
	}
	if w, _ := g.ExpireBundle(at.Add(60 * time.Second)); w != nil {
		t.Fatalf("withdrew %v at exactly max_stale", w)
	}
	w, age := g.ExpireBundle(at.Add(61 * time.Second))
	if len(w) != 1 || w[0] != "corp" || age != 61*time.Second {
		t.Fatalf("ExpireBundle = %v, %v; want corp, 61s", w, age)
	}
	d := g.Decide(tok, at.Add(62*time.Second))
	if d.Status != 503 || d.Code != "keys_unavailable" || d.Cached {
		t.Fatalf("after max_stale: %+v", d)
	}
	if w, _ := g.ExpireBundle(at.Add(90 * time.Second)); w != nil {
		t.Fatalf("withdrew %v twice", w)
	}
	// The stale bundle again is nothing new; a fresh one restores the keys.
	if _, err := g.InstallBundle(signBundle(t, bundleKey, 5, at, corpSet(r, r.old)), at.Add(95*time.Second)); !errors.Is(err, keybundle.ErrUnchanged) {
		t.Fatalf("the bundle held again: %v", err)
	}
	fresh := at.Add(100 * time.Second)
	if _, err := g.InstallBundle(signBundle(t, bundleKey, 6, fresh, corpSet(r, r.old)), fresh); err != nil {
		t.Fatal(err)
	}
	if d := g.Decide(tok, fresh); !d.Allow {
		t.Fatalf("after a fresh bundle: %d %s", d.Status, d.Reason)
	}
	if g.BundleVersion() != 6 || g.BundleMaxStale() != time.Minute {
		t.Fatalf("version %d, max_stale %v", g.BundleVersion(), g.BundleMaxStale())
	}
}

// TestInstallBundleEmptiesTheCacheWhenAKeyGoes: a token verified with a key
// the new bundle no longer holds is not accepted from the cache.
func TestInstallBundleEmptiesTheCacheWhenAKeyGoes(t *testing.T) {
	t.Parallel()
	r := newRotation(t)
	g := compile(t, bundleConfig(t, ""))
	at := time.Now()
	if _, err := g.InstallBundle(signBundle(t, bundleKey, 1, at, corpSet(r, r.old)), at); err != nil {
		t.Fatal(err)
	}
	tok := r.token(t, "old")
	g.Decide(tok, at)
	if !g.Decide(tok, at).Cached {
		t.Fatal("not cached")
	}
	if _, err := g.InstallBundle(signBundle(t, bundleKey, 2, at, corpSet(r, r.old, r.new)), at); err != nil {
		t.Fatal(err)
	}
	if !g.Decide(tok, at).Cached {
		t.Fatal("a bundle that only adds a key emptied the cache")
	}
	if _, err := g.InstallBundle(signBundle(t, bundleKey, 3, at, corpSet(r, r.new)), at); err != nil {
		t.Fatal(err)
	}
	if d := g.Decide(tok, at); d.Allow || d.Cached {
		t.Fatalf("a token of the withdrawn key: %+v", d)
	}
}

func TestInstallBundleWithoutABundleSection(t *testing.T) {
	t.Parallel()
	g := compile(t, standardConfig(t))
	if g.UsesBundles() || g.BundleVersion() != 0 || g.BundleMaxStale() != 0 {
		t.Fatal("a configuration without bundles uses them")
	}
	if _, err := g.InstallBundle([]byte(`{}`), time.Now()); err == nil || !strings.Contains(err.Error(), `no "bundle" section`) {
		t.Fatalf("err %v", err)
	}
	if w, _ := g.ExpireBundle(time.Now()); w != nil {
		t.Fatal(w)
	}
	g.BundlePollEnded() // nothing to do, and no panic
}

// swapSignature returns data with the signature of from: what an attacker
// who changes a bundle's payload on the way can send at best.
func swapSignature(t *testing.T, data, from []byte) []byte {
	t.Helper()
	var a, b map[string]string
	if err := json.Unmarshal(data, &a); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(from, &b); err != nil {
		t.Fatal(err)
	}
	a["signature"] = b["signature"]
	out, _ := json.Marshal(a)
	return out
}
