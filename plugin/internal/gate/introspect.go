package gate

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tidwall/gjson"

	"github.com/tokengate/tokengate/internal/jsonstrict"
)

// Introspection (RFC 7662) is how a provider of "type": "introspection"
// checks the tokens it cannot verify in the module: opaque tokens, which
// carry nothing the plugin can read. The request in hand is paused, not
// refused, while the plugin asks the provider's introspection endpoint with
// an HTTP call to an upstream the proxy knows (an Envoy cluster, or a named
// upstream of the Go host), as the key refresh does (refresh.go). The
// endpoint's answer is read strictly, its members are checked like a JWT's
// claims (issuer, audience, subject, claims, time) and kept in a cache keyed
// by the token's SHA-256, for at most cache_ttl_seconds and never beyond the
// answer's exp; then the request is decided again, and requirements, output
// headers and filter state read the answer as they read a token's payload.
//
// Which answer means what:
//   - active true, and the checks hold: the token is accepted;
//   - active false: 401 invalid_token ("token is not active");
//   - active true but a check fails (issuer, audience, type, subject, claims,
//     time): the 401 that check gives a JWT;
//   - no answer (the call failed or timed out, or too many calls are in
//     flight), a status other than 200, a body that is not a strict JSON
//     object with a boolean "active", or a member of the wrong type: 503 with
//     Retry-After. The endpoint being down is not the client's fault, and a
//     401 would tell a client with a good token to throw it away.
//
// What the plugin remembers is per-VM state, like the token cache: the
// answers (at most cache_size of them and maxAnswerCacheBytes of bodies, the
// least recently used go first) and the calls in flight with the requests
// waiting on each. Concurrent requests with the same token share one call; at
// most maxIntrospectionFlights calls per provider are in flight at once and
// at most maxWaiters requests wait on one, and each wait ends by timeout_ms.
type introspection struct {
	cluster    string
	authority  string
	path       string
	basic      string  // the call's Authorization header: HTTP Basic with the client's credentials
	timeout    uint32  // milliseconds
	ttl        float64 // seconds an answer is kept at most
	tokenTypes []string
	answers    *answerCache
	flights    map[tokenHash]*flight // the calls in flight, by token hash
}

// tokenHash is the SHA-256 of a token: what the answer cache and the calls in
// flight are keyed by, so that neither keeps a token after its call is sent.
type tokenHash [sha256.Size]byte

// short is the hash's first four bytes in hex, to tell tokens apart in logs.
func (h tokenHash) short() string { return hex.EncodeToString(h[:4]) }

type flight struct {
	sent    time.Time
	waiters []uint32 // the paused requests, the one that sent the call first
}

const (
	// maxIntrospectionFlights bounds the calls one provider has in flight
	// on a VM; a request with yet another new token gets 503 at once.
	maxIntrospectionFlights = 64
	// maxAnswerBytes bounds an introspection answer's body; a larger one is
	// treated as a failed call (503).
	maxAnswerBytes = 64 << 10
	// maxAnswerCacheBytes bounds the bodies one provider's answer cache
	// holds on a VM, whatever cache_size says.
	maxAnswerCacheBytes = 8 << 20
	// The media types the call sends (a form) and accepts (JSON).
	introspectionForm = "application/x-www-form-urlencoded"
	introspectionJSON = "application/json"
)

var introspectionFields = []string{"cluster", "authority", "path", "client_id", "client_secret", "timeout_ms", "cache_ttl_seconds", "cache_size"}

// introspection reads a provider's "introspection" object; the provider's
// other fields (issuer, audiences, claims...) are read as for a JWT provider
// and apply to the answers.
func (c *compiler) introspection(provPath string, v gjson.Result) *introspection {
	path := provPath + ".introspection"
	in := v.Get("introspection")
	if !in.Exists() {
		c.fail(path, `is required for "type": "introspection": {"cluster", "path", "client_id", "client_secret"}`)
		return nil
	}
	if !c.fields(path, in, introspectionFields...) {
		return nil
	}
	ip := &introspection{
		cluster:   c.str(path+".cluster", in.Get("cluster"), ""),
		authority: c.str(path+".authority", in.Get("authority"), issuerHost(v.Get("issuer").Str)),
		path:      c.str(path+".path", in.Get("path"), ""),
		timeout:   uint32(c.number(path+".timeout_ms", in.Get("timeout_ms"), 2000, 60000)),
		ttl:       c.number(path+".cache_ttl_seconds", in.Get("cache_ttl_seconds"), 60, 86400),
		flights:   map[tokenHash]*flight{},
	}
	size := int(c.number(path+".cache_size", in.Get("cache_size"), defaultCacheSize, 1<<20))
	id := c.str(path+".client_id", in.Get("client_id"), "")
	secret := c.str(path+".client_secret", in.Get("client_secret"), "")
	switch {
	case ip.cluster == "":
		c.fail(path+".cluster", "is required: the upstream (Envoy cluster) that reaches the provider's introspection endpoint")
	case ip.path == "":
		c.fail(path+".path", "is required: the path of the introspection endpoint, e.g. \"/realms/ml/protocol/openid-connect/token/introspect\"")
	case ip.authority == "" || !printable(ip.authority):
		c.fail(path+".authority", "must be printable ASCII: the host the endpoint is called as (default: the issuer's host)")
	case ip.timeout == 0:
		c.fail(path+".timeout_ms", "must be at least 1: requests wait this long for the endpoint's answer")
	case size < 1:
		c.fail(path+".cache_size", "must be at least 1: the answers of paused requests are read from the cache")
	case id == "" || !printable(id):
		c.fail(path+".client_id", "is required: the client the plugin authenticates as (printable ASCII)")
	case secret == "" || !printable(secret):
		// Never the secret itself in an error.
		c.fail(path+".client_secret", "is required: the client's secret (printable ASCII)")
	}
	if canon, ok := canonicalPath(ip.path, false); ip.path != "" && (!ok || canon != ip.path) {
		c.fail(path+".path", "must be an absolute path in canonical form (no query, spaces, empty or dot segments, or encoded unreserved characters)")
	}
	// RFC 6749 §2.3.1: the client id and secret are form-encoded, then
	// joined by ":" and base64-encoded.
	ip.basic = "Basic " + base64.StdEncoding.EncodeToString([]byte(formEscape(id)+":"+formEscape(secret)))
	ip.answers = newAnswerCache(size)
	for _, f := range []string{"jwks", "jwks_uri", "fetch", "algorithms"} {
		if v.Get(f).Exists() {
			c.fail(provPath+"."+f, "does not apply to an introspection provider: its tokens are checked by the endpoint")
		}
	}
	return ip
}

// onlyIntrospection refuses an "introspection" object on a provider of
// another type, where it would be silently ignored.
func (c *compiler) onlyIntrospection(path string, v gjson.Result, p *provider) {
	if p.introspect == nil && v.Get("introspection").Exists() {
		c.fail(path+".introspection", `applies only to "type": "introspection"`)
	}
}

// introspectionRules refuses rules on which the plugin could not tell where
// to send a credential that is not a JWT: two introspection providers (an
// opaque token does not say whose it is), or an introspection provider and
// a passphrase provider (either could take it).
func (c *compiler) introspectionRules(g *Gate) {
	check := func(path string, provs []*provider) {
		var intro, pass string
		for _, p := range provs {
			switch {
			case p.introspect != nil && intro != "":
				c.fail(path, "accepts two introspection providers ("+strconv.Quote(intro)+", "+strconv.Quote(p.name)+
					"): an opaque token does not say which issuer it is from; name one of them in this rule")
				return
			case p.introspect != nil:
				intro = p.name
			case p.passphrase != nil:
				pass = p.name
			}
		}
		if intro != "" && pass != "" {
			c.fail(path, "accepts the introspection provider "+strconv.Quote(intro)+" and the passphrase provider "+strconv.Quote(pass)+
				": a credential that is not a JWT could be either; give them separate rules")
		}
	}
	if g.anyRule != nil {
		check("providers", g.anyRule.providers)
	}
	for i, r := range g.rules {
		if r != nil && r.requires {
			check("rules["+strconv.Itoa(i)+"].requires.providers", r.providers)
		}
	}
}

// issuerHost is the host[:port] of an issuer URL, the default authority of
// the introspection call.
func issuerHost(issuer string) string {
	_, rest, ok := strings.Cut(issuer, "://")
	if !ok {
		return ""
	}
	host, _, _ := strings.Cut(rest, "/")
	return host
}

// formEscape percent-encodes s for a query string or an
// application/x-www-form-urlencoded body: every byte but the unreserved
// characters (RFC 3986 §2.3).
func formEscape(s string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}

// Introspection is a credential that waits for its provider's introspection
// answer: a Decision carries one (Decision.Introspect) when the answer is
// not in the cache. The Decision itself is the 503 the request gets when no
// answer can be had; PlanIntrospection says whether to pause it and ask.
type Introspection struct {
	p     *provider
	hash  tokenHash
	token string // the credential, for the call's body; never logged
}

// Provider is the name of the provider that introspects the credential.
func (in *Introspection) Provider() string { return in.p.name }

// IntrospectionKey names one call: the provider and the token's hash. Its
// String is safe to log.
type IntrospectionKey struct {
	p    *provider
	hash tokenHash
}

func (k IntrospectionKey) String() string {
	if k.p == nil {
		return "(no introspection)"
	}
	return "provider " + strconv.Quote(k.p.name) + ", token sha256:" + k.hash.short() + "…"
}

// IntrospectionCall is one request to send.
type IntrospectionCall struct {
	Key           IntrospectionKey
	Upstream      string
	Headers       [][2]string
	Body          []byte
	TimeoutMillis uint32
}

// IntrospectionAnswer is the endpoint's answer as the proxy delivered it.
type IntrospectionAnswer struct {
	Status      string // ":status"
	ContentType string
	Body        []byte
}

// IntrospectionStep is what a request whose credential awaits an answer does
// next.
type IntrospectionStep int

const (
	// IntrospectNone: answer the Decision now (503): too many calls or
	// waiters, or the Decision needs no answer.
	IntrospectNone IntrospectionStep = iota
	// IntrospectSend: send the call, pause the request, and call
	// FinishIntrospection with the answer.
	IntrospectSend
	// IntrospectWait: pause the request; a call for the same token is in
	// flight, and FinishIntrospection will return it.
	IntrospectWait
)

// verifyOpaque checks a credential with provider p's introspection answer
// from the cache, or says that the answer is needed. now is in seconds.
func (g *Gate) verifyOpaque(p *provider, token string, now float64) verified {
	if len(token) > maxTokenBytes {
		return verified{err: ErrTokenMalformed}
	}
	h := tokenHash(sha256.Sum256([]byte(token)))
	ip := p.introspect
	e := ip.answers.get(h, now)
	if e == nil {
		return verified{err: ErrIntrospectionUnavailable,
			detail:     "provider " + strconv.Quote(p.name) + ", token sha256:" + h.short() + "…: no introspection answer",
			introspect: &Introspection{p: p, hash: h, token: strings.Clone(token)}}
	}
	if e.err != nil {
		return verified{err: e.err, detail: "provider " + strconv.Quote(p.name) + ", token sha256:" + h.short() + "…: " + e.detail}
	}
	if err := p.checkTime(e.times, now); err != nil {
		return verified{err: err, detail: "provider " + strconv.Quote(p.name) + ", token sha256:" + h.short() + "…: exp, nbf or iat of the answer"}
	}
	cached := e.used
	e.used = true
	return verified{provider: p, claims: e.claims, headers: e.headers, values: e.values, cached: cached}
}

// PlanIntrospection says what the request id, decided d at now, does next:
// IntrospectSend when d awaits an answer no call is in flight for (call is
// then the request to send), IntrospectWait when a call for the same token
// is in flight (the request joins it), IntrospectNone otherwise.
func (g *Gate) PlanIntrospection(d *Decision, id uint32, now time.Time) (IntrospectionStep, IntrospectionCall) {
	in := d.Introspect
	if in == nil || in.p == nil || in.p.introspect == nil {
		return IntrospectNone, IntrospectionCall{}
	}
	ip := in.p.introspect
	if f := ip.flights[in.hash]; f != nil {
		// The host answers every call by its timeout; a call twice as old
		// was lost, and must not hold the token forever.
		if now.Sub(f.sent) < 2*time.Duration(ip.timeout)*time.Millisecond {
			if len(f.waiters) >= maxWaiters {
				return IntrospectNone, IntrospectionCall{}
			}
			f.waiters = append(f.waiters, id)
			return IntrospectWait, IntrospectionCall{}
		}
		delete(ip.flights, in.hash)
	}
	if len(ip.flights) >= maxIntrospectionFlights {
		return IntrospectNone, IntrospectionCall{}
	}
	ip.flights[in.hash] = &flight{sent: now, waiters: []uint32{id}}
	body := []byte("token=" + formEscape(in.token) + "&token_type_hint=access_token")
	return IntrospectSend, IntrospectionCall{
		Key:      IntrospectionKey{p: in.p, hash: in.hash},
		Upstream: ip.cluster,
		Headers: [][2]string{
			{":method", "POST"},
			{":path", ip.path},
			{":authority", ip.authority},
			{"content-type", introspectionForm},
			{"accept", introspectionJSON},
			{"authorization", ip.basic},
			{"content-length", strconv.Itoa(len(body))},
		},
		Body:          body,
		TimeoutMillis: ip.timeout,
	}
}

// FinishIntrospection ends the call key: ans is the endpoint's answer, or
// nil when the call failed. It caches an answer that reads (active or not)
// and returns the requests paused on the call, to be decided again in the
// order they arrived: with the cached answer, or with the 503 when there is
// none. err says why there is none; it never holds the token.
func (g *Gate) FinishIntrospection(key IntrospectionKey, ans *IntrospectionAnswer, now time.Time) (ids []uint32, err error) {
	if key.p == nil || key.p.introspect == nil {
		return nil, nil
	}
	ip := key.p.introspect
	f := ip.flights[key.hash]
	if f == nil {
		return nil, nil
	}
	delete(ip.flights, key.hash)
	ids = f.waiters
	if ans == nil {
		return ids, errors.New("introspection (" + key.String() + "): the call failed (timeout, connection failure, or no such upstream); the waiting requests get 503")
	}
	claims, active, err := readIntrospection(ans.Status, ans.ContentType, ans.Body)
	if err != nil {
		return ids, errors.New("introspection (" + key.String() + "): " + err.Error() + "; the waiting requests get 503")
	}
	secs := float64(now.UnixNano()) / 1e9
	e := &answer{hash: key.hash, size: len(claims.Raw), until: secs + ip.ttl}
	switch {
	case !active:
		e.err, e.detail = ErrTokenInactive, "the endpoint says the token is not active"
	default:
		e.claims = claims
		e.times, _ = readTimes(claims) // the types were checked by readIntrospection
		if e.times.hasExp && e.times.exp < e.until {
			// Never beyond exp, but long enough for the waiting requests
			// to be decided with it (and refused as expired).
			e.until = max(e.times.exp, secs)
		}
		if e.detail, e.err = key.p.checkAnswer(claims); e.err == nil {
			e.headers = key.p.outputs(claims, base64.RawURLEncoding.EncodeToString([]byte(claims.Raw)))
			e.values = g.claimValues(claims)
		}
	}
	ip.answers.put(e)
	return ids, nil
}

// readIntrospection reads an introspection answer strictly (RFC 7662 §2.2):
// status 200, content-type application/json, at most maxAnswerBytes of a
// strict JSON object (internal/jsonstrict) with a boolean "active"; when it
// is true, the members the checks read must have their registered types.
// Anything else is an error: the endpoint failed, and the request gets 503.
func readIntrospection(status, contentType string, body []byte) (claims gjson.Result, active bool, err error) {
	if status != "200" {
		return claims, false, errors.New("the endpoint answered " + strconv.Quote(status) + ", not 200")
	}
	if mt, _, _ := strings.Cut(contentType, ";"); !strings.EqualFold(strings.TrimSpace(mt), introspectionJSON) {
		return claims, false, errors.New("the answer's content-type is " + strconv.Quote(contentType) + ", want " + introspectionJSON)
	}
	if len(body) == 0 || len(body) > maxAnswerBytes {
		return claims, false, errors.New("the answer's body has " + strconv.Itoa(len(body)) + " bytes, want 1 to " + strconv.Itoa(maxAnswerBytes))
	}
	if err := jsonstrict.Check(body); err != nil {
		return claims, false, errors.New("the answer is not strict JSON: " + err.Error())
	}
	claims = gjson.Parse(string(body))
	if !claims.IsObject() {
		return gjson.Result{}, false, errors.New("the answer is not a JSON object")
	}
	switch a := claims.Get("active"); a.Type {
	case gjson.True:
	case gjson.False:
		return gjson.Result{}, false, nil
	default:
		return gjson.Result{}, false, errors.New(`the answer has no boolean "active"`)
	}
	for _, m := range [...]string{"scope", "client_id", "username", "token_type", "sub", "iss", "jti"} {
		if v := claims.Get(m); v.Exists() && v.Type != gjson.String {
			return gjson.Result{}, false, errors.New(`the answer's "` + m + `" is not a string`)
		}
	}
	for _, m := range [...]string{"exp", "iat", "nbf"} {
		if _, _, err := numericDate(claims.Get(m)); err != nil {
			return gjson.Result{}, false, errors.New(`the answer's "` + m + `" is not a finite number`)
		}
	}
	if aud := claims.Get("aud"); aud.Exists() && aud.Type != gjson.String {
		ok := aud.IsArray()
		aud.ForEach(func(_, a gjson.Result) bool {
			ok = a.Type == gjson.String
			return ok
		})
		if !ok {
			return gjson.Result{}, false, errors.New(`the answer's "aud" is not a string or an array of strings`)
		}
	}
	return claims, true, nil
}

// checkAnswer applies to an active answer the checks a JWT's claims get
// that do not depend on time, and the type checks of introspection: the
// token must be a bearer token (token_type, by default "Bearer"; an answer
// without one, such as a refresh token's, is refused) and not bound to a key
// the client must prove it holds (cnf), which this filter does not check.
// It returns, for the log, what a refusal is about, and the refusal.
func (p *provider) checkAnswer(claims gjson.Result) (string, error) {
	types := p.types
	if types == nil {
		types = defaultIntrospectionTypes
	}
	tt := claims.Get("token_type")
	if !tt.Exists() || !containsFold(types, tt.Str) {
		return "token_type " + logValue(tt.Raw), ErrTypeNotAccepted
	}
	if claims.Get("cnf").Exists() {
		return "cnf: the token is sender-constrained", ErrTypeNotAccepted
	}
	if iss := claims.Get("iss"); iss.Exists() && !p.acceptsIssuer(iss.Str) {
		return "iss " + logValue(iss.Raw), ErrIssuerNotAccepted
	}
	if p.refuseIDTokens && isIDClaims(claims) {
		return "typ, nonce or at_hash", ErrIDToken
	}
	if len(p.audiences) > 0 {
		if err := p.checkAudience(claims.Get("aud")); err != nil {
			return "aud " + logValue(claims.Get("aud").Raw), err
		}
	}
	if len(p.subjects) > 0 {
		if sub := claims.Get("sub"); sub.Type != gjson.String || !slices.Contains(p.subjects, sub.Str) {
			return "sub " + logValue(sub.Raw), ErrSubjectNotAccepted
		}
	}
	for i := range p.claims {
		if !p.claims[i].satisfied(claims) {
			return "claim " + strconv.Quote(p.claims[i].path), ErrClaimNotAccepted
		}
	}
	return "", nil
}

// defaultIntrospectionTypes are the token_type values accepted without
// "token_types" (RFC 6750 bearer tokens).
var defaultIntrospectionTypes = []string{"Bearer"}

func containsFold(list []string, s string) bool {
	for _, l := range list {
		if strings.EqualFold(l, s) {
			return true
		}
	}
	return false
}

// isIDClaims is isIDToken for an introspection answer, which has no JOSE
// header: Keycloak's "typ": "ID", or an ID token's "nonce" or "at_hash".
func isIDClaims(claims gjson.Result) bool {
	if typ := claims.Get("typ"); typ.Type == gjson.String && strings.EqualFold(typ.Str, "ID") {
		return true
	}
	return claims.Get("nonce").Exists() || claims.Get("at_hash").Exists()
}

// answer is one cached introspection answer, active or not.
type answer struct {
	hash       tokenHash
	size       int     // bytes of the body
	until      float64 // seconds: dropped after this
	used       bool    // a request was decided with it already
	err        error   // the refusal the answer gives, or nil
	detail     string  // for the log line of that refusal
	claims     gjson.Result
	times      times
	headers    [][2]string
	values     []gjson.Result
	prev, next *answer
}

// answerCache is a bounded LRU of answers by token hash: at most max
// entries and maxAnswerCacheBytes of bodies.
type answerCache struct {
	max, bytes int
	entries    map[tokenHash]*answer
	head       answer // sentinel: head.next is the newest
}

func newAnswerCache(max int) *answerCache {
	c := &answerCache{max: max, entries: map[tokenHash]*answer{}}
	c.head.next, c.head.prev = &c.head, &c.head
	return c
}

// get returns the answer for h unless it expired before now (seconds).
func (c *answerCache) get(h tokenHash, now float64) *answer {
	e := c.entries[h]
	if e == nil {
		return nil
	}
	if now > e.until {
		c.remove(e)
		return nil
	}
	c.unlink(e)
	c.pushFront(e)
	return e
}

func (c *answerCache) put(e *answer) {
	if old := c.entries[e.hash]; old != nil {
		c.remove(old)
	}
	for len(c.entries) > 0 && (len(c.entries) >= c.max || c.bytes+e.size > maxAnswerCacheBytes) {
		c.remove(c.head.prev)
	}
	c.entries[e.hash] = e
	c.bytes += e.size
	c.pushFront(e)
}

func (c *answerCache) remove(e *answer) {
	c.unlink(e)
	delete(c.entries, e.hash)
	c.bytes -= e.size
}

func (c *answerCache) unlink(e *answer) {
	e.prev.next = e.next
	e.next.prev = e.prev
	e.prev, e.next = nil, nil
}

func (c *answerCache) pushFront(e *answer) {
	e.prev = &c.head
	e.next = c.head.next
	c.head.next.prev = e
	c.head.next = e
}

// maxLintTTL is the longest cache_ttl_seconds Lint leaves alone: beyond
// it, a revoked token stays accepted for longer than most access tokens
// live.
const maxLintTTL = 300

// lintIntrospection is what Lint flags in an introspection provider: ID
// tokens accepted, and a revocation delay (cache_ttl_seconds) longer than
// maxLintTTL.
func (p *provider) lintIntrospection(path string) []Finding {
	if p.introspect == nil {
		return nil
	}
	var out []Finding
	if !p.refuseIDTokens {
		out = append(out, Finding{path, "answers that describe an ID token are accepted: set \"refuse_id_tokens\": true, or a \"preset\""})
	}
	if p.introspect.ttl > maxLintTTL {
		out = append(out, Finding{path + ".introspection.cache_ttl_seconds", "a token revoked at the provider stays accepted for up to " +
			strconv.FormatFloat(p.introspect.ttl, 'f', -1, 64) + " s; at most " + strconv.Itoa(maxLintTTL) + " keeps revocation prompt"})
	}
	return out
}
