package gate

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/tidwall/gjson"
)

// Claims for Envoy (docs/configuration.md, "Claims for Envoy"). With
// "envoy_filter_state" set, an allowed request whose credential was verified
// carries, besides its headers, the facts Envoy's own filters need to act on
// who the caller is: the provider, the token's sub, its granted scopes and
// the configured claims. The plugin writes each as a property (in Envoy the
// filter-state object "wasm.<name>"), where the RBAC filter's filter_state
// matcher and the access log's %FILTER_STATE(...)% read them. Headers would
// do too, but a header is something the upstream sees and a client can try
// to send; filter state is neither.
//
// The values come from the claims looked up once per token (Gate.claimPaths,
// cached with the token), so a cached token costs one short render and
// nothing else; without "envoy_filter_state" there is no render and no host
// call at all.

// maxFilterStateValue bounds one written value, in bytes. A longer one is
// not written: a cut value could match a prefix rule the whole one does not.
const maxFilterStateValue = 1024

// defaultFilterStatePrefix starts every name unless "prefix" says otherwise.
const defaultFilterStatePrefix = "tokengate"

// filterState is the compiled "envoy_filter_state".
type filterState struct {
	provider, sub, scope string // the full property names, e.g. "tokengate.sub"
	subID                int    // pathID of "sub"
	claims               []stateClaim
}

// stateClaim is one entry of envoy_filter_state.claims.
type stateClaim struct {
	name string // the full property name, e.g. "tokengate.tenant"
	id   int    // pathID of the claim path
}

// WritesFilterState reports whether the configuration asks for filter state
// ("envoy_filter_state"), so that a host that cannot write it can refuse the
// configuration instead of silently leaving it out.
func (g *Gate) WritesFilterState() bool { return g.state != nil }

// reservedStateNames are the names the gate writes itself.
var reservedStateNames = []string{"provider", "sub", "scope"}

// filterState reads "envoy_filter_state": {"prefix": "...", "claims": [...]}.
// Each claim is a name ("tenant") or {"claim": "<gjson path>", "name": "..."}.
func (c *compiler) filterState(path string, v gjson.Result) *filterState {
	if !v.Exists() {
		return nil
	}
	if !c.fields(path, v, "prefix", "claims") {
		return nil
	}
	prefix := c.str(path+".prefix", v.Get("prefix"), defaultFilterStatePrefix)
	if !stateName(prefix, true) {
		c.fail(path+".prefix", "must be letters, digits, '_', '-' and inner dots, at most 64 bytes (e.g. \"tokengate\")")
		return nil
	}
	fs := &filterState{provider: prefix + ".provider", sub: prefix + ".sub", scope: prefix + ".scope", subID: c.pathID("sub")}
	cs := v.Get("claims")
	if !cs.Exists() {
		return fs
	}
	if !cs.IsArray() {
		c.fail(path+".claims", "must be an array of claim names or {\"claim\", \"name\"} objects")
		return nil
	}
	seen := map[string]bool{}
	for i, e := range cs.Array() {
		ep := path + ".claims[" + strconv.Itoa(i) + "]"
		var claim, name string
		switch {
		case e.Type == gjson.String:
			claim, name = e.Str, e.Str
			if !stateName(name, false) {
				c.fail(ep, "a claim given by name must be letters, digits, '_' or '-'; for a path such as "+
					"\"realm_access.roles\" write {\"claim\": \"realm_access.roles\", \"name\": \"roles\"}")
				return nil
			}
		case e.IsObject():
			if !c.fields(ep, e, "claim", "name") {
				return nil
			}
			claim, name = c.str(ep+".claim", e.Get("claim"), ""), c.str(ep+".name", e.Get("name"), "")
			if claim == "" {
				c.fail(ep+".claim", "is required (a claim name or gjson path, e.g. \"tenant\" or \"realm_access.roles\")")
				return nil
			}
			if !stateName(name, false) {
				c.fail(ep+".name", "is required: letters, digits, '_' or '-', at most 64 bytes (the property is \""+prefix+".<name>\")")
				return nil
			}
		default:
			c.fail(ep, "must be a claim name or a {\"claim\", \"name\"} object")
			return nil
		}
		for _, r := range reservedStateNames {
			if name == r {
				c.fail(ep, "the name "+strconv.Quote(name)+" is written anyway ("+prefix+"."+name+"); leave it out or choose another name")
				return nil
			}
		}
		if seen[name] {
			c.fail(ep, "the name "+strconv.Quote(name)+" is used twice")
			return nil
		}
		seen[name] = true
		fs.claims = append(fs.claims, stateClaim{name: prefix + "." + name, id: c.pathID(claim)})
	}
	return fs
}

// stateName reports whether s is a valid name part: ASCII letters, digits,
// '_' and '-', and with dots when dotted (never first, last or doubled), at
// most 64 bytes. Envoy's filter-state keys and access-log commands take them
// as they are.
func stateName(s string, dotted bool) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == '-':
		case c == '.' && dotted && i > 0 && i < len(s)-1 && s[i-1] != '.':
		default:
			return false
		}
	}
	return true
}

// render returns the properties to write for a request that provider p
// allowed, from the token's claims at the gate's claim paths (values; nil for
// a passphrase). A value that is missing, holds a control character or
// invalid UTF-8, or is longer than maxFilterStateValue is left out: nothing
// is better than something a matcher could misread.
func (fs *filterState) render(p *provider, values []gjson.Result) [][2]string {
	out := make([][2]string, 0, 3+len(fs.claims))
	out = append(out, [2]string{fs.provider, p.name})
	if values == nil {
		return out
	}
	at := func(id int) gjson.Result {
		if id < len(values) {
			return values[id]
		}
		return gjson.Result{}
	}
	if sub := at(fs.subID); sub.Type == gjson.String && stateValue(sub.Str) {
		out = append(out, [2]string{fs.sub, sub.Str})
	}
	if s := grantedScopeList(p, at); s != "" && stateValue(s) {
		out = append(out, [2]string{fs.scope, s})
	}
	for _, sc := range fs.claims {
		if s, ok := headerValue(at(sc.id)); ok && s != "" && stateValue(s) {
			out = append(out, [2]string{sc.name, s})
		}
	}
	return out
}

// grantedScopeList joins the scopes in the provider's scope_claims, each a
// space-delimited string or an array of strings, with single spaces: the
// OAuth form (RFC 6749 §3.3), so that an RBAC regex or a log reader sees one
// shape whichever claim held them.
func grantedScopeList(p *provider, at func(int) gjson.Result) string {
	var b strings.Builder
	add := func(s string) {
		for _, w := range strings.Split(s, " ") {
			if w == "" {
				continue
			}
			if b.Len() > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(w)
		}
	}
	for _, id := range p.scopeIDs {
		v := at(id)
		switch {
		case v.Type == gjson.String:
			add(v.Str)
		case v.IsArray():
			v.ForEach(func(_, e gjson.Result) bool {
				if e.Type == gjson.String {
					add(e.Str)
				}
				return true
			})
		}
	}
	return b.String()
}

// stateValue reports whether s may be written: valid UTF-8 without control
// characters, at most maxFilterStateValue bytes.
func stateValue(s string) bool {
	if len(s) > maxFilterStateValue || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 || (r >= 0x7f && r < 0xa0) || r == '\u2028' || r == '\u2029' {
			return false
		}
	}
	return true
}
