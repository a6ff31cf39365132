package backends

import (
	"regexp"
	"strings"
)

// hostileCase is one request shape, sent once per credential.
//
// target and headers are written raw. In them {host} is the back-end's host
// name, {tok} the credential's token and {forged} a token signed with a key
// tokengate does not know (subject mallory, scope admin). Unless target or
// headers place {tok} themselves, the credential travels as
// "Authorization: Bearer {tok}". Without a credential, every query
// parameter, cookie or header that would carry {tok} is left out.
type hostileCase struct {
	class, name string
	method      string // GET when empty
	target      string
	headers     []string
	// want, for the positive controls only, is the status each credential
	// (none, user, admin) must get, so that a front that refuses everything
	// cannot pass.
	want *[3]int
	// reads, for a control that carries its token in a parameter or
	// cookie, is where the back-end must find it ("access_token" or
	// "session"): proof that the reports show what the back-end reads.
	reads string
}

// Classes of hostile requests, in the order of the logged table.
const (
	classControl    = "controls"
	classPathParam  = "path parameters"
	classEmpty      = "empty segments"
	classDots       = "dot segments"
	classUnreserved = "encoded unreserved"
	classEncoded    = "encoded . / \\ ; NUL"
	classDouble     = "double encoding"
	classBackslash  = "raw backslashes"
	classMethod     = "methods"
	classAbsolute   = "absolute-form targets"
	classFragment   = "fragments"
	classTrailing   = "trailing dots and spaces"
	classRepeated   = "repeated credentials"
	classForged     = "forged identity headers"
)

func hostileCases() []hostileCase {
	c := func(class, name, target string, headers ...string) hostileCase {
		return hostileCase{class: class, name: name, target: target, headers: headers}
	}
	m := func(class, name, method, target string, headers ...string) hostileCase {
		return hostileCase{class: class, name: name, method: method, target: target, headers: headers}
	}
	control := func(name, target string, want [3]int, reads string, headers ...string) hostileCase {
		return hostileCase{class: classControl, name: name, target: target, headers: headers, want: &want, reads: reads}
	}
	return []hostileCase{
		control("a public path is open", "/public/info", [3]int{200, 200, 200}, ""),
		control("a plain path needs a token", "/v1/data", [3]int{401, 200, 200}, ""),
		control("an admin path needs scope admin", "/admin/users", [3]int{401, 403, 200}, ""),
		control("a token in the access_token parameter", "/v1/data?access_token={tok}", [3]int{401, 200, 200}, "access_token"),
		control("a token in the session cookie", "/v1/data", [3]int{401, 200, 200}, "session", "Cookie: session={tok}"),

		c(classPathParam, "/admin;/users", "/admin;/users"),
		c(classPathParam, "/admin;x=1/users", "/admin;x=1/users"),
		c(classPathParam, "/admin;jsessionid=0/users", "/admin;jsessionid=0/users"),
		c(classPathParam, "/;/admin/users", "/;/admin/users"),
		c(classPathParam, "/.;/admin/users", "/.;/admin/users"),
		c(classPathParam, "/public/..;/admin/users", "/public/..;/admin/users"),
		c(classPathParam, "/public/..;x=1/admin/users", "/public/..;x=1/admin/users"),
		c(classPathParam, "/public;/../admin/users", "/public;/../admin/users"),
		c(classPathParam, "/public;x=/../admin", "/public;x=/../admin"),
		c(classPathParam, "/public/..;/v1/data", "/public/..;/v1/data"),

		c(classEmpty, "//admin/users", "//admin/users"),
		c(classEmpty, "///admin/users", "///admin/users"),
		c(classEmpty, "/public//../admin/users", "/public//../admin/users"),
		c(classEmpty, "/public/..//admin/users", "/public/..//admin/users"),
		c(classEmpty, "//public/../v1/data", "//public/../v1/data"),

		c(classDots, "/public/../admin/users", "/public/../admin/users"),
		c(classDots, "/public/./../admin/users", "/public/./../admin/users"),
		c(classDots, "/public/../../admin/users", "/public/../../admin/users"),
		c(classDots, "/public/x/../../admin/users", "/public/x/../../admin/users"),
		c(classDots, "/./admin/users", "/./admin/users"),
		c(classDots, "/public/..", "/public/.."),
		c(classDots, "/public/../v1/data", "/public/../v1/data"),

		c(classUnreserved, "/%61dmin/users", "/%61dmin/users"),
		c(classUnreserved, "/adm%69n/users", "/adm%69n/users"),
		c(classUnreserved, "/%61%64%6d%69%6e/users", "/%61%64%6d%69%6e/users"),
		c(classUnreserved, "/%70ublic/../admin/users", "/%70ublic/../admin/users"),
		c(classUnreserved, "/%70ublic/info", "/%70ublic/info"),
		c(classUnreserved, "/public%2Dx/../admin", "/public%2Dx/../admin"),
		c(classUnreserved, "/%76%31/data", "/%76%31/data"),

		c(classEncoded, "/public/%2e%2e/admin/users", "/public/%2e%2e/admin/users"),
		c(classEncoded, "/public/%2E%2E/admin/users", "/public/%2E%2E/admin/users"),
		c(classEncoded, "/public/.%2e/admin/users", "/public/.%2e/admin/users"),
		c(classEncoded, "/public/%2e./admin/users", "/public/%2e./admin/users"),
		c(classEncoded, "/public/%2e/../admin/users", "/public/%2e/../admin/users"),
		c(classEncoded, "/public/%2e%2e/v1/data", "/public/%2e%2e/v1/data"),
		c(classEncoded, "/public%2f..%2fadmin/users", "/public%2f..%2fadmin/users"),
		c(classEncoded, "/public%2F..%2Fadmin/users", "/public%2F..%2Fadmin/users"),
		c(classEncoded, "/public/..%2fadmin/users", "/public/..%2fadmin/users"),
		c(classEncoded, "/public/%2e%2e%2fadmin/users", "/public/%2e%2e%2fadmin/users"),
		c(classEncoded, "/%2fadmin/users", "/%2fadmin/users"),
		c(classEncoded, "/admin%2fusers", "/admin%2fusers"),
		c(classEncoded, "/public/%2e%2e%3b/admin/users", "/public/%2e%2e%3b/admin/users"),
		c(classEncoded, "/public/..%3b/admin/users", "/public/..%3b/admin/users"),
		c(classEncoded, "/admin%3b/users", "/admin%3b/users"),
		c(classEncoded, "/admin%3bx=1/users", "/admin%3bx=1/users"),
		c(classEncoded, "/public/..%5cadmin/users", "/public/..%5cadmin/users"),
		c(classEncoded, "/public%5c..%5cadmin/users", "/public%5c..%5cadmin/users"),
		c(classEncoded, "/admin%00/users", "/admin%00/users"),
		c(classEncoded, "/public/%00/../admin/users", "/public/%00/../admin/users"),
		c(classEncoded, "/public%00/../admin/users", "/public%00/../admin/users"),

		c(classDouble, "/public/%252e%252e/admin/users", "/public/%252e%252e/admin/users"),
		c(classDouble, "/%2561dmin/users", "/%2561dmin/users"),
		c(classDouble, "/public%252f..%252fadmin/users", "/public%252f..%252fadmin/users"),
		c(classDouble, "/public/%25%32%65%25%32%65/admin/users", "/public/%25%32%65%25%32%65/admin/users"),
		c(classDouble, "/admin%253b/users", "/admin%253b/users"),

		c(classBackslash, `/public\..\admin\users`, `/public\..\admin\users`),
		c(classBackslash, `/public\../admin/users`, `/public\../admin/users`),
		c(classBackslash, `/public/..\admin/users`, `/public/..\admin/users`),
		c(classBackslash, `/\admin/users`, `/\admin/users`),
		c(classBackslash, `/admin\users`, `/admin\users`),

		m(classMethod, "get /admin/users", "get", "/admin/users"),
		m(classMethod, "Get /admin/users", "Get", "/admin/users"),
		m(classMethod, "get /public/../admin/users", "get", "/public/../admin/users"),
		m(classMethod, "HEAD /admin/users", "HEAD", "/admin/users"),
		m(classMethod, "HEAD /public/..;/admin/users", "HEAD", "/public/..;/admin/users"),
		m(classMethod, "OPTIONS preflight /admin/users", "OPTIONS", "/admin/users",
			"Origin: https://evil.test", "Access-Control-Request-Method: DELETE"),
		m(classMethod, "DELETE /admin/users", "DELETE", "/admin/users", "Content-Length: 0"),

		c(classAbsolute, "http://host/admin/users", "http://{host}/admin/users"),
		c(classAbsolute, "HTTP://host/admin/users", "HTTP://{host}/admin/users"),
		c(classAbsolute, "http://host:80/admin/users", "http://{host}:80/admin/users"),
		c(classAbsolute, "http://host/public/../admin/users", "http://{host}/public/../admin/users"),
		c(classAbsolute, "http://host/public/..;/admin/users", "http://{host}/public/..;/admin/users"),
		c(classAbsolute, "http://host//admin/users", "http://{host}//admin/users"),
		c(classAbsolute, "http://host/%61dmin/users", "http://{host}/%61dmin/users"),
		c(classAbsolute, "http://host/v1/data", "http://{host}/v1/data"),

		c(classFragment, "/public#/../admin/users", "/public#/../admin/users"),
		c(classFragment, "/public/x#/../../admin", "/public/x#/../../admin"),
		c(classFragment, "/admin/users#frag", "/admin/users#frag"),
		c(classFragment, "/public%23/../admin/users", "/public%23/../admin/users"),
		c(classFragment, "/public?/../admin/users", "/public?/../admin/users"),

		c(classTrailing, "/admin./users", "/admin./users"),
		c(classTrailing, "/admin../users", "/admin../users"),
		c(classTrailing, "/admin%20/users", "/admin%20/users"),
		c(classTrailing, "/admin%09/users", "/admin%09/users"),
		c(classTrailing, "/public/..%20/admin/users", "/public/..%20/admin/users"),
		c(classTrailing, "/public/.. /admin/users", "/public/.. /admin/users"),
		c(classTrailing, "/admin/users/.", "/admin/users/."),

		c(classRepeated, "?access_token=GOOD&access_token=FORGED", "/v1/data?access_token={tok}&access_token={forged}"),
		c(classRepeated, "?access_token=FORGED&access_token=GOOD", "/v1/data?access_token={forged}&access_token={tok}"),
		c(classRepeated, "?access_token=GOOD&access%5Ftoken=FORGED", "/v1/data?access_token={tok}&access%5Ftoken={forged}"),
		c(classRepeated, "?access%5Ftoken=FORGED&access_token=GOOD", "/v1/data?access%5Ftoken={forged}&access_token={tok}"),
		c(classRepeated, "?%61ccess_token=FORGED&access_token=GOOD", "/v1/data?%61ccess_token={forged}&access_token={tok}"),
		c(classRepeated, "?access_token=GOOD;access_token=FORGED", "/v1/data?access_token={tok};access_token={forged}"),
		c(classRepeated, "?access_token=GOOD&access_token=FORGED on /admin", "/admin/users?access_token={tok}&access_token={forged}"),
		c(classRepeated, "Cookie: session=GOOD; session=FORGED", "/v1/data", "Cookie: session={tok}; session={forged}"),
		c(classRepeated, "Cookie: session=FORGED; session=GOOD", "/v1/data", "Cookie: session={forged}; session={tok}"),
		c(classRepeated, "two Cookie headers, GOOD first", "/v1/data", "Cookie: session={tok}", "Cookie: session={forged}"),
		c(classRepeated, "two Cookie headers, FORGED first", "/v1/data", "Cookie: session={forged}", "Cookie: session={tok}"),
		c(classRepeated, "Cookie: session=GOOD, session=FORGED", "/v1/data", "Cookie: session={tok}, session={forged}"),
		c(classRepeated, `Cookie: session="FORGED"; session=GOOD`, "/v1/data", `Cookie: session="{forged}"; session={tok}`),
		c(classRepeated, "Bearer GOOD with ?access_token=FORGED", "/v1/data?access_token={forged}", "Authorization: Bearer {tok}"),
		c(classRepeated, "Bearer GOOD with Cookie: session=FORGED", "/v1/data", "Authorization: Bearer {tok}", "Cookie: session={forged}"),
		c(classRepeated, "?access_token=GOOD with Bearer FORGED", "/v1/data?access_token={tok}", "Authorization: Bearer {forged}"),
		c(classRepeated, "Cookie GOOD with ?access_token=FORGED", "/v1/data?access_token={forged}", "Cookie: session={tok}"),

		c(classForged, "X_User: mallory", "/v1/data", "X_User: mallory"),
		c(classForged, "x_user: mallory", "/v1/data", "x_user: mallory"),
		c(classForged, "x-user: mallory", "/v1/data", "x-user: mallory"),
		c(classForged, "X-USER: mallory", "/v1/data", "X-USER: mallory"),
		c(classForged, "X-User: mallory twice", "/v1/data", "X-User: mallory", "X-User: mallory"),
		c(classForged, "X-User: mallory after the token", "/v1/data", "Authorization: Bearer {tok}", "X-User: mallory"),
		c(classForged, "Connection: X-User", "/v1/data", "Connection: close, X-User", "X-User: mallory"),
		c(classForged, "Connection: X_User", "/v1/data", "Connection: close, X_User", "X_User: mallory"),
		c(classForged, "X_User: mallory on a public path", "/public/info", "X_User: mallory"),
		c(classForged, "X-User: mallory on a public path", "/public/info", "X-User: mallory"),
		c(classForged, "X_User: mallory on an admin path", "/admin/users", "X_User: mallory"),
		c(classForged, "X-User: mallory with a space before the colon", "/v1/data", "X-User : mallory"),
		c(classForged, "X-User:mallory without a space", "/v1/data", "X-User:mallory"),
	}
}

// withoutToken matches a query parameter, cookie or list member that
// carries {tok}, with the separator after it.
var withoutToken = regexp.MustCompile(`[^?&;, ]*=\{tok\}[&;,]? ?`)

// render returns the raw request of c for the back-end host with the
// credential tok ("" for none).
func (c hostileCase) render(host, tok, forged string) (raw []byte, method string) {
	method = c.method
	if method == "" {
		method = "GET"
	}
	target, headers := c.target, append([]string(nil), c.headers...)
	placed := strings.Contains(target, "{tok}")
	for _, h := range headers {
		placed = placed || strings.Contains(h, "{tok}")
	}
	if !placed {
		headers = append(headers, "Authorization: Bearer {tok}")
	}
	if tok == "" {
		target = withoutToken.ReplaceAllString(target, "")
		kept := headers[:0]
		for _, h := range headers {
			if strings.Contains(h, "Bearer {tok}") {
				continue
			}
			h = withoutToken.ReplaceAllString(h, "")
			if name, value, _ := strings.Cut(h, ":"); strings.TrimSpace(value) == "" && name != "" {
				continue
			}
			kept = append(kept, h)
		}
		headers = kept
	}
	sub := strings.NewReplacer("{host}", host, "{tok}", tok, "{forged}", forged)
	var b strings.Builder
	b.WriteString(method + " " + sub.Replace(target) + " HTTP/1.1\r\nHost: " + host + "\r\n")
	closes := false
	for _, h := range headers {
		b.WriteString(sub.Replace(h) + "\r\n")
		closes = closes || strings.HasPrefix(strings.ToLower(h), "connection:")
	}
	if !closes {
		b.WriteString("Connection: close\r\n")
	}
	b.WriteString("\r\n")
	return []byte(b.String()), method
}
