package gate

import "strings"

// Request paths are judged in one canonical form, the form the upstream is
// expected to act on. A path in another form is either refused (the default)
// or, with "ambiguous_paths": "rewrite", rewritten to the canonical form and
// forwarded that way, so the upstream serves exactly the path that was
// judged. docs/configuration.md has the table of inputs and outcomes.
//
// The canonical form has no empty segments ("//"), no dot segments ("." and
// ".."), no path parameters (";"), no backslashes, no percent-encoded
// unreserved characters (RFC 3986 §2.3: "%61" is "a" to every decoder), and
// upper-case hex digits in the escapes it keeps. Some inputs have no single
// meaning whatever the mode, because back-ends disagree on them, and are
// always refused:
//
//   - ";" anywhere: servlet containers drop ";params" from each segment and
//     read "..;" as "..", most other servers keep them;
//   - an encoded "/", "\", ";", "%" or control character: some servers decode
//     them before routing, some after, some twice;
//   - a raw backslash, control character, space, non-ASCII byte or "#";
//   - a "%" not followed by two hex digits.

// canonicalPath returns the canonical form of raw (a request path without
// its query), or ok == false when the request must be refused. With rewrite
// false, only paths that differ from their canonical form in the case of hex
// digits are accepted.
func canonicalPath(raw string, rewrite bool) (path string, ok bool) {
	if raw == "" {
		return "", true // no path (CONNECT): no rule matches it
	}
	if raw[0] != '/' {
		return "", false
	}
	clean := true // raw is already canonical
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case c <= ' ' || c >= 0x7f || c == '\\' || c == ';' || c == '#':
			return "", false
		case c == '%':
			if i+2 >= len(raw) {
				return "", false
			}
			d, ok := decodeHex(raw[i+1], raw[i+2])
			if !ok || d < 0x20 || d == 0x7f || d == '/' || d == '\\' || d == ';' || d == '%' {
				return "", false
			}
			if unreserved(d) {
				if !rewrite {
					return "", false
				}
				clean = false
			} else if isLowerHex(raw[i+1]) || isLowerHex(raw[i+2]) {
				clean = false
			}
			i += 2
		case c == '/' && i+1 < len(raw) && raw[i+1] == '/':
			if !rewrite {
				return "", false
			}
			clean = false
		case c == '.' && raw[i-1] == '/' && dotSegment(raw[i:]):
			if !rewrite {
				return "", false
			}
			clean = false
		}
	}
	if clean {
		return raw, true
	}
	return rebuild(raw), true
}

// dotSegment reports whether s starts with a "." or ".." segment.
func dotSegment(s string) bool {
	seg, _, _ := strings.Cut(s, "/")
	return seg == "." || seg == ".."
}

// rebuild makes the canonical form of a path canonicalPath has checked:
// escapes of unreserved characters decoded and the others upper-cased, then
// empty segments merged and dot segments resolved (never above the root).
func rebuild(raw string) string {
	dec := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); i++ {
		if raw[i] != '%' {
			dec = append(dec, raw[i])
			continue
		}
		d, _ := decodeHex(raw[i+1], raw[i+2])
		if unreserved(d) {
			dec = append(dec, d)
		} else {
			dec = append(dec, '%', upperHex(raw[i+1]), upperHex(raw[i+2]))
		}
		i += 2
	}
	var segs []string
	trailing := false
	for rest := string(dec[1:]); ; {
		seg, more, found := strings.Cut(rest, "/")
		trailing = false
		switch seg {
		case "", ".":
			trailing = true
		case "..":
			if len(segs) > 0 {
				segs = segs[:len(segs)-1]
			}
			trailing = true
		default:
			segs = append(segs, seg)
		}
		if !found {
			break
		}
		rest = more
	}
	out := "/" + strings.Join(segs, "/")
	if trailing && len(segs) > 0 {
		out += "/"
	}
	return out
}

// unreserved is RFC 3986 §2.3: ALPHA / DIGIT / "-" / "." / "_" / "~".
func unreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~'
}

func decodeHex(hi, lo byte) (byte, bool) {
	h, ok1 := unhex(hi)
	l, ok2 := unhex(lo)
	return h<<4 | l, ok1 && ok2
}

func isLowerHex(c byte) bool { return 'a' <= c && c <= 'f' }

func upperHex(c byte) byte {
	if isLowerHex(c) {
		return c - 'a' + 'A'
	}
	return c
}

// samePath compares an exact-path rule with a canonical request path,
// ignoring one trailing slash on either side: many frameworks serve "/a/"
// and "/a" with the same handler, so a rule for one covers the other.
func samePath(rule, path string) bool {
	return trimSlash(rule) == trimSlash(path)
}

func trimSlash(p string) string {
	if len(p) > 1 && p[len(p)-1] == '/' {
		return p[:len(p)-1]
	}
	return p
}

// sameHeaderName compares header names the way back-ends that read headers
// through CGI-style variables do (HTTP_X_USER is both "X-User" and "X_User"):
// case-insensitive, with "_" and "-" alike.
func sameHeaderName(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := foldHeaderByte(a[i]), foldHeaderByte(b[i])
		if x != y {
			return false
		}
	}
	return true
}

func foldHeaderByte(c byte) byte {
	switch {
	case 'A' <= c && c <= 'Z':
		return c + 'a' - 'A'
	case c == '_':
		return '-'
	}
	return c
}

// methodOverrideHeaders make some frameworks serve a request as another
// method than the one on the request line.
var methodOverrideHeaders = []string{"x-http-method-override", "x-http-method", "x-method-override"}

// upperASCII returns s in upper case; it allocates only when s has a lower
// case letter.
func upperASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if 'a' <= s[i] && s[i] <= 'z' {
			return strings.ToUpper(s)
		}
	}
	return s
}
