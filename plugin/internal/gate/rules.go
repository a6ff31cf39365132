package gate

import (
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/tidwall/gjson"
)

// rule is one entry of "rules": a match and what it requires.
type rule struct {
	prefix   string
	path     string
	template *pathTemplate  // match.path_template; its captures feed the requirements
	regex    *regexp.Regexp // match.regex, anchored
	host     *hostMatch
	methods  []string
	headers  []headerMatch
	text     string // the match object as configured, for Explain and Lint

	requires     bool         // false: the request passes unauthenticated
	providers    []*provider  // any one must verify the token
	sources      []source     // where those providers read tokens, deduplicated
	need         *requirement // what the verified token must hold; nil: nothing more
	allowMissing bool         // no token: pass unauthenticated; a bad token is still refused
	preflight    bool         // CORS preflight requests pass unauthenticated
	dryRun       bool         // report refusals, let the requests through
	sessions     []*login     // the sign-ins of the providers it accepts: the session cookies it reads (login.go)
	login        *login       // the sign-in a browser without a credential is sent to; nil: none

	removals [][]string // by source: the usual RemoveHeaders of a credential from it (headerRemovals)
}

type headerMatch struct {
	name, exact, prefix string
	present             bool
}

func (c *compiler) rule(path string, v gjson.Result, g *Gate) *rule {
	if !c.fields(path, v, "match", "requires", "allow_missing", "bypass_cors_preflight", "dry_run", "login") {
		return nil
	}
	r := &rule{}
	m := v.Get("match")
	if !m.Exists() {
		c.fail(path+".match", "is required (e.g. {\"prefix\": \"/\"})")
		return nil
	}
	if !c.fields(path+".match", m, "prefix", "path", "path_template", "regex", "host", "methods", "headers") {
		return nil
	}
	r.text = compact(m.Raw)
	r.prefix = c.str(path+".match.prefix", m.Get("prefix"), "")
	r.path = c.str(path+".match.path", m.Get("path"), "")
	if t := m.Get("path_template"); t.Exists() {
		tmpl, msg := compileTemplate(c.str(path+".match.path_template", t, ""))
		if msg != "" {
			c.fail(path+".match.path_template", msg)
			return nil
		}
		r.template = tmpl
	}
	if e := m.Get("regex"); e.Exists() {
		re, msg := compileRegex(c.str(path+".match.regex", e, ""))
		if msg != "" {
			c.fail(path+".match.regex", msg)
			return nil
		}
		r.regex = re
	}
	n := 0
	for _, set := range []bool{r.prefix != "", r.path != "", r.template != nil, r.regex != nil} {
		if set {
			n++
		}
	}
	if h := m.Get("host"); h.Exists() {
		hm, msg := compileHost(c.str(path+".match.host", h, ""))
		if msg != "" {
			c.fail(path+".match.host", msg)
			return nil
		}
		r.host = &hm
	}
	if n > 1 || n == 0 && r.host == nil {
		c.fail(path+".match", "needs one of \"prefix\", \"path\", \"path_template\" or \"regex\" (only \"host\" may stand alone)")
		return nil
	}
	for _, f := range [...]struct{ name, p string }{{"prefix", r.prefix}, {"path", r.path}} {
		if f.p == "" {
			continue
		}
		// Rules are written in the canonical form requests are matched in;
		// anything else could never match.
		if canon, ok := canonicalPath(f.p, false); !ok || canon != f.p {
			c.fail(path+".match."+f.name, "must be a canonical path: starting with \"/\", without empty or dot segments, \";\", backslashes or encoded unreserved characters, escapes in upper case")
		}
	}
	for _, meth := range c.strings(path+".match.methods", m.Get("methods")) {
		meth = strings.ToUpper(meth)
		r.methods = append(r.methods, meth)
		// Servers answer HEAD with their GET handler.
		if meth == "GET" && !slices.Contains(r.methods, "HEAD") {
			r.methods = append(r.methods, "HEAD")
		}
	}
	if len(r.methods) > 0 {
		g.methodRules = true
	}
	if hs := m.Get("headers"); hs.Exists() {
		if !hs.IsArray() {
			c.fail(path+".match.headers", "must be an array of {\"name\", \"exact\" | \"prefix\" | \"present\"}")
			return nil
		}
		for i, h := range hs.Array() {
			hp := path + ".match.headers[" + strconv.Itoa(i) + "]"
			if !c.fields(hp, h, "name", "exact", "prefix", "present") {
				return nil
			}
			hm := headerMatch{name: strings.ToLower(c.str(hp+".name", h.Get("name"), ""))}
			if hm.name == "" {
				c.fail(hp+".name", "is required")
			}
			n := 0
			if e := h.Get("exact"); e.Exists() {
				hm.exact = c.str(hp+".exact", e, "")
				n++
			}
			if e := h.Get("prefix"); e.Exists() {
				hm.prefix = c.str(hp+".prefix", e, "")
				n++
			}
			if e := h.Get("present"); e.Exists() {
				hm.present = c.boolean(hp+".present", e, false)
				if !hm.present {
					c.fail(hp+".present", "must be true (a rule cannot match on an absent header)")
				}
				n++
			}
			if n != 1 {
				c.fail(hp, "needs exactly one of \"exact\", \"prefix\" or \"present\"")
			}
			r.headers = append(r.headers, hm)
		}
	}
	r.allowMissing = c.boolean(path+".allow_missing", v.Get("allow_missing"), false)
	r.preflight = c.boolean(path+".bypass_cors_preflight", v.Get("bypass_cors_preflight"), false)
	r.dryRun = c.boolean(path+".dry_run", v.Get("dry_run"), false)
	req := v.Get("requires")
	if !req.Exists() {
		if r.allowMissing {
			c.fail(path+".allow_missing", "needs \"requires\"")
		}
		return r
	}
	if !c.fields(path+".requires", req, requirementFields...) {
		return nil
	}
	r.requires = true
	names := c.strings(path+".requires.providers", req.Get("providers"))
	if names == nil {
		r.providers = g.providers
	}
	for i, n := range names {
		p := g.provider(n)
		if p == nil {
			c.fail(path+".requires.providers["+strconv.Itoa(i)+"]", "unknown provider "+strconv.Quote(n))
			return nil
		}
		r.providers = append(r.providers, p)
	}
	r.sources = ruleSources(r.providers)
	if len(r.sources) > maxSources {
		c.fail(path+".requires.providers", "these providers read tokens from more than "+strconv.Itoa(maxSources)+" places; use fewer from_* entries")
	}
	var capNames []string
	if r.template != nil {
		capNames = r.template.names
	}
	need := c.requirement(path+".requires", req, capNames, r.providers, 0)
	if need != nil && !need.empty() {
		r.need = need
	}
	return r
}

func (q *requirement) empty() bool {
	return len(q.audiences) == 0 && len(q.scopes) == 0 && len(q.roles) == 0 && len(q.claims) == 0 &&
		len(q.allOf) == 0 && len(q.anyOf) == 0
}

func (g *Gate) provider(name string) *provider {
	for _, p := range g.providers {
		if p.name == name {
			return p
		}
	}
	return nil
}

// matches reports whether the rule applies to a request.
func (r *rule) matches(req *request) bool {
	if r.host != nil && !r.host.matches(req.authority) {
		return false
	}
	if r.path != "" && !samePath(r.path, req.path) {
		return false
	}
	if r.prefix != "" && !hasPathPrefix(req.path, r.prefix) {
		return false
	}
	if len(r.methods) > 0 {
		ok := false
		for _, m := range r.methods {
			if m == req.methodUpper {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	for _, h := range r.headers {
		if !h.matches(req) {
			return false
		}
	}
	if r.template != nil && !r.template.match(req.path, &req.caps) {
		return false
	}
	if r.regex != nil && !r.regex.MatchString(req.path) {
		return false
	}
	return true
}

// hasPathPrefix matches whole path segments: "/v1/score" matches "/v1/score"
// and "/v1/score/batch" but not "/v1/scores", so that a public prefix never
// opens a neighbour by accident. A prefix ending in "/" matches as a plain
// prefix.
func hasPathPrefix(path, prefix string) bool {
	if !strings.HasPrefix(path, prefix) {
		return false
	}
	return len(path) == len(prefix) || prefix[len(prefix)-1] == '/' || path[len(prefix)] == '/'
}

func (h *headerMatch) matches(req *request) bool {
	for _, kv := range req.headers {
		if !strings.EqualFold(kv[0], h.name) {
			continue
		}
		switch {
		case h.present:
			return true
		case h.prefix != "" && strings.HasPrefix(kv[1], h.prefix):
			return true
		case h.prefix == "" && kv[1] == h.exact:
			return true
		}
	}
	return false
}
