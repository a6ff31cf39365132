package gate

import (
	"crypto"
	"errors"
	"strconv"
	"time"

	"github.com/tokengate/tokengate/internal/jwk"
	"github.com/tokengate/tokengate/internal/refreshapi"

	"github.com/tidwall/gjson"
)

// refresh is where the plugin gets a provider's new key set when a token
// names a kid the set lacks (a key rotation the configuration has not
// caught up with). The request in hand is paused, not refused: the plugin
// asks the key fetcher with an HTTP call to an upstream the proxy knows (an
// Envoy cluster, or a named upstream of the Go host), the fetcher answers
// with the provider's key set after fetching it (internal/refreshapi), the
// gate installs that set (ReplaceKeys) and the request is decided again.
//
// What the plugin remembers here is per-VM state, like the token cache:
// which providers have a call in flight and which requests wait on it, when
// each provider was last asked for, and the kids a fresh set still lacked.
// It is what bounds the cost of tokens with made-up kids: at most one call
// per provider per min_interval_seconds, at most maxWaiters paused requests
// per call (each no longer than the call's timeout), and a kid that a fresh
// set lacked is refused at once for min_interval_seconds.
type refresh struct {
	cluster   string
	authority string
	path      string
	timeout   uint32 // milliseconds
	interval  float64
	providers map[refreshKey]*refreshState // this VM's state
}

// refreshKey names one key set: a provider's, or one tenant's of a
// multi-tenant provider (tenant.go), each refreshed on its own.
type refreshKey struct {
	provider, tenant string
}

// refreshState is one provider's refresh on one VM.
type refreshState struct {
	inFlight bool
	sent     time.Time            // when the last call was sent
	waiters  []waiter             // the paused requests, the one that sent the call first
	missing  map[string]time.Time // kid → until when it is refused without a call
}

type waiter struct {
	id  uint32
	kid string
}

const (
	// maxWaiters bounds the requests paused on one provider's call; the
	// next ones are refused at once (401), as without refresh.
	maxWaiters = 256
	// maxMissing bounds the kids remembered per provider as missing from
	// a fresh set.
	maxMissing = 64
	// maxRefreshKID is the longest kid worth asking about: real kids are
	// short, and a long one is only a way to make the call large.
	maxRefreshKID = 256
)

// RefreshCall is one request to send.
type RefreshCall struct {
	Upstream      string
	Headers       [][2]string
	TimeoutMillis uint32
}

// RefreshStep is what a request refused for an unknown kid does next.
type RefreshStep int

const (
	// RefreshNone: answer the refusal now (no refresh configured, the kid
	// was just looked for, the provider was asked for too recently, or too
	// many requests wait already).
	RefreshNone RefreshStep = iota
	// RefreshSend: send the call, pause the request, and call
	// FinishRefresh with the answer.
	RefreshSend
	// RefreshWait: pause the request; a call for its provider is in
	// flight, and FinishRefresh will return it.
	RefreshWait
)

func (c *compiler) refresh(path string, v gjson.Result) *refresh {
	if !v.Exists() || v.Type == gjson.False {
		return nil // false: turned off where a host would enable it by default
	}
	if !c.fields(path, v, "cluster", "authority", "path", "timeout_ms", "min_interval_seconds") {
		return nil
	}
	r := &refresh{
		cluster:   c.str(path+".cluster", v.Get("cluster"), ""),
		authority: c.str(path+".authority", v.Get("authority"), refreshapi.Upstream),
		path:      c.str(path+".path", v.Get("path"), refreshapi.Path),
		timeout:   uint32(c.number(path+".timeout_ms", v.Get("timeout_ms"), 2000, 60000)),
		interval:  c.number(path+".min_interval_seconds", v.Get("min_interval_seconds"), 10, 86400),
		providers: map[refreshKey]*refreshState{},
	}
	if r.cluster == "" {
		c.fail(path+".cluster", "is required: the upstream (Envoy cluster) of the jwksfetch daemon")
	}
	if r.timeout == 0 {
		c.fail(path+".timeout_ms", "must be at least 1: requests wait this long for the fetcher's answer")
	}
	if canon, ok := canonicalPath(r.path, false); r.path == "" || !ok || canon != r.path {
		c.fail(path+".path", "must be an absolute path in canonical form (no spaces, empty or dot segments, or encoded unreserved characters)")
	}
	if !printable(r.authority) {
		c.fail(path+".authority", "must be printable ASCII")
	}
	return r
}

// PlanRefresh says what the request id, refused with d at now, does next:
// RefreshSend when d refused a token for an unknown kid, refresh is
// configured, no call for d's provider is in flight and none was sent
// within min_interval_seconds (call is then the request to send);
// RefreshWait when a call for the provider is in flight (the request joins
// it); RefreshNone otherwise, and always for a decision that allowed.
func (g *Gate) PlanRefresh(d *Decision, id uint32, now time.Time) (RefreshStep, RefreshCall) {
	r := g.refresh
	if r == nil || d.Allow || !d.UnknownKID || d.Provider == "" || len(d.KID) > maxRefreshKID {
		return RefreshNone, RefreshCall{}
	}
	key := refreshKey{d.Provider, d.Tenant}
	st := r.providers[key]
	if st == nil {
		st = &refreshState{missing: map[string]time.Time{}}
		r.providers[key] = st
	}
	if until, ok := st.missing[d.KID]; ok {
		if now.Before(until) {
			return RefreshNone, RefreshCall{}
		}
		delete(st.missing, d.KID)
	}
	if st.inFlight {
		// The host answers every call by its timeout; a call twice as old
		// was lost (a host bug), and must not hold the provider forever.
		if now.Sub(st.sent) < 2*time.Duration(r.timeout)*time.Millisecond {
			if len(st.waiters) >= maxWaiters {
				return RefreshNone, RefreshCall{}
			}
			st.waiters = append(st.waiters, waiter{id, d.KID})
			return RefreshWait, RefreshCall{}
		}
		st.inFlight, st.waiters = false, nil
	}
	if !st.sent.IsZero() && now.Sub(st.sent).Seconds() < r.interval {
		return RefreshNone, RefreshCall{}
	}
	st.inFlight, st.sent = true, now
	st.waiters = append(st.waiters[:0], waiter{id, d.KID})
	return RefreshSend, RefreshCall{
		Upstream: r.cluster,
		Headers: [][2]string{
			{":method", refreshapi.Method},
			{":path", refreshapi.TenantTarget(r.path, d.Provider, d.Tenant, d.KID)},
			{":authority", r.authority},
			{"accept", refreshapi.ContentType},
			{"content-length", "0"},
		},
		TimeoutMillis: r.timeout,
	}
}

// FinishRefresh ends the call in flight for provider: jwks is the key set
// the fetcher answered with, or nil when the call failed (then the keys in
// force stay). It installs the set (ReplaceKeys), remembers the kids the set
// still lacks, and returns the requests paused on the call, to be decided
// again in the order they arrived; err says why the set was not installed.
func (g *Gate) FinishRefresh(provider string, jwks []byte, now time.Time) (ids []uint32, warnings []string, err error) {
	return g.FinishTenantRefresh(provider, "", jwks, now)
}

// FinishTenantRefresh is FinishRefresh for the call about one tenant of a
// multi-tenant provider (Decision.Tenant), whose key set jwks is; with
// tenant "" it is FinishRefresh.
func (g *Gate) FinishTenantRefresh(provider, tenant string, jwks []byte, now time.Time) (ids []uint32, warnings []string, err error) {
	r := g.refresh
	if r == nil {
		return nil, nil, nil
	}
	st := r.providers[refreshKey{provider, tenant}]
	if st == nil || !st.inFlight {
		return nil, nil, nil
	}
	waiters := st.waiters
	st.inFlight, st.waiters = false, nil
	if jwks != nil {
		warnings, err = g.ReplaceTenantKeys(provider, tenant, jwks)
	}
	ids = make([]uint32, len(waiters))
	for i, w := range waiters {
		ids[i] = w.id
		if jwks != nil && err == nil && !g.hasKid(provider, tenant, w.kid) {
			st.remember(w.kid, now.Add(time.Duration(r.interval*float64(time.Second))))
		}
	}
	return ids, warnings, err
}

// remember records a kid a fresh set lacked, forgetting expired entries
// first and, when the memory is still full, the one that expires first.
func (st *refreshState) remember(kid string, until time.Time) {
	if len(st.missing) >= maxMissing {
		var oldest string
		for k, u := range st.missing {
			if !u.After(until) && (oldest == "" || u.Before(st.missing[oldest])) {
				oldest = k
			}
		}
		delete(st.missing, oldest)
	}
	st.missing[kid] = until
}

func (g *Gate) hasKid(provider, tenant, kid string) bool {
	p := g.provider(provider)
	if p == nil {
		return false
	}
	keys, ok := p.tenantKeys(tenant)
	return ok && keys != nil && keys.HasKid(kid)
}

// ReplaceKeys installs jwks (an RFC 7517 JWK Set, read by the same strict
// reader as the configuration's "jwks") as provider's key set on this VM,
// and returns the warnings about keys it skips. It refuses, keeping the set
// in force, a set that does not parse or has no usable key, and a provider
// that is not a token provider. When a key of the old set is not in the new
// one, the token cache is emptied, so no token verified with a withdrawn
// key is accepted from it.
//
// A Gate is otherwise immutable after Compile; the key sets and the cache
// are per-VM state, changed only between the VM's callbacks. The next
// configuration the fetcher pushes replaces the whole Gate anyway.
func (g *Gate) ReplaceKeys(provider string, jwks []byte) ([]string, error) {
	return g.ReplaceTenantKeys(provider, "", jwks)
}

// ReplaceTenantKeys is ReplaceKeys for one tenant of a multi-tenant
// provider (tenant.go): jwks becomes the key set of that tenant only. With
// tenant "" it is ReplaceKeys; a multi-tenant provider refuses "", and any
// other provider refuses a tenant.
func (g *Gate) ReplaceTenantKeys(provider, tenant string, jwks []byte) ([]string, error) {
	p := g.provider(provider)
	if p == nil || p.passphrase != nil {
		return nil, errors.New("key refresh: no token provider named " + strconv.Quote(provider) + " in this configuration")
	}
	old, ok := p.tenantKeys(tenant)
	if !ok {
		if tenant == "" {
			return nil, errors.New("key refresh: provider " + strconv.Quote(provider) + " has one key set per tenant; a key set must name its tenant")
		}
		return nil, errors.New("key refresh: provider " + strconv.Quote(provider) + " has no tenant " + strconv.Quote(tenant) + " in this configuration")
	}
	what := "provider " + strconv.Quote(provider)
	if tenant != "" {
		what += " (tenant " + strconv.Quote(tenant) + ")"
	}
	set, warnings, err := jwk.Parse(jwks)
	if err != nil {
		return warnings, errors.New("key refresh: the key set of " + what + " from the fetcher is refused, keeping the keys in force: " + err.Error())
	}
	if len(set.Keys) == 0 {
		return warnings, errors.New("key refresh: the key set of " + what + " from the fetcher has no usable key; keeping the keys in force")
	}
	if !covers(set, old) {
		g.cache = newCache(g.cache.max)
	}
	p.setTenantKeys(tenant, set)
	return warnings, nil
}

// covers reports whether every key of old is in set: same kid, type, alg
// and public key.
func covers(set, old *jwk.Set) bool {
	if old == nil {
		return true
	}
	for _, o := range old.Keys {
		found := false
		for _, k := range set.Keys {
			if k.Kid == o.Kid && k.Kty == o.Kty && k.Alg == o.Alg && equalKeys(k.Public, o.Public) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func equalKeys(a, b crypto.PublicKey) bool {
	e, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && e.Equal(b)
}
