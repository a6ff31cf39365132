package gate

import (
	"errors"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/tokengate/tokengate/internal/jsonstrict"
	"github.com/tokengate/tokengate/internal/jwk"
)

// Gate is a compiled configuration. It is immutable after Compile except for
// per-VM state: its token cache, the providers' key sets (which ReplaceKeys
// changes when a key refresh brings a new set) and the refresh bookkeeping.
// It is used by one request or callback at a time per VM.
type Gate struct {
	realm      string
	retryAfter string
	providers  []*provider // sorted by name
	rules      []*rule     // nil: every request needs a token from any provider
	anyRule    *rule       // the implicit rule when there are no rules
	outputs    []string    // headers the gate sets; always removed from incoming requests

	rewritePaths bool // "ambiguous_paths": "rewrite"
	methodRules  bool // some rule matches on methods
	cache        *cache
	verifier     Verifier // nil: in-module crypto only
	refresh      *refresh // nil: no refresh requests
	claimPaths   []string // the claim paths requirements read (compiler.pathID)

	state *filterState // "envoy_filter_state" (filterstate.go); nil: none

	login  *logins            // browser sign-in (login.go); nil: no provider has "login"
	random func([]byte) error // the randomness of sign-ins (WithRandom); nil: crypto/rand

	bundles *bundleSource // "bundle" (bundle.go): key sets from signed bundles; nil: from the configuration
}

// provider is one token issuer.
type provider struct {
	gate       *Gate
	name       string
	issuer     string
	audiences  []string
	keys       *jwk.Set // nil: no key set yet (503)
	tenants    *tenants // non-nil for an issuer template; then keys is nil and each tenant has its own (tenant.go)
	forward    bool
	algorithms []string
	skew       float64 // seconds
	requireExp bool
	maxLife    float64 // seconds, 0: unlimited
	types      []string
	subjects   []string
	claims     []claimRule
	sources    []source
	toHeaders  []claimHeader
	payloadHdr string
	passphrase *passphrase    // non-nil for "type": "passphrase"
	introspect *introspection // non-nil for "type": "introspection" (introspect.go)
	login      *login         // browser sign-in with this provider (login.go); nil: none

	// The token's shape (presets.go).
	preset         string
	scopeClaims    []string // where scopes are: claim paths, each a space-delimited string or an array
	roleClaims     []string // where roles are, the same way; nil: rules cannot require roles
	scopeIDs       []int    // scopeClaims as compiler.pathID ids
	roleIDs        []int
	alsoIssuers    []string // more exact "iss" values signed by the same keys
	refuseIDTokens bool
}

type claimRule struct {
	path   string
	equals []gjson.Result // the claim must equal one of these
	has    []gjson.Result // the claim (an array or space-delimited string) must contain each
}

type claimHeader struct {
	claim, header string
}

// Providers lists the provider names, sorted.
func (g *Gate) Providers() []string {
	names := make([]string, len(g.providers))
	for i, p := range g.providers {
		names[i] = p.name
	}
	return names
}

// Realm is the realm of every WWW-Authenticate challenge.
// Callouts names, by configuration path, what in the configuration needs
// the proxy to make HTTP calls for the plugin beyond the key refresh: a
// provider's sign-in (its token requests), an introspection provider (its
// endpoint), the key bundles. A host that makes no calls (the native Envoy
// module) refuses a configuration that has any, rather than serve it half.
func (g *Gate) Callouts() []string {
	var out []string
	for _, p := range g.providers {
		if p.login != nil {
			out = append(out, "providers."+p.name+".login")
		}
		if p.introspect != nil {
			out = append(out, "providers."+p.name+".introspection")
		}
	}
	if g.bundles != nil {
		out = append(out, "bundle")
	}
	return out
}

func (g *Gate) Realm() string { return g.realm }

const (
	defaultRealm     = "tokengate"
	defaultSkew      = 60
	defaultRetry     = 5
	defaultCacheSize = 1024
)

// Option sets up a Gate beyond its configuration, at Compile time only.
type Option func(*Gate)

// Compile parses and validates a plugin configuration (docs/configuration.md). It
// returns warnings for parts that are ignored (unusable JWKs) and an error
// naming the JSON path of the first problem.
func Compile(config []byte, opts ...Option) (*Gate, []string, error) {
	if len(strings.TrimSpace(string(config))) == 0 {
		return nil, nil, errors.New("configuration is empty: want a JSON object with \"providers\"")
	}
	if err := jsonstrict.Check(config); err != nil {
		// The same strict reader as tokens and key sets: a member given
		// twice (two "corp" providers, two "issuer"s) is refused at any
		// depth rather than resolved one way here and another elsewhere.
		return nil, nil, errors.New("configuration: " + err.Error())
	}
	root := gjson.ParseBytes(config)
	c := &compiler{}
	g := c.gate(root)
	if c.err != nil {
		return nil, c.warnings, c.err
	}
	for _, o := range opts {
		o(g)
	}
	return g, c.warnings, nil
}

// compiler keeps the first error and all warnings while walking the config.
type compiler struct {
	err      error
	warnings []string
	paths    []string // claim paths read by requirements, indexed by their ids
}

// pathID interns a claim path that requirements read: a verified token's
// values at these paths are looked up once and kept with it in the cache, so
// a cached request checks its requirements without scanning the claims.
func (c *compiler) pathID(path string) int {
	for i, p := range c.paths {
		if p == path {
			return i
		}
	}
	c.paths = append(c.paths, path)
	return len(c.paths) - 1
}

func (c *compiler) fail(path, msg string) {
	if c.err == nil {
		c.err = errors.New(path + ": " + msg)
	}
}

// fields checks that v is an object whose members are all in known.
func (c *compiler) fields(path string, v gjson.Result, known ...string) bool {
	if !v.IsObject() {
		c.fail(path, "must be an object")
		return false
	}
	ok := true
	v.ForEach(func(k, _ gjson.Result) bool {
		for _, name := range known {
			if k.Str == name {
				return true
			}
		}
		c.fail(join(path, k.Str), "unknown field (known: "+strings.Join(known, ", ")+")")
		ok = false
		return false
	})
	return ok
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func (c *compiler) str(path string, v gjson.Result, def string) string {
	if !v.Exists() {
		return def
	}
	if v.Type != gjson.String {
		c.fail(path, "must be a string")
		return def
	}
	return v.Str
}

func (c *compiler) boolean(path string, v gjson.Result, def bool) bool {
	switch {
	case !v.Exists():
		return def
	case v.Type == gjson.True:
		return true
	case v.Type == gjson.False:
		return false
	}
	c.fail(path, "must be true or false")
	return def
}

// number reads a non-negative number no larger than max.
func (c *compiler) number(path string, v gjson.Result, def, max float64) float64 {
	if !v.Exists() {
		return def
	}
	if v.Type != gjson.Number || v.Num < 0 || v.Num > max || math.IsNaN(v.Num) {
		c.fail(path, "must be a number from 0 to "+strconv.FormatFloat(max, 'f', -1, 64))
		return def
	}
	return v.Num
}

func (c *compiler) strings(path string, v gjson.Result) []string {
	if !v.Exists() {
		return nil
	}
	if !v.IsArray() {
		c.fail(path, "must be an array of strings")
		return nil
	}
	var out []string
	for i, e := range v.Array() {
		if e.Type != gjson.String || e.Str == "" {
			c.fail(path+"["+strconv.Itoa(i)+"]", "must be a non-empty string")
			return nil
		}
		out = append(out, e.Str)
	}
	return out
}

func (c *compiler) gate(root gjson.Result) *Gate {
	if !c.fields("", root, "realm", "providers", "rules", "retry_after_seconds", "cache_size", "refresh", "ambiguous_paths", "envoy_filter_state", "bundle") {
		if c.err.Error() == ": must be an object" {
			c.err = errors.New("configuration must be a JSON object with \"providers\"")
		}
		return nil
	}
	g := &Gate{realm: c.str("realm", root.Get("realm"), defaultRealm)}
	if !quotable(g.realm) || g.realm == "" {
		c.fail("realm", "must be non-empty printable ASCII without quotes or backslashes")
	}
	g.retryAfter = strconv.Itoa(int(c.number("retry_after_seconds", root.Get("retry_after_seconds"), defaultRetry, 3600)))
	size := int(c.number("cache_size", root.Get("cache_size"), defaultCacheSize, 1<<20))
	g.refresh = c.refresh("refresh", root.Get("refresh"))
	g.cache = newCache(size)
	switch mode := c.str("ambiguous_paths", root.Get("ambiguous_paths"), "reject"); mode {
	case "reject":
	case "rewrite":
		g.rewritePaths = true
	default:
		c.fail("ambiguous_paths", "must be \"reject\" (refuse with 400) or \"rewrite\" (forward the canonical path)")
	}

	provs := root.Get("providers")
	if !provs.Exists() || !provs.IsObject() {
		c.fail("providers", "must be an object keyed by provider name")
		return nil
	}
	provs.ForEach(func(name, v gjson.Result) bool {
		if p := c.provider("providers."+name.Str, name.Str, v); p != nil {
			p.gate = g
			g.providers = append(g.providers, p)
		}
		return c.err == nil
	})
	if c.err != nil {
		return nil
	}
	if len(g.providers) == 0 {
		c.fail("providers", "must name at least one provider")
		return nil
	}
	sort.Slice(g.providers, func(i, j int) bool { return g.providers[i].name < g.providers[j].name })
	for _, p := range g.providers {
		for _, h := range p.toHeaders {
			if !slices.Contains(g.outputs, h.header) {
				g.outputs = append(g.outputs, h.header)
			}
		}
		if p.payloadHdr != "" && !slices.Contains(g.outputs, p.payloadHdr) {
			g.outputs = append(g.outputs, p.payloadHdr)
		}
	}
	if rules := root.Get("rules"); rules.Exists() {
		if !rules.IsArray() {
			c.fail("rules", "must be an array")
			return nil
		}
		for i, r := range rules.Array() {
			g.rules = append(g.rules, c.rule("rules["+strconv.Itoa(i)+"]", r, g))
			if c.err != nil {
				return nil
			}
		}
	} else {
		g.anyRule = &rule{requires: true, providers: g.providers, sources: ruleSources(g.providers)}
		if len(g.anyRule.sources) > maxSources {
			c.fail("providers", "the providers read tokens from more than "+strconv.Itoa(maxSources)+" places; use fewer from_* entries")
		}
	}
	c.introspectionRules(g)
	c.loginRules(g, root) // "login" of providers and rules (login.go)
	c.bundle(g, root)
	g.state = c.filterState("envoy_filter_state", root.Get("envoy_filter_state"))
	if c.err != nil {
		return nil
	}
	g.claimPaths = c.paths
	return g
}

// quotable reports whether s can appear inside a quoted-string of a
// WWW-Authenticate header without escaping.
func quotable(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

var providerFields = []string{"type", "issuer", "audiences", "jwks", "jwks_uri", "fetch", "forward", "algorithms",
	"clock_skew_seconds", "require_expiration", "max_lifetime_seconds", "token_types", "subjects", "claims",
	"from_headers", "from_params", "from_cookies", "claim_to_headers", "payload_header",
	"passphrase", "hashed_passphrase", "preset", "scope_claims", "role_claims", "also_issuers", "refuse_id_tokens",
	"introspection", "tenants", "tenant_jwks", "login"}

func (c *compiler) provider(path, name string, v gjson.Result) *provider {
	if name == "" {
		c.fail(path, "provider names must not be empty")
		return nil
	}
	if !c.fields(path, v, providerFields...) {
		return nil
	}
	p := &provider{name: name, forward: c.boolean(path+".forward", v.Get("forward"), false)}
	p.sources = c.sources(path, v)
	switch typ := c.str(path+".type", v.Get("type"), "jwt"); typ {
	case "jwt":
	case "introspection":
		p.introspect = c.introspection(path, v) // the checks below apply to its answers
	case "passphrase":
		p.passphrase = c.passphrase(path, v)
		for _, f := range []string{"issuer", "audiences", "jwks", "jwks_uri", "fetch", "algorithms", "clock_skew_seconds",
			"require_expiration", "max_lifetime_seconds", "token_types", "subjects", "claims", "claim_to_headers", "payload_header",
			"preset", "scope_claims", "role_claims", "also_issuers", "refuse_id_tokens", "introspection", "tenants", "tenant_jwks"} {
			if v.Get(f).Exists() {
				c.fail(path+"."+f, "does not apply to a passphrase provider")
			}
		}
		return p
	default:
		c.fail(path+".type", `must be "jwt", "introspection" or "passphrase"`)
		return nil
	}
	for _, f := range []string{"passphrase", "hashed_passphrase"} {
		if v.Get(f).Exists() {
			c.fail(path+"."+f, `applies only to "type": "passphrase"`)
		}
	}
	c.onlyIntrospection(path, v, p)
	p.issuer = c.str(path+".issuer", v.Get("issuer"), "")
	if p.issuer == "" {
		c.fail(path+".issuer", "is required: the exact \"iss\" of this provider's tokens")
	}
	p.audiences = c.strings(path+".audiences", v.Get("audiences"))
	c.tokenShape(path, v, p)
	c.tenancy(path, v, p) // an issuer template: "tenants" and "tenant_jwks" (tenant.go)
	c.str(path+".jwks_uri", v.Get("jwks_uri"), "")
	if f := v.Get("fetch"); f.Exists() && !f.IsObject() {
		c.fail(path+".fetch", "must be an object (it is read by jwksfetch)")
	}
	if jwks := v.Get("jwks"); jwks.Exists() {
		raw := jwks.Raw
		if jwks.Type == gjson.String {
			raw = jwks.Str // a key set embedded as a JSON string
		}
		set, warnings, err := jwk.Parse([]byte(raw))
		if err != nil {
			c.fail(path+".jwks", err.Error())
			return nil
		}
		for _, w := range warnings {
			c.warnings = append(c.warnings, path+".jwks."+w)
		}
		p.keys = set
	}
	p.algorithms = c.strings(path+".algorithms", v.Get("algorithms"))
	for i, a := range p.algorithms {
		if _, ok := algorithms[a]; !ok {
			c.fail(path+".algorithms["+strconv.Itoa(i)+"]", strconv.Quote(a)+" is not supported (supported: "+strings.Join(allAlgorithms, ", ")+"; none and HMAC are never accepted)")
		}
	}
	if p.algorithms == nil {
		p.algorithms = allAlgorithms
	}
	p.skew = c.number(path+".clock_skew_seconds", v.Get("clock_skew_seconds"), defaultSkew, 600)
	p.requireExp = c.boolean(path+".require_expiration", v.Get("require_expiration"), true)
	p.maxLife = c.number(path+".max_lifetime_seconds", v.Get("max_lifetime_seconds"), 0, 10*365*86400)
	p.types = c.strings(path+".token_types", v.Get("token_types"))
	p.subjects = c.strings(path+".subjects", v.Get("subjects"))
	p.claims = c.claimRules(path+".claims", v.Get("claims"))
	if hs := v.Get("claim_to_headers"); hs.Exists() {
		if !hs.IsArray() {
			c.fail(path+".claim_to_headers", "must be an array of {\"claim\", \"header\"}")
		}
		for i, h := range hs.Array() {
			hp := path + ".claim_to_headers[" + strconv.Itoa(i) + "]"
			if !c.fields(hp, h, "claim", "header") {
				break
			}
			ch := claimHeader{claim: c.str(hp+".claim", h.Get("claim"), ""), header: c.headerName(hp+".header", h.Get("header"))}
			if ch.claim == "" {
				c.fail(hp+".claim", "is required (a claim name or gjson path, e.g. \"sub\" or \"realm_access.roles\")")
			}
			p.toHeaders = append(p.toHeaders, ch)
		}
	}
	if ph := v.Get("payload_header"); ph.Exists() {
		p.payloadHdr = c.headerName(path+".payload_header", ph)
	}
	return p
}

// headerName validates a header the gate will set upstream.
func (c *compiler) headerName(path string, v gjson.Result) string {
	name := strings.ToLower(c.str(path, v, ""))
	if name == "" || !isToken(name) {
		c.fail(path, "must be a valid HTTP header name")
		return ""
	}
	switch name {
	case "authorization", "cookie", "host", "content-length", "transfer-encoding", "connection", "te", "upgrade":
		c.fail(path, strconv.Quote(name)+" cannot carry claims")
	}
	return name
}

func isToken(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

func (c *compiler) claimRules(path string, v gjson.Result) []claimRule {
	if !v.Exists() {
		return nil
	}
	if !v.IsArray() {
		c.fail(path, "must be an array of {\"claim\", \"equals\" | \"one_of\" | \"contains\"}")
		return nil
	}
	var out []claimRule
	for i, r := range v.Array() {
		rp := path + "[" + strconv.Itoa(i) + "]"
		if !c.fields(rp, r, "claim", "equals", "one_of", "contains") {
			return nil
		}
		cr := claimRule{path: c.str(rp+".claim", r.Get("claim"), "")}
		if cr.path == "" {
			c.fail(rp+".claim", "is required")
		}
		n := 0
		if e := r.Get("equals"); e.Exists() {
			cr.equals = []gjson.Result{e}
			n++
		}
		if e := r.Get("one_of"); e.Exists() {
			if !e.IsArray() || len(e.Array()) == 0 {
				c.fail(rp+".one_of", "must be a non-empty array")
			}
			cr.equals = e.Array()
			n++
		}
		if e := r.Get("contains"); e.Exists() {
			if e.IsArray() {
				cr.has = e.Array()
			} else {
				cr.has = []gjson.Result{e}
			}
			n++
		}
		if n != 1 {
			c.fail(rp, "needs exactly one of \"equals\", \"one_of\" or \"contains\"")
		}
		out = append(out, cr)
	}
	return out
}
