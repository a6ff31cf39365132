package gate

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/tidwall/gjson"

	"github.com/tokengate/tokengate/internal/jwk"
	"github.com/tokengate/tokengate/internal/keybundle"
	"github.com/tokengate/tokengate/internal/refreshapi"
)

// bundleSource is where a gate takes its providers' key sets from when the
// configuration has a "bundle" section (docs/configuration.md): signed key
// bundles (internal/keybundle) that the plugin polls from the jwksfetch
// service and also gets as the answer to an unknown-kid refresh. It is what
// lets a static configuration (an Istio WasmPlugin's pluginConfig) carry no
// keys at all.
//
// The providers it manages are the token providers without inline "jwks":
// their key sets come from bundles only, every bundle replaces all of them,
// and a provider a bundle lacks has no keys (503). Providers with inline
// keys keep them.
//
// What it remembers besides its settings is per-VM state, like the token
// cache: the version and issue time of the bundle in force, and the poll in
// flight. The version is what refuses replays; the issue time is what
// withdraws the keys when no good bundle has arrived for max_stale
// (ExpireBundle), so that a network attacker who blocks the fetcher can keep
// a proxy on its last keys for max_stale at most.
type bundleSource struct {
	cluster, authority, path string
	timeout                  uint32 // milliseconds
	poll                     time.Duration
	verifier                 *keybundle.Verifier
	managed                  []*provider

	version   uint64    // of the bundle in force; 0: none yet
	issuedAt  time.Time // of the bundle in force
	withdrawn bool      // the managed keys were withdrawn: the bundle in force is older than max_stale
	inFlight  bool      // a poll call is out
	sent      time.Time // when the last poll call was sent
}

const (
	defaultBundlePoll     = 30   // seconds
	defaultBundleMaxStale = 3600 // seconds
	defaultBundleTimeout  = 5000 // milliseconds
	maxPinnedKeys         = 8

	// retryWithoutKeys spaces the polls while the managed providers have no
	// keys from a bundle.
	retryWithoutKeys = 5 * time.Second
)

// bundle reads the "bundle" section, after the providers and "refresh". When
// the configuration has no "refresh", the unknown-kid refresh is turned on
// against the same upstream (the fetcher answers it with a bundle too);
// "refresh": false turns it off.
func (c *compiler) bundle(g *Gate, root gjson.Result) {
	v := root.Get("bundle")
	if !v.Exists() {
		return
	}
	const path = "bundle"
	if !c.fields(path, v, "cluster", "authority", "path", "public_keys", "poll_interval_seconds", "max_stale_seconds", "timeout_ms") {
		return
	}
	b := &bundleSource{
		cluster:   c.str(path+".cluster", v.Get("cluster"), ""),
		authority: c.str(path+".authority", v.Get("authority"), refreshapi.Upstream),
		path:      c.str(path+".path", v.Get("path"), keybundle.Path),
		timeout:   uint32(c.number(path+".timeout_ms", v.Get("timeout_ms"), defaultBundleTimeout, 60000)),
	}
	poll := c.number(path+".poll_interval_seconds", v.Get("poll_interval_seconds"), defaultBundlePoll, 3600)
	maxStale := c.number(path+".max_stale_seconds", v.Get("max_stale_seconds"), defaultBundleMaxStale, 7*86400)
	b.poll = time.Duration(poll * float64(time.Second))
	switch {
	case b.cluster == "" || !printable(b.cluster):
		c.fail(path+".cluster", "is required: the upstream (Envoy cluster) of the jwksfetch service, e.g. outbound|9902||jwksfetch.tokengate.svc.cluster.local under Istio")
	case !printable(b.authority) || b.authority == "":
		c.fail(path+".authority", "must be non-empty printable ASCII")
	case b.timeout == 0:
		c.fail(path+".timeout_ms", "must be at least 1: a poll waits this long for the fetcher's answer")
	case poll < 1:
		c.fail(path+".poll_interval_seconds", "must be at least 1")
	case maxStale <= poll:
		c.fail(path+".max_stale_seconds", "must be longer than poll_interval_seconds ("+strconv.FormatFloat(poll, 'f', -1, 64)+
			"), or every bundle would be stale before the next poll")
	}
	if canon, ok := canonicalPath(b.path, false); b.path == "" || !ok || canon != b.path || strings.Contains(b.path, "?") {
		c.fail(path+".path", "must be an absolute path in canonical form, without a query")
	}
	keys := v.Get("public_keys")
	if !keys.IsArray() || len(keys.Array()) == 0 || len(keys.Array()) > maxPinnedKeys {
		c.fail(path+".public_keys", "must be an array of 1 to "+strconv.Itoa(maxPinnedKeys)+
			" pinned Ed25519 public keys (the key `jwksfetch keygen` printed; two while the signing key is rotated)")
		return
	}
	var pinned []keybundle.PublicKey
	for i, k := range keys.Array() {
		kp := path + ".public_keys[" + strconv.Itoa(i) + "]"
		if k.Type != gjson.String {
			c.fail(kp, "must be a string")
			return
		}
		pk, err := keybundle.ParsePublicKey(k.Str)
		if err != nil {
			c.fail(kp, err.Error())
			return
		}
		for j, o := range pinned {
			if o.Equal(pk) {
				c.fail(kp, "is the same key as public_keys["+strconv.Itoa(j)+"]")
				return
			}
		}
		pinned = append(pinned, pk)
	}
	if c.err != nil {
		return
	}
	ver, err := keybundle.NewVerifier(time.Duration(maxStale*float64(time.Second)), pinned...)
	if err != nil {
		c.fail(path, err.Error())
		return
	}
	b.verifier = ver
	inlineTenants := map[string]bool{}
	root.Get("providers").ForEach(func(name, v gjson.Result) bool {
		inlineTenants[name.Str] = v.Get("tenant_jwks").Exists()
		return true
	})
	for _, p := range g.providers {
		switch {
		case p.passphrase != nil || p.introspect != nil || p.keys != nil:
		case p.tenants != nil:
			if !inlineTenants[p.name] {
				c.fail("providers."+p.name+".issuer", "is an issuer template, whose tenants' key sets key bundles do not carry; "+
					"give it \"tenant_jwks\", or configure it without \"bundle\"")
				return
			}
		default:
			b.managed = append(b.managed, p)
		}
	}
	if len(b.managed) == 0 {
		c.warnings = append(c.warnings, path+": every token provider has inline keys, so key bundles change nothing")
	}
	g.bundles = b
	if r := root.Get("refresh"); !r.Exists() {
		g.refresh = c.refresh("refresh", gjson.Parse(`{"cluster":`+strconv.Quote(b.cluster)+`,"authority":`+strconv.Quote(b.authority)+`}`))
	}
}

// UsesBundles reports whether the configuration takes key sets from signed
// bundles ("bundle"); then the fetcher's answer to a key refresh is a
// bundle as well.
func (g *Gate) UsesBundles() bool { return g.bundles != nil }

// PlanBundlePoll returns the poll to send at now, if one is due: the first
// at once, then every poll_interval_seconds; while the managed providers
// have no keys from a bundle (none arrived yet, or they were withdrawn),
// every retryWithoutKeys at most, so that keys come back soon after the
// fetcher does. Never two at a time: a call that the host did not answer
// within twice its timeout is taken as lost. The caller sends it and calls
// BundlePollEnded when it ends.
func (g *Gate) PlanBundlePoll(now time.Time) (RefreshCall, bool) {
	b := g.bundles
	if b == nil {
		return RefreshCall{}, false
	}
	if b.inFlight && now.Sub(b.sent) < 2*time.Duration(b.timeout)*time.Millisecond {
		return RefreshCall{}, false
	}
	interval := b.poll
	if b.version == 0 || b.withdrawn {
		interval = min(interval, retryWithoutKeys)
	}
	if !b.sent.IsZero() && now.Sub(b.sent) < interval {
		return RefreshCall{}, false
	}
	b.inFlight, b.sent = true, now
	headers := [][2]string{
		{":method", "GET"},
		{":path", b.path},
		{":authority", b.authority},
		{"accept", keybundle.MediaType},
	}
	if b.version != 0 {
		headers = append(headers, [2]string{"if-none-match", keybundle.ETag(b.version)})
	}
	return RefreshCall{Upstream: b.cluster, Headers: headers, TimeoutMillis: b.timeout}, true
}

// BundlePollEnded records that the poll in flight was answered, or failed.
func (g *Gate) BundlePollEnded() {
	if g.bundles != nil {
		g.bundles.inFlight = false
	}
}

// BundleOutcome is what InstallBundle did.
type BundleOutcome struct {
	Version  uint64
	IssuedAt time.Time
	KeyID    string   // the pinned key that signed it
	Missing  []string // managed providers the bundle has no key set for: their tokens get 503
	Warnings []string // keys skipped, key sets ignored

	installed map[string][]byte // provider → the key set installed, as signed
}

// KeySet returns the key set, as signed, that the bundle installed for
// provider; nil when it installed none (the provider is not one the bundle
// manages, or the bundle lacks it).
func (o BundleOutcome) KeySet(provider string) []byte { return o.installed[provider] }

// InstallBundle verifies a bundle at now (keybundle.Verifier.Verify, against
// the version in force) and, when it is newer and good, makes its key sets
// the managed providers' (all of them at once: a provider it lacks, or
// whose entry is for another issuer, has no keys afterwards). It returns
// the error of a bundle it refuses, with the reason keybundle.Reason names;
// keybundle.ErrUnchanged is the bundle in force again. A refused bundle
// changes nothing: the keys in force stay. When a key in force is not in
// the new sets, the token cache is emptied.
func (g *Gate) InstallBundle(data []byte, now time.Time) (BundleOutcome, error) {
	b := g.bundles
	if b == nil {
		return BundleOutcome{}, errors.New("key bundle: this configuration has no \"bundle\" section")
	}
	bun, err := b.verifier.Verify(data, b.version, now)
	if err != nil {
		return BundleOutcome{}, err
	}
	out := BundleOutcome{Version: bun.Version, IssuedAt: bun.IssuedAt, KeyID: bun.KeyID, installed: map[string][]byte{}}
	sets := make([]*jwk.Set, len(b.managed))
	for i, p := range b.managed {
		e := bun.Provider(p.name)
		switch {
		case e == nil:
			out.Missing = append(out.Missing, p.name)
		case e.Issuer != p.issuer:
			out.Missing = append(out.Missing, p.name)
			out.Warnings = append(out.Warnings, "provider "+strconv.Quote(p.name)+": the bundle's key set is for issuer "+
				strconv.Quote(e.Issuer)+", not "+strconv.Quote(p.issuer)+"; ignored (do the fetcher and the plugin read the same configuration?)")
		default:
			sets[i] = e.Keys
			out.installed[p.name] = e.JWKS
			for _, w := range e.Warnings {
				out.Warnings = append(out.Warnings, "provider "+strconv.Quote(p.name)+": "+w)
			}
		}
	}
	for i, p := range b.managed {
		g.setKeys(p, sets[i])
	}
	b.version, b.issuedAt, b.withdrawn = bun.Version, bun.IssuedAt, false
	return out, nil
}

// setKeys makes set p's key set (nil: none), emptying the token cache when a
// key in force goes.
func (g *Gate) setKeys(p *provider, set *jwk.Set) {
	if p.keys != nil && (set == nil || !covers(set, p.keys)) {
		g.cache = newCache(g.cache.max)
	}
	p.keys = set
}

// ExpireBundle withdraws the managed providers' keys when the bundle in
// force was issued longer than max_stale before now, once, and returns
// their names and the bundle's age; their tokens get 503 until a good
// bundle arrives. It returns nothing when there is nothing to withdraw.
func (g *Gate) ExpireBundle(now time.Time) (withdrawn []string, age time.Duration) {
	b := g.bundles
	if b == nil || b.version == 0 || b.withdrawn {
		return nil, 0
	}
	age = now.Sub(b.issuedAt)
	if age <= b.verifier.MaxStale() {
		return nil, 0
	}
	b.withdrawn = true
	for _, p := range b.managed {
		if p.keys != nil {
			withdrawn = append(withdrawn, p.name)
		}
		g.setKeys(p, nil)
	}
	if withdrawn == nil {
		withdrawn = []string{}
	}
	return withdrawn, age
}

// BundleVersion is the version of the bundle in force (0: none yet).
func (g *Gate) BundleVersion() uint64 {
	if g.bundles == nil {
		return 0
	}
	return g.bundles.version
}

// BundleMaxStale is max_stale_seconds (0 without bundles).
func (g *Gate) BundleMaxStale() time.Duration {
	if g.bundles == nil {
		return 0
	}
	return g.bundles.verifier.MaxStale()
}
