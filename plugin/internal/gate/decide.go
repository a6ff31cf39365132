package gate

import (
	"math/bits"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tidwall/gjson"
)

// Request is what the gate sees of an HTTP request.
type Request struct {
	// Headers are all request headers as the proxy gives them: lower-case
	// names, pseudo-headers included (":method", ":path" with its query,
	// ":authority", ":scheme"); a name may repeat.
	Headers [][2]string
}

// Decision is the gate's answer for one request.
type Decision struct {
	Allow bool

	// When !Allow: the local response (docs/configuration.md, "Responses").
	Status  int
	Headers [][2]string
	Body    []byte

	// When Allow: changes to the upstream request, applied in this order.
	RemoveHeaders []string
	SetHeaders    [][2]string
	Path          string // if not empty, the new ":path" (token removed from the query)

	// When Allow with a verified credential and "envoy_filter_state" set: the
	// properties to write for Envoy's filters, name and value (filterstate.go).
	FilterState [][2]string

	// For logs and metrics; never contains the token.
	Provider   string // the provider that accepted the credential (for a scope or unknown-kid refusal: the one concerned), or ""
	Reason     string // why the request was refused, "" when allowed
	Detail     string // for logs only: what in the token the refusal is about (issuer, audience, kid, alg); never the token
	Code       string // a stable metric-friendly name of Reason, e.g. "token_expired"
	UnknownKID bool   // the token's kid is not in Provider's key set: a refresh may help
	KID        string // that kid, when UnknownKID
	Tenant     string // when UnknownKID and Provider is multi-tenant: the tenant whose key set lacks KID
	Cached     bool   // the token was found in the verified-token cache

	// Introspect, when not nil, is a credential whose provider's
	// introspection answer is not known yet (introspect.go): the Decision is
	// the 503 it gets without one, and PlanIntrospection says how to ask.
	Introspect *Introspection

	// Login, when not nil, is a call to a provider's token endpoint that the
	// request waits for: a sign-in's code exchange or a session's refresh
	// (logincall.go). The Decision is the answer when it cannot wait;
	// PlanLogin says how to ask.
	Login *LoginCall

	// DryRun marks a request that a dry_run rule would have refused (Status,
	// Reason and Code say how) but lets through.
	DryRun bool
}

// The slices of a Decision (Headers, RemoveHeaders, SetHeaders) may be shared
// with the Gate and with other Decisions, which is what lets a cached token be
// decided without allocating: read them, never write to their elements.
// Appending is safe (they are capped, so an append copies).

// Replaces reports whether the decision sets the header name (SetHeaders),
// which replaces every value it had: removing it first, as RemoveHeaders
// also asks, is a host call that changes nothing.
func (d *Decision) Replaces(name string) bool {
	for _, h := range d.SetHeaders {
		if h[0] == name {
			return true
		}
	}
	return false
}

// request is a Request with its routing fields pulled out.
type request struct {
	headers     [][2]string
	method      string
	methodUpper string // method in upper case, for rules: servers differ on case
	rawPath     string // ":path" without the query, as received
	path        string // rawPath in canonical form (path.go)
	query       string
	authority   string       // ":authority" (or "host"), as received
	caps        captures     // what the matching rule's path template captured
	session     *sessionCred // a session cookie's credential, for check (loginflow.go)
}

// Decide answers one request at time now. It never panics on any input and
// never allows a request whose credential it could not verify.
func (g *Gate) Decide(in *Request, now time.Time) Decision {
	return g.decide(in, now, nil)
}

// decide is Decide, recording each step in tr when tr is not nil (Explain).
func (g *Gate) decide(in *Request, now time.Time, tr *Trace) Decision {
	req := request{headers: in.Headers}
	host := ""
	var seen [4]uint8 // :method, :path, :authority, host
	for _, h := range in.Headers {
		switch h[0] {
		case ":method":
			req.method = h[1]
			seen[0]++
		case ":path":
			req.rawPath, req.query, _ = strings.Cut(h[1], "?")
			seen[1]++
		case ":authority":
			req.authority = h[1]
			seen[2]++
		case "host":
			host = h[1]
			seen[3]++
		}
	}
	// A request that names its method, path or host twice, or its host two
	// ways, means different requests to different readers.
	if seen[0] > 1 || seen[1] > 1 || seen[2] > 1 || seen[3] > 1 ||
		req.authority != "" && host != "" && !strings.EqualFold(req.authority, host) {
		return g.deny(ErrRequestAmbiguous, "")
	}
	if req.authority == "" {
		req.authority = host
	}
	path, ok := canonicalPath(req.rawPath, g.rewritePaths)
	if !ok {
		tr.check("path "+strconv.Quote(req.rawPath)+" is in canonical form", false)
		return g.deny(ErrPathAmbiguous, "")
	}
	req.path = path
	if tr != nil {
		tr.Path = path
	}
	req.methodUpper = upperASCII(req.method)
	if g.methodRules && req.hasAny(methodOverrideHeaders) {
		tr.check("no method override header", false)
		return g.deny(ErrMethodOverride, "")
	}
	if g.login != nil && g.login.ownPath(req.path) {
		return g.loginPath(&req, now, tr) // the callback and logout paths (loginflow.go)
	}
	r := g.match(&req)
	if r == nil {
		tr.check("a rule matches", false)
		return g.deny(ErrNoRule, "")
	}
	if tr != nil {
		tr.matched(g, r, &req)
	}
	var d Decision
	if g.login == nil || !g.checkLogin(r, &req, now, tr, &d) { // session cookies, and sign-in for browsers (loginflow.go)
		d = g.check(r, &req, now, tr)
	}
	if !d.Allow && r.dryRun {
		// A dry-run rule reports what it would refuse and lets the request
		// through unchanged, except that forged output headers still go.
		d = Decision{Allow: true, DryRun: true, Status: d.Status, Reason: d.Reason, Detail: d.Detail, Code: d.Code,
			Provider: d.Provider, UnknownKID: d.UnknownKID, Cached: d.Cached, RemoveHeaders: g.removals(&req), Introspect: d.Introspect}
	}
	if d.Allow && g.login != nil {
		g.dropLoginCookies(&d, &req) // tokengate's own cookies never go upstream
	}
	if d.Allow && g.rewritePaths && d.Path == "" && req.path != req.rawPath {
		// The upstream gets the path that was judged.
		d.Path = req.path
		if req.query != "" {
			d.Path += "?" + req.query
		}
	}
	return d
}

// removals lists the request headers to remove before the request goes
// upstream: every output header, and every incoming header a back-end could
// read as one ("X_User" is HTTP_X_USER, like "x-user"), so that only the
// values the gate sets arrive.
func (g *Gate) removals(req *request) []string {
	// g.outputs itself, capped so that an append copies: a request with no
	// forged header (the usual one) allocates nothing here.
	out := slices.Clip(g.outputs)
	for _, h := range req.headers {
		for _, o := range g.outputs {
			if h[0] != o && sameHeaderName(h[0], o) && !slices.Contains(out, h[0]) {
				out = append(out, h[0])
			}
		}
	}
	return out
}

// headerRemovals returns the removals of an accepted request whose
// credential came from one header source, under the source's own name, when
// no forged output header came with it (removals gave g.outputs): the
// outputs and that header. That is the usual request, so the list is made
// once per rule and source and then shared, read-only, by every Decision.
func (r *rule) headerRemovals(g *Gate, req *request, held uint64, removals []string) ([]string, bool) {
	if held == 0 || held&(held-1) != 0 || len(removals) != len(g.outputs) {
		return nil, false
	}
	i := bits.TrailingZeros64(held)
	s := r.sources[i]
	if s.kind != fromHeader {
		return nil, false
	}
	for _, h := range req.headers {
		if h[0] != s.name && sameHeaderName(h[0], s.name) {
			return nil, false // strip removes it under the name it came with
		}
	}
	if r.removals == nil {
		r.removals = make([][]string, len(r.sources))
	}
	if r.removals[i] == nil {
		out := slices.Clone(g.outputs)
		if !slices.Contains(out, s.name) {
			out = append(out, s.name)
		}
		r.removals[i] = slices.Clip(out)
	}
	return r.removals[i], true
}

// check applies rule r to a request.
func (g *Gate) check(r *rule, req *request, now time.Time, tr *Trace) Decision {
	allow := Decision{Allow: true, RemoveHeaders: g.removals(req)}
	if !r.requires {
		tr.check("the rule requires no credential", true)
		return allow
	}
	if r.preflight && req.method == "OPTIONS" && req.has("origin") && req.has("access-control-request-method") {
		tr.check("CORS preflight passes (bypass_cors_preflight)", true)
		return allow
	}
	token, src, held, err := extract(req, r.sources)
	if err != nil {
		tr.check("one credential in the request", false)
		return g.deny(err, "")
	}
	if token == "" && req.session != nil {
		token, src = req.session.s.AccessToken, req.session.l.src // judged like a bearer token
	}
	if token == "" {
		if r.allowMissing {
			tr.check("no credential, and the rule allows that (allow_missing)", true)
			return allow
		}
		tr.check("a credential is present", false)
		return g.deny(ErrTokenMissing, "")
	}
	if tr != nil {
		tr.check("credential found in "+src.String(), true)
	}
	v := g.verify(token, src, r.providers, float64(now.UnixNano())/1e9)
	if tr != nil {
		tr.verified(&v)
	}
	if v.err != nil {
		d := g.deny(v.err, "")
		d.Detail = v.detail
		if v.unknownKID {
			d.UnknownKID, d.KID, d.Provider = true, v.kid, v.provider.name
			d.Tenant = v.provider.tenantID(v.tenant)
		}
		d.Introspect = v.introspect
		return d
	}
	p := v.provider
	if r.need != nil && p.passphrase == nil {
		if f := r.need.eval(v.values, p, &req.caps, tr); f.err != nil {
			d := g.deny(f.err, f.challengeScopes(&req.caps))
			d.Provider = p.name
			d.Cached = v.cached
			return d
		}
	}
	allow.Provider = p.name
	allow.Cached = v.cached
	if !p.forward {
		if rm, ok := r.headerRemovals(g, req, held, allow.RemoveHeaders); ok {
			allow.RemoveHeaders = rm
		} else {
			for i, s := range r.sources {
				if held&(1<<i) != 0 {
					strip(&allow, req, s)
				}
			}
		}
	}
	if allow.SetHeaders == nil {
		allow.SetHeaders = slices.Clip(v.headers) // the cache entry's, shared read-only
	} else {
		allow.SetHeaders = append(allow.SetHeaders, v.headers...)
	}
	if g.state != nil {
		allow.FilterState = g.state.render(p, v.values)
	}
	return allow
}

func (r *request) hasAny(names []string) bool {
	for _, n := range names {
		if r.has(n) {
			return true
		}
	}
	return false
}

func (r *request) has(name string) bool {
	for _, h := range r.headers {
		if h[0] == name {
			return true
		}
	}
	return false
}

func (g *Gate) match(req *request) *rule {
	if g.rules == nil {
		return g.anyRule
	}
	for _, r := range g.rules {
		if r.matches(req) {
			return r
		}
	}
	return nil
}

// verified is the outcome of checking one credential.
type verified struct {
	provider   *provider
	claims     gjson.Result
	headers    [][2]string    // upstream headers from claim_to_headers and payload_header
	values     []gjson.Result // the claims at g.claimPaths
	cached     bool
	unknownKID bool
	kid        string
	tenant     int // with unknownKID: the tenant (tenant.go) whose key set lacks kid, or noTenant
	err        error
	detail     string         // for the log line of a refusal
	introspect *Introspection // the introspection answer this credential needs
}

// verify checks a credential found at src against the providers that read
// src. now is in seconds.
func (g *Gate) verify(token string, src source, provs []*provider, now float64) verified {
	var jbuf, pbuf [4]*provider // on the stack for up to four providers a rule names
	jwts, passphrases := jbuf[:0], pbuf[:0]
	var introspected *provider // at most one per rule (introspectionRules)
	for _, p := range provs {
		switch {
		case !p.reads(src):
		case p.passphrase != nil:
			passphrases = append(passphrases, p)
		case p.introspect != nil:
			introspected = p
		default:
			jwts = append(jwts, p)
		}
	}
	// A credential shaped like a JWS goes to the token providers that
	// verify it, when the rule has any; the rest goes to the endpoint.
	if introspected != nil && (len(jwts) == 0 || !jwsShaped(token)) {
		return g.verifyOpaque(introspected, token, now)
	}
	// A credential shaped like a JWS goes to the token providers only, so
	// that a stream of tokens on a route that also takes a passphrase never
	// costs a passphrase hash each.
	if len(passphrases) > 0 && (len(jwts) == 0 || !jwsShaped(token)) {
		busy := false
		for _, p := range passphrases {
			ok, b := p.passphrase.check(token, now)
			if ok {
				return verified{provider: p}
			}
			busy = busy || b
		}
		if busy {
			return verified{err: ErrPassphraseBusy}
		}
		return verified{err: ErrPassphraseInvalid}
	}
	if len(jwts) == 0 {
		return verified{err: ErrTokenMissing}
	}
	if e := g.cache.get(token); e != nil && slices.Contains(jwts, e.provider) {
		if err := e.provider.checkTime(e.times, now); err != nil {
			g.cache.remove(e)
			return verified{err: err}
		}
		return verified{provider: e.provider, claims: e.claims, headers: e.headers, values: e.values, cached: true}
	}
	// The request's strings may live only as long as the request (the
	// plugin's binding hands them over without copying them out of the
	// host's buffer), and what follows keeps the token: in the cache, and in
	// the headers it renders (payload_header is a slice of it).
	token = strings.Clone(token)
	t, err := parseJWS(token)
	if err != nil {
		return verified{err: err}
	}
	iss := t.claims.Get("iss")
	if iss.Type != gjson.String {
		return verified{err: ErrIssuerNotAccepted}
	}
	var (
		first       error
		firstP      *provider
		firstT      = noTenant
		unavailable bool
		unavailP    *provider
		unavailT    = noTenant
		kidKnown    bool
		tried       bool
	)
	for _, p := range jwts {
		// For a multi-tenant provider, iss names the tenant whose keys
		// verify the token (tenant.go); for the others tenant is noTenant.
		tenant, ok := p.issuerTenant(iss.Str)
		if !ok {
			continue
		}
		tried = true
		keys := p.keySet(tenant)
		if keys != nil && t.kid != "" && keys.HasKid(t.kid) {
			kidKnown = true
		}
		err := p.verifyWith(t, keys)
		if err == nil {
			err = p.checkTenant(t, tenant)
		}
		if err == nil {
			err = p.checkStatic(t)
		}
		var tt times
		if err == nil {
			if tt, err = readTimes(t.claims); err == nil {
				err = p.checkTime(tt, now)
			}
		}
		if err == nil {
			headers := p.outputs(t.claims, t.payloadB64)
			values := g.claimValues(t.claims)
			g.cache.put(token, p, t.claims, tt, headers, values)
			return verified{provider: p, claims: t.claims, headers: headers, values: values}
		}
		if err == ErrKeysUnavailable {
			if !unavailable {
				unavailP, unavailT = p, tenant
			}
			unavailable = true
			continue
		}
		if first == nil {
			first, firstP, firstT = err, p, tenant
		}
	}
	switch {
	case !tried:
		return verified{err: ErrIssuerNotAccepted, detail: "iss " + logValue(iss.Raw)}
	case first == nil && unavailable:
		detail := "provider " + strconv.Quote(unavailP.name)
		if unavailT != noTenant {
			detail += ", tenant " + strconv.Quote(unavailP.tenantID(unavailT))
		}
		return verified{err: ErrKeysUnavailable, detail: detail}
	}
	v := verified{err: first, detail: "provider " + strconv.Quote(firstP.name) + ", " + firstP.tenantDetail(t, firstT) + t.detail(first)}
	if t.kid != "" && !kidKnown {
		v.provider, v.unknownKID, v.kid, v.tenant = firstP, true, t.kid, firstT
	}
	return v
}

// detail names what a token held that err is about, for the log line of a
// refusal; it never reaches the response and never holds the token.
func (t *jws) detail(err error) string {
	switch err {
	case ErrAudienceNotAccepted:
		return "aud " + logValue(t.claims.Get("aud").Raw)
	case ErrAlgorithmNotAllowed:
		return "alg " + logValue(strconv.Quote(t.alg))
	case ErrUnknownKey, ErrSignatureInvalid:
		return "alg " + logValue(strconv.Quote(t.alg)) + ", kid " + logValue(strconv.Quote(t.kid))
	case ErrTypeNotAccepted:
		return "typ " + logValue(t.header.Get("typ").Raw)
	case ErrSubjectNotAccepted:
		return "sub " + logValue(t.claims.Get("sub").Raw)
	case ErrTokenExpired, ErrLifetimeTooLong, ErrTokenNotYetValid, ErrTokenUsedBeforeIAT:
		return "exp " + logValue(t.claims.Get("exp").Raw) + ", nbf " + logValue(t.claims.Get("nbf").Raw) + ", iat " + logValue(t.claims.Get("iat").Raw)
	}
	return "kid " + logValue(strconv.Quote(t.kid))
}

// logValue makes a JSON value from a token safe for a log line: printable
// ASCII, at most 80 bytes.
func logValue(raw string) string {
	if raw == "" {
		return "(none)"
	}
	const max = 80
	b := make([]byte, 0, min(len(raw), max)+3)
	for i := 0; i < len(raw) && len(b) < max; i++ {
		if c := raw[i]; c >= 0x20 && c < 0x7f {
			b = append(b, c)
		} else {
			b = append(b, '?')
		}
	}
	if len(raw) > max {
		b = append(b, "..."...)
	}
	return string(b)
}

func (p *provider) reads(s source) bool {
	if s.kind == fromSession {
		return p.login != nil && p.login.src == s
	}
	for _, o := range p.sources {
		if o == s {
			return true
		}
	}
	return false
}

// jwsShaped reports whether s has the compact JWS shape: three base64url
// segments.
func jwsShaped(s string) bool {
	dots := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '.':
			dots++
		case 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_':
		default:
			return false
		}
	}
	return dots == 2
}

// claimValues looks up the claim paths that requirements read, once per
// verified token.
func (g *Gate) claimValues(claims gjson.Result) []gjson.Result {
	if len(g.claimPaths) == 0 {
		return nil
	}
	out := make([]gjson.Result, len(g.claimPaths))
	for i, p := range g.claimPaths {
		out[i] = claims.Get(p)
	}
	return out
}
