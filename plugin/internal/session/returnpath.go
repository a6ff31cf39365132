package session

// MaxReturnPath bounds the address a sign-in returns to.
const MaxReturnPath = 2048

// ReturnPath reports whether p may be where a finished sign-in sends the
// browser: a path on this origin, with its query, and nothing a browser
// could read as another origin. That is printable ASCII without spaces or
// backslashes, starting with a single "/" ("//host" and "/\host" are
// addresses of other hosts to a browser, and browsers drop tabs and line
// breaks from URLs, which would turn "/\t/host" into "//host").
func ReturnPath(p string) bool {
	if p == "" || len(p) > MaxReturnPath || p[0] != '/' {
		return false
	}
	if len(p) > 1 && (p[1] == '/' || p[1] == '\\') {
		return false
	}
	for i := 0; i < len(p); i++ {
		if c := p[i]; c <= ' ' || c > '~' || c == '\\' || c == '#' {
			return false
		}
	}
	return true
}
