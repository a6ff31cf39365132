package gate

import (
	"slices"
	"strconv"
	"strings"
)

// Finding is something Lint flags in a configuration the gate accepts: a
// policy that is weaker than it looks, or a rule that can never decide.
type Finding struct {
	Field   string // the JSON path, e.g. "providers.corp.audiences" or "rules[3]"
	Message string // what is wrong and what to do
}

func (f Finding) String() string { return f.Field + ": " + f.Message }

// Lint compiles a configuration like Compile and reports what it accepts but
// should not be relied on: providers without audiences, with ID tokens
// accepted or without a lifetime limit, and rules that no request can reach
// because an earlier rule takes every request they match. An error means the
// configuration is refused (which includes captures used but not defined);
// the error names the field.
func Lint(config []byte) ([]Finding, error) {
	g, _, err := Compile(config)
	if err != nil {
		return nil, err
	}
	var out []Finding
	for _, p := range g.providers {
		if p.passphrase != nil {
			continue
		}
		path := "providers." + p.name
		if len(p.audiences) == 0 {
			out = append(out, Finding{path + ".audiences", "not set: tokens the issuer mints for any other application are accepted here; list this API's audience (the client id or App ID URI)"})
		}
		out = append(out, p.lintIntrospection(path)...) // introspect.go
		if len(p.types) == 0 && !p.refuseIDTokens && p.introspect == nil {
			out = append(out, Finding{path, "ID tokens are accepted as access tokens: set \"token_types\": [\"at+jwt\"] if the issuer marks access tokens (RFC 9068), or a \"preset\", or \"refuse_id_tokens\": true"})
		}
		if p.maxLife == 0 {
			out = append(out, Finding{path + ".max_lifetime_seconds", "not set: a token with a far exp (leaked, or minted by mistake) is accepted until then; set it to the issuer's access-token lifetime"})
		}
	}
	for j, later := range g.rules {
		for i, earlier := range g.rules[:j] {
			if earlier.catchAll() {
				out = append(out, Finding{"rules[" + strconv.Itoa(j) + "]", "unreachable: rules[" + strconv.Itoa(i) + "] " + earlier.text + " matches every request first; move this rule above it"})
				break
			}
			if earlier.covers(later) {
				out = append(out, Finding{"rules[" + strconv.Itoa(j) + "]", "shadowed by rules[" + strconv.Itoa(i) + "] " + earlier.text + ", which matches every request this rule matches and is tried first; move this rule above it or narrow the earlier one"})
				break
			}
		}
	}
	return out, nil
}

// catchAll reports whether r matches every request.
func (r *rule) catchAll() bool {
	return (r.prefix == "/" || r.onlyHost()) && r.host == nil && len(r.methods) == 0 && len(r.headers) == 0
}

// onlyHost reports whether r has no path condition.
func (r *rule) onlyHost() bool {
	return r.prefix == "" && r.path == "" && r.template == nil && r.regex == nil
}

// covers reports whether every request later matches, r matches too:
// r's path condition is a prefix covering later's, and r has no method,
// header or host condition that later does not have as well.
func (r *rule) covers(later *rule) bool {
	if r.path != "" || r.template != nil || r.regex != nil {
		return false
	}
	if r.prefix != "" {
		head := later.pathHead()
		if head == "" || !hasPathPrefix(head, r.prefix) {
			return false
		}
	}
	if len(r.methods) > 0 && (len(later.methods) == 0 || slices.ContainsFunc(later.methods, func(m string) bool { return !slices.Contains(r.methods, m) })) {
		return false
	}
	for _, h := range r.headers {
		if !slices.Contains(later.headers, h) {
			return false
		}
	}
	return r.host == nil || later.host != nil && *later.host == *r.host
}

// pathHead is a path that starts every path r matches, on a segment
// boundary, or "" when there is none to tell.
func (r *rule) pathHead() string {
	switch {
	case r.prefix != "":
		return r.prefix
	case r.path != "":
		return trimSlash(r.path)
	case r.template != nil:
		var lits []string
		for i, seg := range r.template.segs {
			if r.template.isCap[i] {
				break
			}
			lits = append(lits, seg)
		}
		return "/" + strings.Join(lits, "/")
	case r.regex != nil:
		lit, complete := r.regex.LiteralPrefix()
		lit = strings.TrimPrefix(strings.TrimPrefix(lit, "^"), "(?:")
		if complete {
			return lit
		}
		// The literal prefix may end inside a segment: keep whole segments.
		if i := strings.LastIndexByte(lit, '/'); i > 0 {
			return lit[:i]
		}
	}
	return ""
}
