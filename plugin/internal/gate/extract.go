package gate

import (
	"slices"
	"strconv"
	"strings"
	"unsafe"

	"github.com/tidwall/gjson"
)

// source is one place a token may be presented.
type source struct {
	kind   sourceKind
	name   string // header name (lower case), query parameter or cookie name
	prefix string // header value prefix, e.g. "Bearer " (matched case-insensitively)
}

type sourceKind uint8

const (
	fromHeader sourceKind = iota
	fromParam
	fromCookie
	fromSession // a sign-in's session cookie (login.go): not looked up by extract
)

// authorizationBearer is the default source: RFC 6750 §2.1.
var authorizationBearer = source{kind: fromHeader, name: "authorization", prefix: "Bearer "}

func (c *compiler) sources(path string, v gjson.Result) []source {
	var out []source
	if hs := v.Get("from_headers"); hs.Exists() {
		if !hs.IsArray() {
			c.fail(path+".from_headers", "must be an array of {\"name\", \"value_prefix\"}")
			return nil
		}
		for i, h := range hs.Array() {
			hp := path + ".from_headers[" + strconv.Itoa(i) + "]"
			if !c.fields(hp, h, "name", "value_prefix") {
				return nil
			}
			s := source{kind: fromHeader, name: strings.ToLower(c.str(hp+".name", h.Get("name"), "")),
				prefix: c.str(hp+".value_prefix", h.Get("value_prefix"), "")}
			if s.name == "" || !isToken(s.name) {
				c.fail(hp+".name", "must be a valid HTTP header name")
			}
			out = append(out, s)
		}
	}
	for _, p := range c.strings(path+".from_params", v.Get("from_params")) {
		out = append(out, source{kind: fromParam, name: p})
	}
	for _, p := range c.strings(path+".from_cookies", v.Get("from_cookies")) {
		out = append(out, source{kind: fromCookie, name: p})
	}
	if out == nil {
		out = []source{authorizationBearer}
	}
	return out
}

// maxSources bounds the places one rule reads tokens from: extract marks
// each place that held the token in one bit of a uint64.
const maxSources = 64

// ruleSources lists, once per configuration, the distinct places a rule's
// providers read tokens from, in provider order.
func ruleSources(provs []*provider) []source {
	var out []source
	for _, p := range provs {
		for _, s := range p.sources {
			if !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	return out
}

// extract finds the token in the sources of a rule. It returns "" when no
// source holds one, the source it was read from, and a bit per source that
// held it (all of them are stripped). Two different tokens are an error
// (RFC 6750 §2: a client uses one method).
func extract(req *request, sources []source) (string, source, uint64, error) {
	var (
		token string
		found source
		held  uint64
	)
	for i, s := range sources {
		t, err := s.lookup(req)
		if err != nil {
			return "", source{}, 0, err
		}
		switch {
		case t == "":
			continue
		case token == "":
			token, found = t, s
		case t != token:
			return "", source{}, 0, ErrTokenMultiple
		}
		held |= 1 << i
	}
	return token, found, held, nil
}

// lookup returns the credential s holds in req, or "". A credential given
// twice under any name a back-end could read as the same one (two
// Authorization headers, "x_token" beside "x-token", ?access_token=A&
// access%5Ftoken=B, two session cookies) is a malformed request: the gate
// would verify one and the back-end could act on the other.
func (s source) lookup(req *request) (string, error) {
	switch s.kind {
	case fromHeader:
		var value string
		n := 0
		for _, h := range req.headers {
			if sameHeaderName(h[0], s.name) {
				value = h[1]
				n++
			}
		}
		if n == 0 {
			return "", nil
		}
		if n > 1 {
			return "", ErrRequestMalformed
		}
		return s.credential(value)
	case fromParam:
		var value string
		n := 0
		for q := req.query; q != ""; {
			var kv string
			kv, q = cutAny(q, "&;")
			k, v, _ := strings.Cut(kv, "=")
			if !sameParamName(k, s.name) {
				continue
			}
			value = v
			n++
		}
		if n == 0 {
			return "", nil
		}
		if n > 1 {
			return "", ErrTokenMultiple
		}
		v, ok := unescape(value)
		if !ok || v == "" || !printable(v) {
			return "", ErrRequestMalformed
		}
		return v, nil
	case fromCookie:
		var value string
		n := 0
		for _, h := range req.headers {
			if !strings.EqualFold(h[0], "cookie") {
				continue
			}
			for c := h[1]; c != ""; {
				var kv string
				kv, c = cutAny(c, ";,")
				k, v, _ := strings.Cut(strings.TrimSpace(kv), "=")
				if !sameParamName(strings.TrimSpace(k), s.name) {
					continue
				}
				value = strings.TrimSpace(v)
				n++
			}
		}
		switch {
		case n > 1:
			return "", ErrTokenMultiple
		case n == 1 && value == "":
			return "", ErrRequestMalformed
		}
		return value, nil
	}
	return "", nil
}

// cutAny is strings.Cut at the first byte of seps.
func cutAny(s, seps string) (before, after string) {
	if i := strings.IndexAny(s, seps); i >= 0 {
		return s[:i], s[i+1:]
	}
	return s, ""
}

// sameParamName compares a query parameter or cookie name as received with
// a configured one, the widest way a back-end might: percent-decoded ("+" as
// space), case-insensitive, and with ".", " " and "[" read as "_" (PHP's
// variable names). A name that does not decode matches nothing.
func sameParamName(raw, name string) bool {
	if raw == name {
		return true
	}
	dec, ok := unescape(raw)
	if !ok || len(dec) != len(name) {
		return false
	}
	for i := 0; i < len(dec); i++ {
		if foldParamByte(dec[i]) != foldParamByte(name[i]) {
			return false
		}
	}
	return true
}

func foldParamByte(c byte) byte {
	switch {
	case 'A' <= c && c <= 'Z':
		return c + 'a' - 'A'
	case c == '.' || c == ' ' || c == '[':
		return '_'
	}
	return c
}

// credential takes the credential out of a header value. A value with
// another scheme holds no token; the right scheme with nothing usable after
// it is a malformed request.
func (s source) credential(value string) (string, error) {
	if s.prefix == "" {
		if value == "" || !printable(value) {
			return "", ErrRequestMalformed
		}
		return value, nil
	}
	scheme := strings.TrimRight(s.prefix, " ")
	if len(value) < len(scheme) || !strings.EqualFold(value[:len(scheme)], scheme) {
		return "", nil
	}
	rest := value[len(scheme):]
	if rest != "" && rest[0] != ' ' && scheme != s.prefix {
		return "", nil // "Bearerx ..." is another scheme
	}
	cred := strings.Trim(rest, " ")
	if cred == "" || !printable(cred) {
		return "", ErrRequestMalformed
	}
	return cred, nil
}

// printable reports whether s is printable ASCII (0x20–0x7e). Every
// request's token goes through it, so it checks 8 bytes at a time: in Wasm a
// byte loop over a 700-byte token was the largest single cost of a cached
// request (1.4 µs of 5 in wazero).
func printable(s string) bool {
	const (
		ones = 0x0101010101010101
		high = 0x8080808080808080
	)
	p := unsafe.Pointer(unsafe.StringData(s))
	i := 0
	for ; i+8 <= len(s); i += 8 {
		w := *(*uint64)(unsafe.Add(p, i))
		// A byte < 0x20 (hasless) or > 0x7e (hasmore), exact for these
		// bounds (Bit Twiddling Hacks, "Determine if a word has a byte less
		// than n" and "greater than n").
		if (w-ones*0x20)&^w&high != 0 || ((w+ones*(127-0x7e))|w)&high != 0 {
			return false
		}
	}
	for ; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e {
			return false
		}
	}
	return true
}

// strip removes the token found at s from the upstream request, under
// every name lookup counted as its own.
func strip(d *Decision, req *request, s source) {
	switch s.kind {
	case fromHeader:
		for _, h := range req.headers {
			if sameHeaderName(h[0], s.name) && !slices.Contains(d.RemoveHeaders, h[0]) {
				d.RemoveHeaders = append(d.RemoveHeaders, h[0])
			}
		}
	case fromParam:
		// Only the credential's own pair goes; the rest of the query is
		// forwarded byte for byte, separators included.
		q := req.query
		if d.Path != "" {
			_, q, _ = strings.Cut(d.Path, "?") // another parameter source went first
		}
		var kept strings.Builder
		for q != "" {
			end := strings.IndexAny(q, "&;")
			pair, sep := q, ""
			if end >= 0 {
				pair, sep = q[:end], q[end:end+1]
				q = q[end+1:]
			} else {
				q = ""
			}
			k, _, _ := strings.Cut(pair, "=")
			if sameParamName(k, s.name) {
				continue
			}
			kept.WriteString(pair)
			if q != "" {
				kept.WriteString(sep)
			}
		}
		d.Path = req.path
		if rest := strings.TrimRight(kept.String(), "&;"); rest != "" {
			d.Path += "?" + rest
		}
	case fromCookie:
		var kept []string
		for _, h := range req.headers {
			if !strings.EqualFold(h[0], "cookie") {
				continue
			}
			for c := h[1]; c != ""; {
				var kv string
				kv, c = cutAny(c, ";,")
				kv = strings.TrimSpace(kv)
				if k, _, _ := strings.Cut(kv, "="); !sameParamName(strings.TrimSpace(k), s.name) && kv != "" {
					kept = append(kept, kv)
				}
			}
		}
		d.RemoveHeaders = append(d.RemoveHeaders, "cookie")
		if len(kept) > 0 {
			d.SetHeaders = append(d.SetHeaders, [2]string{"cookie", strings.Join(kept, "; ")})
		}
	}
}

// unescape decodes a query value (percent-encoding, "+" as space). It is
// net/url's QueryUnescape without the package, which the module does not
// otherwise need.
func unescape(s string) (string, bool) {
	if strings.IndexByte(s, '%') < 0 && strings.IndexByte(s, '+') < 0 {
		return s, true
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '+':
			b = append(b, ' ')
		case '%':
			if i+2 >= len(s) {
				return "", false
			}
			hi, ok1 := unhex(s[i+1])
			lo, ok2 := unhex(s[i+2])
			if !ok1 || !ok2 {
				return "", false
			}
			b = append(b, hi<<4|lo)
			i += 2
		default:
			b = append(b, c)
		}
	}
	return string(b), true
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
