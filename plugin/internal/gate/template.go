package gate

import (
	"regexp"
	"regexp/syntax"
	"strings"
)

// maxCaptures bounds the captures of one path template, so that a request
// holds them in a fixed array and matching never allocates.
const maxCaptures = 8

// captures are the values a path template took from the request path:
// substrings of the canonical path, indexed like the rule's capture names.
type captures [maxCaptures]string

// pathTemplate is a compiled match.path_template such as
// "/v2/models/{model}/infer" or "/files/{path...}". Each capture is one
// whole, non-empty segment, never "." or ".."; a final "{name...}" takes the
// rest of the path (one or more segments). Matching ignores one trailing
// slash on either side, like match.path.
type pathTemplate struct {
	segs  []string // literal segments; "" where a capture is
	isCap []bool
	rest  bool     // the last segment is "{name...}"
	names []string // capture names, in order
}

// compileTemplate parses a path template; on failure it returns what is
// wrong, for an error naming the field.
func compileTemplate(tmpl string) (*pathTemplate, string) {
	if tmpl == "" || tmpl[0] != '/' {
		return nil, "must start with \"/\""
	}
	t := &pathTemplate{}
	body := trimSlash(tmpl)[1:]
	if body == "" {
		return t, "" // "/": the root only
	}
	// The literal parts must be canonical (path.go): a template with "..",
	// "//" or "%61" could never match a canonical request path.
	var probe strings.Builder
	segs := strings.Split(body, "/")
	for i, seg := range segs {
		probe.WriteByte('/')
		if !strings.ContainsAny(seg, "{}") {
			t.segs, t.isCap = append(t.segs, seg), append(t.isCap, false)
			probe.WriteString(seg)
			continue
		}
		if len(seg) < 3 || seg[0] != '{' || seg[len(seg)-1] != '}' {
			return nil, "segment " + quote(seg) + ": a capture is a whole segment, \"{name}\" or a final \"{name...}\""
		}
		name := seg[1 : len(seg)-1]
		if n, ok := strings.CutSuffix(name, "..."); ok {
			if i != len(segs)-1 {
				return nil, "\"{" + name + "}\" takes the rest of the path and must be the last segment"
			}
			name, t.rest = n, true
		}
		if !captureName(name) {
			return nil, "capture " + quote(name) + ": a name is letters, digits and \"_\", not starting with a digit"
		}
		for _, other := range t.names {
			if other == name {
				return nil, "capture " + quote(name) + " is defined twice"
			}
		}
		if len(t.names) == maxCaptures {
			return nil, "at most 8 captures"
		}
		t.names = append(t.names, name)
		t.segs, t.isCap = append(t.segs, ""), append(t.isCap, true)
		probe.WriteString("x")
	}
	if p := probe.String(); !isCanonical(p) {
		return nil, "must be a canonical path apart from its captures: without empty or dot segments, \";\", backslashes or encoded unreserved characters, escapes in upper case"
	}
	return t, ""
}

func captureName(s string) bool {
	if s == "" || '0' <= s[0] && s[0] <= '9' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

func isCanonical(p string) bool {
	canon, ok := canonicalPath(p, false)
	return ok && canon == p
}

// match matches a canonical request path and fills caps.
func (t *pathTemplate) match(path string, caps *captures) bool {
	p := trimSlash(path)
	if p == "" || p[0] != '/' {
		return false
	}
	if len(t.segs) == 0 {
		return p == "/"
	}
	rest, n := p[1:], 0
	for i, lit := range t.segs {
		last := i == len(t.segs)-1
		if last && t.rest {
			if !wholeSegments(rest) {
				return false
			}
			caps[n] = rest
			return true
		}
		seg, more, found := strings.Cut(rest, "/")
		if t.isCap[i] {
			// Canonical paths have no empty or dot segments; the check
			// stays here so that a capture can never be one, whatever
			// reaches this function.
			if seg == "" || seg == "." || seg == ".." {
				return false
			}
			caps[n] = seg
			n++
		} else if seg != lit {
			return false
		}
		if last {
			return !found
		}
		if !found {
			return false
		}
		rest = more
	}
	return false
}

// wholeSegments reports whether s is one or more segments, none empty, "."
// or "..".
func wholeSegments(s string) bool {
	if s == "" {
		return false
	}
	for s != "" {
		seg, more, _ := strings.Cut(s, "/")
		if seg == "" || seg == "." || seg == ".." {
			return false
		}
		s = more
	}
	return true
}

// compileRegex compiles match.regex, anchored at both ends, and refuses a
// regex that can never match a request path (every path starts with "/") or
// that has named groups (captures come from path templates, whose values are
// checked to be whole segments).
func compileRegex(expr string) (*regexp.Regexp, string) {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return nil, "not a valid RE2 regex: " + err.Error()
	}
	if named(re) {
		return nil, "named groups are not supported; use \"path_template\" to capture segments"
	}
	if !matchable(re) {
		return nil, "can never match anything"
	}
	if can, _ := canStartWith(re, '/'); !can {
		return nil, "can never match a request path: paths start with \"/\" and the regex is anchored"
	}
	compiled, err := regexp.Compile(`^(?:` + expr + `)$`)
	if err != nil {
		return nil, "not a valid RE2 regex: " + err.Error()
	}
	return compiled, ""
}

func named(re *syntax.Regexp) bool {
	if re.Op == syntax.OpCapture && re.Name != "" {
		return true
	}
	for _, s := range re.Sub {
		if named(s) {
			return true
		}
	}
	return false
}

// matchable reports whether re matches at least one string (ignoring
// anchors in the middle, which only make this answer generous).
func matchable(re *syntax.Regexp) bool {
	switch re.Op {
	case syntax.OpNoMatch:
		return false
	case syntax.OpCharClass:
		return len(re.Rune) > 0
	case syntax.OpConcat:
		for _, s := range re.Sub {
			if !matchable(s) {
				return false
			}
		}
		return true
	case syntax.OpAlternate:
		for _, s := range re.Sub {
			if matchable(s) {
				return true
			}
		}
		return false
	case syntax.OpCapture, syntax.OpPlus:
		return matchable(re.Sub[0])
	case syntax.OpRepeat:
		return re.Min == 0 || matchable(re.Sub[0])
	}
	return true
}

// canStartWith reports whether a string matched by re can start with c, and
// whether re matches the empty string.
func canStartWith(re *syntax.Regexp, c rune) (can, empty bool) {
	switch re.Op {
	case syntax.OpNoMatch:
		return false, false
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText, syntax.OpEndText,
		syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return false, true
	case syntax.OpLiteral:
		if len(re.Rune) == 0 {
			return false, true
		}
		return re.Rune[0] == c, false
	case syntax.OpCharClass:
		for i := 0; i+1 < len(re.Rune); i += 2 {
			if re.Rune[i] <= c && c <= re.Rune[i+1] {
				return true, false
			}
		}
		return false, false
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return true, false
	case syntax.OpCapture, syntax.OpPlus:
		return canStartWith(re.Sub[0], c)
	case syntax.OpStar, syntax.OpQuest:
		can, _ := canStartWith(re.Sub[0], c)
		return can, true
	case syntax.OpRepeat:
		can, empty := canStartWith(re.Sub[0], c)
		return can, empty || re.Min == 0
	case syntax.OpConcat:
		for _, s := range re.Sub {
			sc, se := canStartWith(s, c)
			can = can || sc
			if !se {
				return can, false
			}
		}
		return can, true
	case syntax.OpAlternate:
		for _, s := range re.Sub {
			sc, se := canStartWith(s, c)
			can, empty = can || sc, empty || se
		}
		return can, empty
	}
	return true, true
}

// hostMatch is a compiled match.host: an exact name, or "*.example.com",
// which matches any name ending in ".example.com" (one label or more).
type hostMatch struct {
	name     string // lower case; for a wildcard, the suffix with its dot
	wildcard bool
}

func compileHost(h string) (hostMatch, string) {
	h = strings.ToLower(h)
	m := hostMatch{name: h}
	if rest, ok := strings.CutPrefix(h, "*."); ok {
		m = hostMatch{name: h[1:], wildcard: true}
		h = rest
	}
	if h == "" || strings.ContainsAny(h, "*:/") && !(h[0] == '[' && h[len(h)-1] == ']') {
		return m, "must be a host name without port, or \"*.\" followed by one (e.g. \"api.example.com\", \"*.example.com\")"
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '[' || c == ']' || c == ':') {
			return m, "must be a host name without port, or \"*.\" followed by one (e.g. \"api.example.com\", \"*.example.com\")"
		}
	}
	if strings.HasSuffix(h, ".") || strings.HasPrefix(h, ".") || strings.Contains(h, "..") {
		return m, "must not start or end with \".\" or hold an empty label"
	}
	return m, ""
}

// matches compares the request's authority, without its port and one
// trailing dot, case-insensitively.
func (m *hostMatch) matches(authority string) bool {
	host := authority
	if strings.HasPrefix(host, "[") {
		if i := strings.IndexByte(host, ']'); i > 0 {
			host = host[:i+1]
		}
	} else if i := strings.IndexByte(host, ':'); i >= 0 {
		host = host[:i]
	}
	host = strings.TrimSuffix(host, ".")
	if !m.wildcard {
		return strings.EqualFold(host, m.name)
	}
	return len(host) > len(m.name) && strings.EqualFold(host[len(host)-len(m.name):], m.name)
}

// tstring is a string of a requirement that may use the rule's captures,
// e.g. "infer:{model}". It is compared with token values part by part, so
// that a request never builds the string.
type tstring struct {
	text  string  // as configured
	parts []tpart // nil: text holds no capture
}

type tpart struct {
	lit string
	cap int // index into captures; -1 for a literal part
}

// parseTString reads s; names are the rule's captures. On failure it returns
// what is wrong.
func parseTString(s string, names []string) (tstring, string) {
	t := tstring{text: s}
	if !strings.ContainsAny(s, "{}") {
		return t, ""
	}
	for rest := s; rest != ""; {
		open := strings.IndexByte(rest, '{')
		if close := strings.IndexByte(rest, '}'); close >= 0 && (open < 0 || close < open) {
			return t, "has a \"}\" without \"{\""
		}
		if open < 0 {
			t.parts = append(t.parts, tpart{lit: rest, cap: -1})
			break
		}
		if open > 0 {
			t.parts = append(t.parts, tpart{lit: rest[:open], cap: -1})
		}
		end := strings.IndexByte(rest[open:], '}')
		if end < 0 {
			return t, "has a \"{\" without \"}\""
		}
		name := rest[open+1 : open+end]
		idx := -1
		for i, n := range names {
			if n == name {
				idx = i
			}
		}
		if idx < 0 {
			have := "it captures nothing; use match.path_template"
			if len(names) > 0 {
				have = "it captures " + strings.Join(names, ", ")
			}
			return t, "uses {" + name + "}, which the rule's match does not capture (" + have + ")"
		}
		t.parts = append(t.parts, tpart{cap: idx})
		rest = rest[open+end+1:]
	}
	return t, ""
}

// equal reports whether s is t with the captures filled in.
func (t *tstring) equal(s string, caps *captures) bool {
	if t.parts == nil {
		return s == t.text
	}
	for _, p := range t.parts {
		v := p.lit
		if p.cap >= 0 {
			v = caps[p.cap]
		}
		if !strings.HasPrefix(s, v) {
			return false
		}
		s = s[len(v):]
	}
	return s == ""
}

// prefixOf reports whether t, with the captures filled in, starts s.
func (t *tstring) prefixOf(s string, caps *captures) bool {
	if t.parts == nil {
		return strings.HasPrefix(s, t.text)
	}
	for _, p := range t.parts {
		v := p.lit
		if p.cap >= 0 {
			v = caps[p.cap]
		}
		if !strings.HasPrefix(s, v) {
			return false
		}
		s = s[len(v):]
	}
	return true
}

// render fills in the captures, for challenges and traces.
func (t *tstring) render(caps *captures) string {
	if t.parts == nil {
		return t.text
	}
	var b strings.Builder
	for _, p := range t.parts {
		if p.cap >= 0 {
			b.WriteString(caps[p.cap])
		} else {
			b.WriteString(p.lit)
		}
	}
	return b.String()
}

func quote(s string) string { return `"` + s + `"` }
