package gate

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/tidwall/gjson"
)

// maxRequirementDepth bounds the nesting of any_of and all_of, so that a
// requirement is read and evaluated in bounded time and stack.
const maxRequirementDepth = 4

// requirement is what a rule asks of a verified token, beyond the provider's
// own checks: every listed condition must hold, all of all_of and at least
// one of any_of (jwt_authn's requires_all and requires_any).
type requirement struct {
	audID     int // pathID of "aud", when audiences are set
	audiences []string
	scopes    []tstring
	roles     []tstring
	claims    []claimCheck
	allOf     []*requirement
	anyOf     []*requirement
}

// claimCheck is one entry of requires.claims.
type claimCheck struct {
	path   string
	id     int // compiler.pathID(path)
	op     claimOp
	value  tstring      // equals, contains, prefix: a string, captures allowed
	json   gjson.Result // equals, contains: a value that is not a string
	isJSON bool
	re     *regexp.Regexp
	exists bool
	desc   string // for traces, e.g. `models contains "{model}"`
}

type claimOp uint8

const (
	opEquals claimOp = iota
	opContains
	opPrefix
	opRegex
	opExists
)

var requirementFields = []string{"providers", "audiences", "scopes", "roles", "claims", "any_of", "all_of"}

// requirement reads a requirement object; top is true for the rule's own
// "requires", which may also name providers.
func (c *compiler) requirement(path string, v gjson.Result, names []string, provs []*provider, depth int) *requirement {
	fields := requirementFields
	if depth > 0 {
		fields = fields[1:]
	}
	if !c.fields(path, v, fields...) {
		return nil
	}
	if depth > maxRequirementDepth {
		c.fail(path, "any_of and all_of nest at most "+strconv.Itoa(maxRequirementDepth)+" levels deep")
		return nil
	}
	q := &requirement{audiences: c.strings(path+".audiences", v.Get("audiences"))}
	if v.Get("audiences").Exists() && len(q.audiences) == 0 {
		c.fail(path+".audiences", "must list at least one audience")
	}
	if len(q.audiences) > 0 {
		q.audID = c.pathID("aud")
	}
	q.scopes = c.tstrings(path+".scopes", v.Get("scopes"), names)
	for i, s := range q.scopes {
		if !quotable(s.text) || strings.ContainsRune(s.text, ' ') {
			c.fail(path+".scopes["+strconv.Itoa(i)+"]", "a scope is printable ASCII without spaces, quotes or backslashes")
		}
	}
	q.roles = c.tstrings(path+".roles", v.Get("roles"), names)
	if cs := v.Get("claims"); cs.Exists() {
		if !cs.IsArray() {
			c.fail(path+".claims", "must be an array of {\"claim\", \"equals\" | \"contains\" | \"prefix\" | \"regex\" | \"exists\"}")
			return nil
		}
		for i, e := range cs.Array() {
			q.claims = append(q.claims, c.claimCheck(path+".claims["+strconv.Itoa(i)+"]", e, names))
		}
	}
	for _, group := range [...]struct {
		name string
		into *[]*requirement
	}{{"all_of", &q.allOf}, {"any_of", &q.anyOf}} {
		list := v.Get(group.name)
		if !list.Exists() {
			continue
		}
		if !list.IsArray() || len(list.Array()) == 0 {
			c.fail(path+"."+group.name, "must be a non-empty array of requirement objects")
			return nil
		}
		for i, e := range list.Array() {
			sub := c.requirement(path+"."+group.name+"["+strconv.Itoa(i)+"]", e, names, provs, depth+1)
			if c.err != nil {
				return nil
			}
			*group.into = append(*group.into, sub)
		}
	}
	if c.err != nil {
		return nil
	}
	if depth > 0 && q.empty() {
		c.fail(path, "is empty: an alternative needs at least one condition (an empty one would always hold)")
		return nil
	}
	for _, p := range provs {
		if p.passphrase != nil {
			for _, f := range [...]struct {
				name string
				set  bool
			}{{"scopes", len(q.scopes) > 0}, {"roles", len(q.roles) > 0}, {"claims", len(q.claims) > 0}, {"audiences", len(q.audiences) > 0}} {
				if f.set {
					c.fail(path+"."+f.name, "provider "+strconv.Quote(p.name)+" is a passphrase and grants no scopes, roles or claims")
					return nil
				}
			}
		} else if len(q.roles) > 0 && len(p.roleClaims) == 0 {
			c.fail(path+".roles", "provider "+strconv.Quote(p.name)+" has no role_claims; set \"role_claims\" (e.g. [\"realm_access.roles\"]) or a \"preset\"")
			return nil
		}
	}
	return q
}

func (c *compiler) tstrings(path string, v gjson.Result, names []string) []tstring {
	var out []tstring
	for i, s := range c.strings(path, v) {
		t, msg := parseTString(s, names)
		if msg != "" {
			c.fail(path+"["+strconv.Itoa(i)+"]", msg)
			return nil
		}
		out = append(out, t)
	}
	return out
}

func (c *compiler) claimCheck(path string, v gjson.Result, names []string) claimCheck {
	if !c.fields(path, v, "claim", "equals", "contains", "prefix", "regex", "exists") {
		return claimCheck{}
	}
	cc := claimCheck{path: c.str(path+".claim", v.Get("claim"), "")}
	if cc.path == "" {
		c.fail(path+".claim", "is required: a claim name or dotted path, e.g. \"realm_access.roles\"")
	}
	cc.id = c.pathID(cc.path)
	n := 0
	value := func(op claimOp, name string, e gjson.Result) {
		n++
		cc.op = op
		switch {
		case e.Type == gjson.String:
			t, msg := parseTString(e.Str, names)
			if msg != "" {
				c.fail(path+"."+name, msg)
			}
			cc.value = t
			cc.desc = cc.path + " " + name + " " + strconv.Quote(e.Str)
		case op == opPrefix:
			c.fail(path+".prefix", "must be a string")
		case e.IsObject() || e.IsArray() && op == opContains:
			c.fail(path+"."+name, "must be a string, number, boolean or null (list several values as several claims entries)")
		default:
			cc.json, cc.isJSON = e, true
			cc.desc = cc.path + " " + name + " " + compact(e.Raw)
		}
	}
	if e := v.Get("equals"); e.Exists() {
		value(opEquals, "equals", e)
	}
	if e := v.Get("contains"); e.Exists() {
		value(opContains, "contains", e)
	}
	if e := v.Get("prefix"); e.Exists() {
		value(opPrefix, "prefix", e)
	}
	if e := v.Get("regex"); e.Exists() {
		n++
		cc.op = opRegex
		expr := c.str(path+".regex", e, "")
		if strings.ContainsAny(expr, "{") && hasCaptureRef(expr, names) {
			c.fail(path+".regex", "cannot use captures: regexes are compiled once, with the configuration; use \"equals\", \"prefix\" or \"contains\"")
		}
		re, err := regexp.Compile(`^(?:` + expr + `)$`)
		if err != nil {
			c.fail(path+".regex", "not a valid RE2 regex: "+err.Error())
		}
		cc.re = re
		cc.desc = cc.path + " regex " + strconv.Quote(expr)
	}
	if e := v.Get("exists"); e.Exists() {
		n++
		cc.op = opExists
		cc.exists = c.boolean(path+".exists", e, true)
		cc.desc = cc.path + " exists " + strconv.FormatBool(cc.exists)
	}
	if n != 1 && c.err == nil {
		c.fail(path, "needs exactly one of \"equals\", \"contains\", \"prefix\", \"regex\" or \"exists\"")
	}
	return cc
}

// hasCaptureRef reports whether expr holds "{name}" for one of names.
func hasCaptureRef(expr string, names []string) bool {
	for _, n := range names {
		if strings.Contains(expr, "{"+n+"}") {
			return true
		}
	}
	return false
}

// failure is why a requirement does not hold (err nil: it holds): the error,
// and for a missing scope the requirement whose scopes the challenge lists.
// It is returned by value so that evaluating alternatives never allocates.
type failure struct {
	err    *Error
	scopes *requirement
}

// eval checks q against a verified token. It does not allocate unless tr is
// set: a cached request with requirements costs lookups in the claims only.
//
// vals are the token's values at the gate's claim paths (compiler.pathID),
// looked up once per token.
func (q *requirement) eval(vals []gjson.Result, p *provider, caps *captures, tr *Trace) failure {
	if len(q.audiences) > 0 {
		err := audienceIn(vals[q.audID], q.audiences)
		if tr != nil {
			tr.check("audience one of "+strings.Join(q.audiences, ", "), err == nil)
		}
		if err != nil {
			return failure{err: ErrAudienceMissing}
		}
	}
	for i := range q.scopes {
		ok := p.hasScope(vals, &q.scopes[i], caps)
		if tr != nil {
			tr.check("scope "+strconv.Quote(q.scopes[i].render(caps)), ok)
		}
		if !ok {
			return failure{err: ErrScopeMissing, scopes: q}
		}
	}
	for i := range q.roles {
		ok := p.hasRole(vals, &q.roles[i], caps)
		if tr != nil {
			tr.check("role "+strconv.Quote(q.roles[i].render(caps))+" in "+strings.Join(p.roleClaims, ", "), ok)
		}
		if !ok {
			return failure{err: ErrRoleMissing}
		}
	}
	for i := range q.claims {
		ok := q.claims[i].holds(vals, caps)
		if tr != nil {
			tr.check("claim "+q.claims[i].describe(caps), ok)
		}
		if !ok {
			return failure{err: ErrClaimRequirement}
		}
	}
	for i, sub := range q.allOf {
		if tr != nil {
			tr.enter("all_of[" + strconv.Itoa(i) + "]")
		}
		f := sub.eval(vals, p, caps, tr)
		tr.leave()
		if f.err != nil {
			return f
		}
	}
	if len(q.anyOf) > 0 {
		var first failure
		for i, sub := range q.anyOf {
			if tr != nil {
				tr.enter("any_of[" + strconv.Itoa(i) + "]")
			}
			f := sub.eval(vals, p, caps, tr)
			tr.leave()
			if f.err == nil {
				first = f
				break
			}
			if first.err == nil {
				first = f
			}
		}
		if first.err != nil {
			// None holds: the answer is the first alternative's, so that
			// it is the same for every request of this shape.
			return first
		}
	}
	return failure{}
}

// challengeScopes lists, for an insufficient_scope challenge, the scopes of
// the requirement that failed, with the captures filled in.
func (f *failure) challengeScopes(caps *captures) string {
	if f.scopes == nil {
		return ""
	}
	var b strings.Builder
	for i := range f.scopes.scopes {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(f.scopes.scopes[i].render(caps))
	}
	return b.String()
}

// hasScope reads the provider's scope claims ("scope" and "scp" unless
// configured): each a space-delimited string or an array of strings.
func (p *provider) hasScope(vals []gjson.Result, want *tstring, caps *captures) bool {
	for _, id := range p.scopeIDs {
		if hasTValue(vals[id], want, caps) {
			return true
		}
	}
	return false
}

// hasRole reads the provider's role claims, the same way.
func (p *provider) hasRole(vals []gjson.Result, want *tstring, caps *captures) bool {
	for _, id := range p.roleIDs {
		if hasTValue(vals[id], want, caps) {
			return true
		}
	}
	return false
}

// hasTValue is hasValue for a string with captures.
func hasTValue(v gjson.Result, want *tstring, caps *captures) bool {
	switch {
	case v.Type == gjson.String:
		for f := v.Str; f != ""; {
			var word string
			word, f, _ = strings.Cut(f, " ")
			if want.equal(word, caps) {
				return true
			}
		}
	case v.IsArray():
		found := false
		v.ForEach(func(_, e gjson.Result) bool {
			found = e.Type == gjson.String && want.equal(e.Str, caps)
			return !found
		})
		return found
	}
	return false
}

// holds applies one claim check. Strings compare exactly; "contains" looks
// in an array or a space-delimited string; "prefix" and "regex" take a
// string claim, or an array with at least one string that passes.
func (cc *claimCheck) holds(vals []gjson.Result, caps *captures) bool {
	v := vals[cc.id]
	if cc.op == opExists {
		return v.Exists() == cc.exists
	}
	if !v.Exists() {
		return false
	}
	switch cc.op {
	case opEquals:
		if cc.isJSON {
			return sameJSON(v, cc.json)
		}
		return v.Type == gjson.String && cc.value.equal(v.Str, caps)
	case opContains:
		if !cc.isJSON {
			return hasTValue(v, &cc.value, caps)
		}
		found := false
		v.ForEach(func(_, e gjson.Result) bool {
			found = sameJSON(e, cc.json)
			return !found
		})
		return v.IsArray() && found
	}
	one := func(s string) bool {
		if cc.op == opPrefix {
			return cc.value.prefixOf(s, caps)
		}
		return cc.re.MatchString(s)
	}
	if v.Type == gjson.String {
		return one(v.Str)
	}
	found := false
	if v.IsArray() {
		v.ForEach(func(_, e gjson.Result) bool {
			found = e.Type == gjson.String && one(e.Str)
			return !found
		})
	}
	return found
}

// describe renders the check for a trace, with the captures filled in.
func (cc *claimCheck) describe(caps *captures) string {
	if cc.value.parts == nil {
		return cc.desc
	}
	return cc.desc + " (" + strconv.Quote(cc.value.render(caps)) + ")"
}

// audienceIn is the audience rule: aud (a string or an array of strings)
// must hold one of want.
func audienceIn(aud gjson.Result, want []string) error {
	switch {
	case aud.Type == gjson.String:
		for _, w := range want {
			if w == aud.Str {
				return nil
			}
		}
	case aud.IsArray():
		ok, malformed := false, false
		aud.ForEach(func(_, a gjson.Result) bool {
			if a.Type != gjson.String {
				malformed = true
				return false
			}
			for _, w := range want {
				ok = ok || w == a.Str
			}
			return true
		})
		if malformed {
			return ErrClaimsMalformed
		}
		if ok {
			return nil
		}
	case aud.Exists():
		return ErrClaimsMalformed
	}
	return ErrAudienceNotAccepted
}
