package gate

import (
	"slices"
	"strings"
	"testing"

	"github.com/tokengate/tokengate/internal/issuer"
)

// The request-view suite: the gate must decide on the request the upstream
// will act on. Each test below is one class of requests that a back-end
// could resolve differently from the rule matcher; every variant must be
// refused or judged exactly as the back-end will see it.

// viewConfig is the README's shape: a public prefix, an admin prefix that
// needs a scope, and a catch-all that needs any valid token; claims go
// upstream in x-user and x-claims, tokens may also come as ?access_token=
// or a session cookie.
func viewConfig(t testing.TB, extra string) string {
	return `{"realm":"models",` + extra + `
  "providers": {"corp": {"issuer": "` + corpURL + `", "audiences": ["` + aud + `"], "jwks": ` + string(fx(t).corp.JWKS()) + `,
    "from_headers": [{"name": "authorization", "value_prefix": "Bearer "}],
    "from_params": ["access_token"], "from_cookies": ["session"],
    "claim_to_headers": [{"claim": "sub", "header": "x-user"}], "payload_header": "x-claims"}},
  "rules": [
    {"match": {"prefix": "/public"}},
    {"match": {"prefix": "/admin"}, "requires": {"scopes": ["admin"]}},
    {"match": {"path": "/reports", "methods": ["GET"]}},
    {"match": {"prefix": "/"}, "requires": {}}
  ]}`
}

// levels of credential, and what a path needs in the back-end's view.
const (
	levelNone  = 0
	levelUser  = 1
	levelAdmin = 2
)

func credentials(t testing.TB) [3]string {
	f := fx(t)
	return [3]string{"", mint(t, f.corp, issuer.Claims{"scope": "read"}), mint(t, f.corp, issuer.Claims{"scope": "read admin"})}
}

// needs is what the configuration asks of a path and method as a back-end
// resolves them.
func needs(method, path string) int {
	switch {
	case hasPathPrefix(path, "/public"):
		return levelNone
	case hasPathPrefix(path, "/admin"):
		return levelAdmin
	case trimSlash(path) == "/reports" && (method == "GET" || method == "HEAD"):
		return levelNone
	}
	return levelUser
}

// backendViews is how real back-ends may resolve a raw path: servlet
// containers drop ";params" before decoding, others decode first; some
// decode twice; backslashes are separators on some; empty segments merge
// and dot segments resolve. Each view is checked; the gate must be safe
// under all of them.
func backendViews(raw string) []string {
	raw, _, _ = strings.Cut(raw, "?")
	raw, _, _ = strings.Cut(raw, "#")
	var out []string
	for _, stripFirst := range []bool{true, false} {
		for _, decodes := range []int{0, 1, 2} {
			p := raw
			if stripFirst {
				p = stripParams(p)
			}
			for i := 0; i < decodes; i++ {
				if d, ok := unescapePath(p); ok {
					p = d
				}
			}
			p, _, _ = strings.Cut(p, "\x00")
			p = strings.ReplaceAll(p, `\`, "/")
			if !stripFirst {
				p = stripParams(p)
			}
			out = append(out, resolve(p))
		}
	}
	return out
}

func stripParams(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i], _, _ = strings.Cut(s, ";")
	}
	return strings.Join(segs, "/")
}

// unescapePath decodes every %XX (no "+").
func unescapePath(s string) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b.WriteByte(s[i])
			continue
		}
		if i+2 >= len(s) {
			return "", false
		}
		d, ok := decodeHex(s[i+1], s[i+2])
		if !ok {
			return "", false
		}
		b.WriteByte(d)
		i += 2
	}
	return b.String(), true
}

func resolve(p string) string {
	var segs []string
	for _, s := range strings.Split(p, "/") {
		switch s {
		case "", ".":
		case "..":
			if len(segs) > 0 {
				segs = segs[:len(segs)-1]
			}
		default:
			segs = append(segs, s)
		}
	}
	return "/" + strings.Join(segs, "/")
}

// checkView fails if d lets a credential of level have through to a path
// that needs more in any back-end's view of the request that goes upstream.
func checkView(t *testing.T, method, sent string, have int, d Decision) {
	t.Helper()
	if !d.Allow {
		if d.Status != 400 && d.Status != 401 && d.Status != 403 {
			t.Fatalf("%s %q (level %d): refused with %d, want 400, 401 or 403", method, sent, have, d.Status)
		}
		return
	}
	upstream := sent
	if d.Path != "" {
		upstream = d.Path
	}
	for _, view := range backendViews(upstream) {
		if n := needs(strings.ToUpper(method), view); n > have {
			t.Fatalf("%s %q went upstream as %q, which a back-end serves as %q needing level %d; the credential has %d",
				method, sent, upstream, view, n, have)
		}
	}
}

// hostilePaths are requests a back-end may resolve to /admin/users or to a
// non-public path while a naive matcher sees /public, or sees nothing it
// knows.
var hostilePaths = []string{
	"/admin;/users", "/admin;x=1/users", "/admin;jsessionid=1", "/public/..;/admin/users", "/public;/../admin",
	"/public/..;x/admin", "/public/.;/../admin", "/public;x=/admin", "/;/admin", "/public;",
	"//admin/users", "///admin", "/public//../admin", "/public/./../admin", "/./admin", "/public/..//admin",
	"/public/../admin", "/public/..", "/public/.", "/public/x/../../admin", "/admin/.", "/admin/./x",
	"/%61dmin/users", "/%41dmin", "/admi%6e", "/%61%64%6d%69%6e", "/public/%2e%2e/admin", "/public/%2E%2E/admin",
	"/public/.%2e/admin", "/public/%2e./admin", "/%2e/admin", "/public/%2e%2e%3b/admin", "/public%2f..%2fadmin",
	"/public%2F..%2Fadmin", "/public/..%2fadmin", "/public/..%5cadmin", "/public/..%5Cadmin", `/public\..\admin`,
	`/public/..\admin`, `\admin`, "/public/%252e%252e/admin", "/public/%25%32%65%25%32%65/admin", "/%2561dmin",
	"/public%00/../admin", "/public/%00/../admin", "/admin%00", "/public/%3b/../admin", "/public%3b/../admin",
	"/public/..%3B/admin", "/public#/../admin", "/public/%23/../admin", "/public/\t/../admin", "/public/ /../admin",
	"/public/\x00/../admin", "/public/\xc0\xae\xc0\xae/admin", "/public/%c0%ae%c0%ae/admin", "/public/%zz/../admin",
	"/public/%2", "/public/%", "*", "admin", "http://api/admin", "/public/%7e/../admin", "/public/~/../admin",
	"/public/...", "/public/.../admin", "/public/..../admin", "/public/%2e%2e%2f%2e%2e/admin", "/admin/",
	"/ADMIN", "/Admin", "/public/%2fadmin", "/reports/..", "/reports/../admin", "/reports;/../admin",
}

func TestRequestViewPaths(t *testing.T) {
	creds := credentials(t)
	for _, mode := range []string{"reject", "rewrite"} {
		g := compile(t, viewConfig(t, `"ambiguous_paths":"`+mode+`",`))
		for _, p := range hostilePaths {
			for have, tok := range creds {
				var kv []string
				if tok != "" {
					kv = bearer(tok)
				}
				d := g.Decide(get(p, kv...), now())
				t.Run(mode+" "+p, func(t *testing.T) { checkView(t, "GET", p, have, d) })
			}
		}
	}
}

// TestCanonicalPath is the table in docs/configuration.md ("Request paths").
func TestCanonicalPath(t *testing.T) {
	const refused = "400"
	tests := []struct {
		in, reject, rewrite string
	}{
		{"/v1/score", "/v1/score", "/v1/score"},
		{"/v1/score/", "/v1/score/", "/v1/score/"},
		{"/", "/", "/"},
		{"/models/caf%C3%A9", "/models/caf%C3%A9", "/models/caf%C3%A9"},
		{"/models/caf%c3%a9", "/models/caf%C3%A9", "/models/caf%C3%A9"},
		{"/a%20b", "/a%20b", "/a%20b"},
		{"/q%3Fx", "/q%3Fx", "/q%3Fx"},
		{"//admin/users", refused, "/admin/users"},
		{"/admin//users", refused, "/admin/users"},
		{"/public/../admin", refused, "/admin"},
		{"/public/./x", refused, "/public/x"},
		{"/..", refused, "/"},
		{"/a/b/..", refused, "/a/"},
		{"/%61dmin/users", refused, "/admin/users"},
		{"/public/%2e%2e/admin", refused, "/admin"},
		{"/%7Euser", refused, "/~user"},
		{"/admin;/users", refused, refused},
		{"/public/..;/admin", refused, refused},
		{"/public%2f..%2fadmin", refused, refused},
		{"/public/..%5cadmin", refused, refused},
		{`/public\..\admin`, refused, refused},
		{"/public/%3b/x", refused, refused},
		{"/public/%252e", refused, refused},
		{"/public%00", refused, refused},
		{"/a%0a", refused, refused},
		{"/a b", refused, refused},
		{"/a#b", refused, refused},
		{"/caf\xc3\xa9", refused, refused},
		{"/a%zz", refused, refused},
		{"/a%4", refused, refused},
		{"*", refused, refused},
		{"admin", refused, refused},
	}
	for _, tt := range tests {
		for _, mode := range []struct {
			rewrite bool
			want    string
		}{{false, tt.reject}, {true, tt.rewrite}} {
			got, ok := canonicalPath(tt.in, mode.rewrite)
			if !ok {
				got = refused
			}
			if got != mode.want {
				t.Errorf("canonicalPath(%q, rewrite=%v) = %q, want %q", tt.in, mode.rewrite, got, mode.want)
			}
		}
	}
}

func TestRewriteForwardsTheCanonicalPath(t *testing.T) {
	creds := credentials(t)
	g := compile(t, viewConfig(t, `"ambiguous_paths":"rewrite",`))
	tests := []struct{ in, want string }{
		{"//v1//score?x=1", "/v1/score?x=1"},
		{"/public/../v1/%73core", "/v1/score"},
		{"/v1/score?access_token=" + creds[levelUser] + "&x=1", "/v1/score?x=1"},
		{"/v1/./score?access_token=" + creds[levelUser], "/v1/score"},
	}
	for _, tt := range tests {
		d := g.Decide(get(tt.in, bearer(creds[levelUser])...), now())
		if !d.Allow || d.Path != tt.want {
			t.Errorf("%q: allow=%v path %q, want %q (%s)", tt.in, d.Allow, d.Path, tt.want, d.Reason)
		}
	}
	if d := g.Decide(get("/v1/score", bearer(creds[levelUser])...), now()); d.Path != "" {
		t.Errorf("a canonical path is rewritten to %q", d.Path)
	}
}

func TestRulePathsMustBeCanonical(t *testing.T) {
	for _, p := range []string{"//a", "/a/../b", "/a;b", "/%61", "/a%2f", "/a%3f", "a", `/a\b`} {
		_, _, err := Compile([]byte(`{"providers":{"a":{"issuer":"x"}},"rules":[{"match":{"prefix":"` + strings.ReplaceAll(p, `\`, `\\`) + `"}}]}`))
		if err == nil || !strings.Contains(err.Error(), "must be a canonical path") {
			t.Errorf("prefix %q: error %v, want a canonical-path error", p, err)
		}
	}
}

func TestMethodsAreMatchedAsBackEndsServeThem(t *testing.T) {
	creds := credentials(t)
	g := compile(t, viewConfig(t, ""))
	req := func(method, path string, kv ...string) *Request {
		r := get(path, kv...)
		r.Headers[0][1] = method
		return r
	}
	tests := []struct {
		name   string
		r      *Request
		status int // 0: allowed
	}{
		{"GET on the public report", req("GET", "/reports"), 0},
		{"HEAD is served by the GET handler", req("HEAD", "/reports"), 0},
		{"a lower-case method is the same method", req("get", "/reports"), 0},
		{"POST needs a token", req("POST", "/reports"), 401},
		{"lower-case post needs a token", req("post", "/reports"), 401},
		{"a trailing slash is the same resource", req("POST", "/reports/"), 401},
		{"a method override header is refused", req("GET", "/reports", "x-http-method-override", "DELETE"), 400},
		{"x-http-method too", req("GET", "/reports", "x-http-method", "DELETE"), 400},
		{"x-method-override too", req("GET", "/reports", "x-method-override", "PUT"), 400},
		{"with a token too", req("POST", "/x", append(bearer(creds[levelUser]), "x-http-method-override", "DELETE")...), 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := g.Decide(tt.r, now())
			if tt.status == 0 && !d.Allow || tt.status != 0 && d.Status != tt.status {
				t.Fatalf("allow=%v status=%d (%s), want status %d", d.Allow, d.Status, d.Reason, tt.status)
			}
		})
	}
	// Without method rules the override headers are of no concern.
	plain := compile(t, standardConfig(t))
	if d := plain.Decide(get("/healthz", "x-http-method-override", "DELETE"), now()); !d.Allow {
		t.Fatalf("override header refused where no rule matches methods: %+v", d)
	}
}

func TestForgedOutputHeadersAreRemovedUnderEveryName(t *testing.T) {
	creds := credentials(t)
	g := compile(t, viewConfig(t, ""))
	forged := []string{"x-user", "X-User", "x_user", "X_User", "X_USER", "x-USER", "x_claims", "X-Claims", "X_CLAIMS"}
	for _, path := range []string{"/public", "/v1/score", "/reports"} {
		for _, name := range forged {
			for _, tok := range []string{"", creds[levelUser]} {
				kv := []string{name, "mallory"}
				if tok != "" {
					kv = append(kv, bearer(tok)...)
				}
				d := g.Decide(get(path, kv...), now())
				if !d.Allow {
					continue
				}
				if !slices.Contains(d.RemoveHeaders, name) && !slices.Contains(d.RemoveHeaders, strings.ToLower(name)) {
					t.Errorf("%s with %s: %q is not removed (removes %q)", path, name, name, d.RemoveHeaders)
				}
			}
		}
	}
	// A dry-run rule removes them too.
	dry := compile(t, strings.Replace(viewConfig(t, ""), `"requires": {}}`, `"requires": {}, "dry_run": true}`, 1))
	d := dry.Decide(get("/v1/score", "X_User", "mallory"), now())
	if !d.Allow || !d.DryRun || !slices.Contains(d.RemoveHeaders, "X_User") {
		t.Fatalf("dry run keeps a forged header: %+v", d)
	}
	// Headers that merely look alike stay.
	d = g.Decide(get("/public", "x-users", "a", "xuser", "b", "x-user-agent", "c"), now())
	for _, h := range []string{"x-users", "xuser", "x-user-agent"} {
		if slices.Contains(d.RemoveHeaders, h) {
			t.Errorf("%q removed", h)
		}
	}
}

func TestRepeatedCredentialsAreRefused(t *testing.T) {
	creds := credentials(t)
	good, forged := creds[levelUser], mint(t, fx(t).corp, issuer.Claims{"sub": "mallory"})
	g := compile(t, viewConfig(t, ""))
	tests := []struct {
		name string
		r    *Request
		want int
	}{
		{"a parameter twice", get("/v1?access_token=" + good + "&access_token=" + forged), 400},
		{"a parameter twice with the same value", get("/v1?access_token=" + good + "&access_token=" + good), 400},
		{"an encoded name", get("/v1?access_token=" + good + "&access%5Ftoken=" + forged), 400},
		{"an encoded name first", get("/v1?access%5ftoken=" + forged + "&access_token=" + good), 400},
		{"an upper-case name", get("/v1?access_token=" + good + "&ACCESS_TOKEN=" + forged), 400},
		{"a dotted name (PHP)", get("/v1?access_token=" + good + "&access.token=" + forged), 400},
		{"a semicolon separator", get("/v1?access_token=" + good + ";access_token=" + forged), 400},
		{"an empty second value", get("/v1?access_token=" + good + "&access_token="), 400},
		{"a cookie twice", get("/v1", "cookie", "session="+good+"; session="+forged), 400},
		{"a cookie twice in two headers", get("/v1", "cookie", "session="+good, "cookie", "session="+forged), 400},
		{"a cookie with an encoded name", get("/v1", "cookie", "session="+good+"; %73ession="+forged), 400},
		{"a cookie with a comma separator", get("/v1", "cookie", "session="+good+", session="+forged), 400},
		{"a cookie in upper case", get("/v1", "cookie", "session="+good+"; SESSION="+forged), 400},
		{"two authorization headers", get("/v1", "authorization", "Bearer "+good, "authorization", "Bearer "+forged), 400},
		{"authorization under an underscore name", get("/v1", "authorization", "Bearer "+good, "authorization_", "Bearer "+forged), 0},
		{"one of each is fine when equal", get("/v1?access_token="+good, "cookie", "session="+good), 0},
		{"an encoded name alone is the parameter", get("/v1?access%5Ftoken=" + good), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := g.Decide(tt.r, now())
			if tt.want == 0 && !d.Allow || tt.want != 0 && d.Status != tt.want {
				t.Fatalf("allow=%v status=%d (%s), want %d", d.Allow, d.Status, d.Reason, tt.want)
			}
		})
	}
	t.Run("an encoded name is stripped", func(t *testing.T) {
		d := g.Decide(get("/v1?a=1&access%5Ftoken="+good+"&b=2"), now())
		if !d.Allow || d.Path != "/v1?a=1&b=2" {
			t.Fatalf("%+v", d)
		}
	})
	t.Run("other separators are kept byte for byte", func(t *testing.T) {
		d := g.Decide(get("/v1?a=1;access_token="+good+"&b=2;c=3"), now())
		if !d.Allow || d.Path != "/v1?a=1;b=2;c=3" {
			t.Fatalf("%+v", d)
		}
	})
	t.Run("a header source under an underscore name is stripped too", func(t *testing.T) {
		g := compile(t, `{"providers":{"corp":{"issuer":"`+corpURL+`","jwks":`+string(fx(t).corp.JWKS())+`,
			"from_headers":[{"name":"x-api-token"}]}}}`)
		if d := g.Decide(get("/m", "x-api-token", good, "x_api_token", forged), now()); d.Status != 400 {
			t.Fatalf("two spellings of the token header: %+v", d)
		}
		if d := g.Decide(get("/m", "X_Api_Token", good), now()); !d.Allow || !slices.Contains(d.RemoveHeaders, "X_Api_Token") {
			t.Fatalf("%+v", d)
		}
	})
}

// FuzzRequestView generates request lines and header sets and holds every
// allowed request to the reference back-end views: no credential may reach
// a resource that needs more than it has, and no forged output header may
// survive.
func FuzzRequestView(f *testing.F) {
	creds := credentials(f)
	gates := []*Gate{compile(f, viewConfig(f, "")), compile(f, viewConfig(f, `"ambiguous_paths":"rewrite",`))}
	for _, p := range hostilePaths {
		f.Add("GET", p, "X_User", "mallory", uint8(0))
	}
	f.Add("get", "/reports", "x-http-method-override", "DELETE", uint8(1))
	f.Add("HEAD", "/reports/", "cookie", "session=x", uint8(2))
	f.Fuzz(func(t *testing.T, method, path, name, value string, cred uint8) {
		have := int(cred % 3)
		headers := [][2]string{{":method", method}, {":path", path}, {":authority", "api"}, {name, value}}
		if creds[have] != "" {
			headers = append(headers, [2]string{"authorization", "Bearer " + creds[have]})
		}
		for _, g := range gates {
			d := g.Decide(&Request{Headers: headers}, now())
			if d.Allow && strings.EqualFold(strings.ReplaceAll(name, "_", "-"), "x-user") &&
				!slices.Contains(d.RemoveHeaders, name) {
				t.Fatalf("forged %q survives: %+v", name, d)
			}
			m := method
			if strings.EqualFold(name, "x-http-method-override") && d.Allow {
				m = value
			}
			checkView(t, m, path, have, d)
		}
	})
}

// TestRequestViewTemplates: a path template captures what the back-end will
// route on. A capture is never ".", ".." or more than one segment, whatever
// the encoding, and a token granted one model never reaches another through
// a path that resolves differently upstream.
func TestRequestViewTemplates(t *testing.T) {
	tok := mint(t, fx(t).corp, issuer.Claims{"scope": "infer:iris"})
	paths := []string{
		"/v2/models/iris/infer", "/v2/models/iris/infer/", "/v2/models/%69ris/infer", "/v2/models/%2e%2e/infer",
		"/v2/models/%2E%2E/infer", "/v2/models/../infer", "/v2/models/./infer", "/v2/models/%2e/infer", "/v2/models/.%2e/infer",
		"/v2/models//infer", "/v2/models/iris%2finfer/infer", "/v2/models/iris%2F..%2Fwine/infer", "/v2/models/iris;x/infer",
		"/v2/models/iris/..;/wine/infer", "/v2/models/wine/../iris/infer", "/v2/models/iris/../wine/infer",
		"/v2/models/iris/infer/../../wine/infer", "/v2/models/iris/%2e%2e/wine/infer", "/v2/models/iris%5c..%5cwine/infer",
		`/v2/models/iris\..\wine/infer`, "/v2/models/iris/infer%00", "/v2/models/%252e%252e/infer", "/v2/models/iris%20/infer",
		"/v2/models/wine/infer", "/v2/./models/wine/infer", "/v2/models/iris/infer?x=/../../wine",
	}
	// What a back-end does with the path: the model it runs, or "" for a
	// public page.
	model := func(view string) string {
		rest, ok := strings.CutPrefix(trimSlash(view), "/v2/models/")
		if !ok {
			return ""
		}
		name, tail, _ := strings.Cut(rest, "/")
		if tail != "infer" {
			return "(other)"
		}
		return name
	}
	for _, mode := range []string{"reject", "rewrite"} {
		g := compile(t, `{"ambiguous_paths":"`+mode+`","providers":{"corp":{"issuer":"`+corpURL+`","jwks":`+string(fx(t).corp.JWKS())+`}},
  "rules":[
    {"match":{"path_template":"/v2/models/{model}/infer"},"requires":{"scopes":["infer:{model}"]}},
    {"match":{"prefix":"/v2/models"},"requires":{"scopes":["admin"]}},
    {"match":{"prefix":"/"}}]}`)
		for _, p := range paths {
			t.Run(mode+" "+p, func(t *testing.T) {
				tr := g.Explain(get(p, bearer(tok)...), now())
				for _, c := range tr.Captures {
					if c[1] == "" || c[1] == "." || c[1] == ".." || strings.ContainsAny(c[1], "/\\;") || strings.Contains(strings.ToLower(c[1]), "%2e") {
						t.Fatalf("captured %s = %q", c[0], c[1])
					}
				}
				d := tr.Decision
				if !d.Allow {
					return
				}
				upstream := p
				if d.Path != "" {
					upstream = d.Path
				}
				for _, view := range backendViews(upstream) {
					if m := model(view); m != "" && m != "iris" {
						t.Fatalf("%q went upstream as %q, which a back-end serves as %q (model %q) for a token granted iris only", p, upstream, view, m)
					}
				}
			})
		}
		t.Run(mode+" an encoded dot-dot is never captured", func(t *testing.T) {
			tr := g.Explain(get("/v2/models/%2e%2e/infer", bearer(tok)...), now())
			if len(tr.Captures) != 0 {
				t.Fatalf("captured %q", tr.Captures)
			}
			if mode == "reject" && tr.Decision.Status != 400 {
				t.Fatalf("status %d, want 400", tr.Decision.Status)
			}
			if mode == "rewrite" && (tr.Rule != 2 || tr.Path != "/v2/infer") {
				t.Fatalf("rule %d on %q, want the public rule on /v2/infer", tr.Rule, tr.Path)
			}
		})
	}
}

func TestRepeatedPseudoHeadersAreRefused(t *testing.T) {
	g := compile(t, viewConfig(t, ""))
	tok := credentials(t)[levelAdmin]
	base := func(extra ...[2]string) *Request {
		r := get("/public", bearer(tok)...)
		r.Headers = append(r.Headers, extra...)
		return r
	}
	tests := []struct {
		name string
		r    *Request
		want int // 0: allowed
	}{
		{"one of each", base(), 0},
		{"a Host equal to :authority", base([2]string{"host", "API"}), 0},
		{"two paths", base([2]string{":path", "/admin"}), 400},
		{"two methods", base([2]string{":method", "DELETE"}), 400},
		{"two authorities", base([2]string{":authority", "admin.internal"}), 400},
		{"a Host that differs from :authority", base([2]string{"host", "admin.internal"}), 400},
		{"two Host headers", &Request{Headers: [][2]string{{":method", "GET"}, {":path", "/public"}, {"host", "a"}, {"host", "b"}}}, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := g.Decide(tt.r, now())
			if tt.want == 0 && !d.Allow || tt.want != 0 && (d.Allow || d.Status != tt.want || d.Code != "request_ambiguous") {
				t.Fatalf("allow=%v status=%d code=%s, want %d", d.Allow, d.Status, d.Code, tt.want)
			}
		})
	}
}
