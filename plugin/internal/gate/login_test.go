package gate

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/tokengate/tokengate/internal/issuer"
	"github.com/tokengate/tokengate/plugin/internal/session"
)

const (
	clientID   = "mlflow-ui"
	cookieKey1 = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=" // 32 bytes of 1
	cookieKey2 = "AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=" // 32 bytes of 2
)

// loginProvider is the "login" object of the tests' provider; keys is the
// "cookie_keys" array.
func loginProvider(keys string, extra string) string {
	return `{"client_id": "` + clientID + `", "client_secret": "s3cret:/+", "cluster": "idp",
	  "redirect_uri": "https://mlflow.example.com/oauth2/callback",
	  "authorization_endpoint": "` + corpURL + `/protocol/openid-connect/auth",
	  "token_endpoint": "` + corpURL + `/protocol/openid-connect/token",
	  "end_session_endpoint": "` + corpURL + `/protocol/openid-connect/logout",
	  "post_logout_redirect_uri": "https://mlflow.example.com/",
	  "logout_path": "/oauth2/logout", "scopes": ["openid", "profile"],
	  "cookie_keys": ` + keys + extra + `}`
}

func loginConfig(t testing.TB, keys, extra, forward string) string {
	return `{
  "realm": "mlflow",
  "providers": {
    "corp": {"issuer": "` + corpURL + `", "audiences": ["` + aud + `"], "jwks": ` + string(fx(t).corp.JWKS()) + `,
      "preset": "keycloak", "forward": ` + forward + `, "login": ` + loginProvider(keys, extra) + `}
  },
  "rules": [
    {"match": {"prefix": "/health"}},
    {"match": {"prefix": "/api"}, "requires": {"providers": ["corp"]}, "login": false},
    {"match": {"prefix": "/"}, "requires": {"providers": ["corp"]}}
  ]
}`
}

const oneKey = `[{"id": "k1", "key": "` + cookieKey1 + `"}]`

// page is a browser's page load of path with the given cookie header.
func page(path, cookies string) *Request {
	r := get(path, "accept", "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8")
	if cookies != "" {
		r.Headers = append(r.Headers, [2]string{"cookie", cookies})
	}
	return r
}

// xhr is a script's request from the page.
func xhr(method, path, cookies string) *Request {
	r := get(path, "accept", "application/json, text/plain, */*")
	r.Headers[0][1] = method
	if cookies != "" {
		r.Headers = append(r.Headers, [2]string{"cookie", cookies})
	}
	return r
}

// jar applies the Set-Cookie headers of d to a cookie jar and returns it.
func jar(t *testing.T, cookies map[string]string, d Decision) map[string]string {
	t.Helper()
	if cookies == nil {
		cookies = map[string]string{}
	}
	for _, h := range d.Headers {
		if h[0] != "set-cookie" {
			continue
		}
		pair, attrs, _ := strings.Cut(h[1], ";")
		name, value, _ := strings.Cut(pair, "=")
		for _, want := range []string{"Path=/", "HttpOnly", "Secure", "SameSite=Lax"} {
			if !strings.Contains(attrs, want) {
				t.Errorf("Set-Cookie %s lacks %s", name, want)
			}
		}
		if strings.Contains(attrs, "Max-Age=0") {
			delete(cookies, name)
		} else {
			cookies[name] = value
		}
	}
	return cookies
}

func cookieHeader(cookies map[string]string) string {
	var pairs []string
	for k, v := range cookies {
		pairs = append(pairs, k+"="+v)
	}
	return strings.Join(pairs, "; ")
}

// redirected checks that d sends the browser to the authorization
// endpoint and returns the query of the redirect.
func redirected(t *testing.T, d Decision) url.Values {
	t.Helper()
	if d.Status != 302 || d.Code != "login_redirect" {
		t.Fatalf("decision %d %s (%s), want the 302 to sign in", d.Status, d.Code, d.Detail)
	}
	loc, err := url.Parse(header(d, "location"))
	if err != nil || loc.Scheme+"://"+loc.Host+loc.Path != corpURL+"/protocol/openid-connect/auth" {
		t.Fatalf("Location %q is not the authorization endpoint", header(d, "location"))
	}
	return loc.Query()
}

// idp answers token requests as the provider would.
type idp struct {
	t      *testing.T
	nonce  string
	access issuer.Claims // changes to the access token's claims
	id     issuer.Claims // changes to the ID token's claims
	ttl    time.Duration // of the access token
}

func (p *idp) tokens(refresh string) *LoginAnswer {
	p.t.Helper()
	ttl := p.ttl
	if ttl == 0 {
		ttl = 5 * time.Minute
	}
	access := mint(p.t, fx(p.t).corp, p.access, issuer.WithTTL(ttl))
	idc := issuer.Claims{"aud": clientID, "azp": clientID, "sub": "alice", "scope": nil, "nonce": p.nonce}
	for k, v := range p.id {
		idc[k] = v
	}
	id := mint(p.t, fx(p.t).corp, idc)
	body, _ := json.Marshal(map[string]any{"access_token": access, "token_type": "Bearer", "expires_in": int(ttl / time.Second),
		"refresh_token": refresh, "id_token": id})
	return &LoginAnswer{Status: 200, ContentType: "application/json", Body: body}
}

func refusal(status int, code string) *LoginAnswer {
	return &LoginAnswer{Status: status, ContentType: "application/json;charset=UTF-8", Body: []byte(`{"error":"` + code + `","error_description":"x"}`)}
}

// signedIn runs a whole sign-in for a page load of path and returns the
// browser's cookies and the callback's decision.
func signedIn(t *testing.T, g *Gate, p *idp, path string, at time.Time) (map[string]string, Decision) {
	t.Helper()
	d := g.Decide(page(path, ""), at)
	q := redirected(t, d)
	cookies := jar(t, nil, d)
	p.nonce = q.Get("nonce")
	cb := g.Decide(page("/oauth2/callback?code=c0de&state="+q.Get("state")+"&iss="+url.QueryEscape(corpURL), cookieHeader(cookies)), at)
	if cb.Login == nil {
		t.Fatalf("the callback did not ask for the token endpoint: %d %s (%s)", cb.Status, cb.Code, cb.Detail)
	}
	step, req := g.PlanLogin(&cb, 1, at)
	if step != LoginSend {
		t.Fatalf("PlanLogin = %v, want LoginSend", step)
	}
	res := g.FinishLogin(req.Key, p.tokens("rt-1"), at)
	if len(res) != 1 || res[0].ID != 1 {
		t.Fatalf("FinishLogin = %+v, want the one request", res)
	}
	return jar(t, cookies, res[0].Decision), res[0].Decision
}

// TestSignInRedirect: only a browser's page load without a credential, on a
// rule with sign-in, is sent to the provider; everything else gets what it
// got before.
func TestSignInRedirect(t *testing.T) {
	t.Parallel()
	g := compile(t, loginConfig(t, oneKey, "", "false"))
	at := time.Now()
	d := g.Decide(page("/ui/experiments?x=1", ""), at)
	q := redirected(t, d)
	want := map[string]string{"response_type": "code", "client_id": clientID, "redirect_uri": "https://mlflow.example.com/oauth2/callback",
		"scope": "openid profile", "code_challenge_method": "S256"}
	for k, v := range want {
		if q.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, q.Get(k), v)
		}
	}
	for _, k := range []string{"state", "nonce", "code_challenge"} {
		if len(q.Get(k)) < 43 {
			t.Errorf("%s = %q: want 32 random bytes, base64url", k, q.Get(k))
		}
	}
	cookies := jar(t, nil, d)
	if len(cookies) != 1 || cookies["__Host-tokengate-state"] == "" {
		t.Fatalf("cookies set: %v, want the state cookie", cookies)
	}
	if d2 := g.Decide(page("/ui/experiments?x=1", ""), at); redirected(t, d2).Get("state") == q.Get("state") {
		t.Error("two sign-ins got the same state")
	}

	tests := []struct {
		name   string
		req    *Request
		status int
		allow  bool
	}{
		{"a script's request gets the RFC 6750 401", xhr("GET", "/ajax-api/2.0/mlflow/experiments/search", ""), 401, false},
		{"a page load by POST gets 401", func() *Request { r := page("/ui", ""); r.Headers[0][1] = "POST"; return r }(), 401, false},
		{"a program without Accept gets 401", get("/ui"), 401, false},
		{"a rule with \"login\": false gets 401", page("/api/2.0/mlflow/experiments/search", ""), 401, false},
		{"a public rule lets the page through", page("/health", ""), 0, true},
		{"a page load with a bad bearer token is refused, not sent to sign in", page("/ui", ""), 401, false},
	}
	tests[5].req.Headers = append(tests[5].req.Headers, [2]string{"authorization", "Bearer not-a-token"})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := g.Decide(tt.req, at)
			if d.Allow != tt.allow || !tt.allow && d.Status != tt.status {
				t.Fatalf("decision %v %d %s, want allow=%v status %d", d.Allow, d.Status, d.Code, tt.allow, tt.status)
			}
			if !tt.allow && !strings.HasPrefix(header(d, "www-authenticate"), `Bearer realm="mlflow"`) {
				t.Errorf("WWW-Authenticate %q", header(d, "www-authenticate"))
			}
		})
	}
}

// TestSignInFlow signs a browser in and uses the session: the code
// exchange request, the session cookie, the access token judged as a
// bearer token, and tokengate's cookies kept from the upstream.
func TestSignInFlow(t *testing.T) {
	t.Parallel()
	for _, forward := range []string{"false", "true"} {
		t.Run("forward "+forward, func(t *testing.T) {
			g := compile(t, loginConfig(t, oneKey, "", forward))
			at := time.Now()
			d := g.Decide(page("/ui/?view=list", ""), at)
			q := redirected(t, d)
			cookies := jar(t, nil, d)
			p := &idp{t: t, nonce: q.Get("nonce")}
			cb := g.Decide(page("/oauth2/callback?state="+q.Get("state")+"&session_state=x&code=c0de&iss="+url.QueryEscape(corpURL), cookieHeader(cookies)), at)
			step, req := g.PlanLogin(&cb, 7, at)
			if step != LoginSend || req.Upstream != "idp" || req.TimeoutMillis != 5000 {
				t.Fatalf("PlanLogin = %v %+v", step, req)
			}
			hs := map[string]string{}
			for _, h := range req.Headers {
				hs[h[0]] = h[1]
			}
			basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(clientID+":s3cret%3A%2F%2B"))
			if hs[":method"] != "POST" || hs[":path"] != "/realms/ml/protocol/openid-connect/token" || hs[":authority"] != "idp.example.com" ||
				hs["content-type"] != "application/x-www-form-urlencoded" || hs["authorization"] != basic {
				t.Fatalf("token request headers %v", hs)
			}
			form, err := url.ParseQuery(string(req.Body))
			if err != nil {
				t.Fatal(err)
			}
			if form.Get("grant_type") != "authorization_code" || form.Get("code") != "c0de" ||
				form.Get("redirect_uri") != "https://mlflow.example.com/oauth2/callback" ||
				session.Challenge(form.Get("code_verifier")) != q.Get("code_challenge") || form.Has("client_secret") {
				t.Fatalf("token request body %v: the verifier must match the challenge sent", form)
			}
			res := g.FinishLogin(req.Key, p.tokens("rt-1"), at)
			done := res[0].Decision
			if done.Status != 302 || done.Code != "signed_in" || header(done, "location") != "/ui/?view=list" {
				t.Fatalf("callback answered %d %s %q (%s)", done.Status, done.Code, header(done, "location"), done.Detail)
			}
			cookies = jar(t, cookies, done)
			if _, ok := cookies["__Host-tokengate-state"]; ok || cookies["__Host-tokengate"] == "" {
				t.Fatalf("cookies after the callback: %v; want the session and no state", cookies)
			}
			if g.login.calls[req.Key] != nil {
				t.Error("the call is still remembered after FinishLogin")
			}

			// The session is a credential: the same requests now pass.
			header := cookieHeader(cookies) + "; theme=dark"
			for _, r := range []*Request{page("/ui/", header), xhr("POST", "/ajax-api/2.0/mlflow/experiments/create", header),
				xhr("GET", "/api/2.0/mlflow/experiments/search", header)} {
				d := g.Decide(r, at)
				if !d.Allow || d.Provider != "corp" {
					t.Fatalf("%v: refused %d %s (%s)", r.Headers[:2], d.Status, d.Code, d.Detail)
				}
				up := map[string]string{}
				for _, h := range d.SetHeaders {
					up[h[0]] = h[1]
				}
				if up["cookie"] != "theme=dark" || !strings.Contains(strings.Join(d.RemoveHeaders, ","), "cookie") {
					t.Errorf("upstream cookie %q (removing %v): tokengate's cookies must not go upstream", up["cookie"], d.RemoveHeaders)
				}
				if got := strings.HasPrefix(up["authorization"], "Bearer ey"); got != (forward == "true") {
					t.Errorf("upstream authorization %q with forward %s", up["authorization"], forward)
				}
			}
		})
	}
}

// TestCallbackRefusals: every callback that does not continue the
// sign-in this browser started is refused, with the state cookie cleared.
func TestCallbackRefusals(t *testing.T) {
	t.Parallel()
	g := compile(t, loginConfig(t, oneKey, "", "false"))
	at := time.Now()
	d := g.Decide(page("/", ""), at)
	q := redirected(t, d)
	cookies := jar(t, nil, d)
	state := q.Get("state")
	good := cookieHeader(cookies)
	other := jar(t, nil, g.Decide(page("/", ""), at)) // another sign-in's state cookie
	tampered := strings.Replace(good, "=1.v1.k1.", "=1.v1.k1.A", 1)
	tests := []struct {
		name, path, cookies string
		at                  time.Time
		status              int
		code                string
	}{
		{"no state cookie", "/oauth2/callback?code=c&state=" + state, "", at, 400, "login_state"},
		{"the state of another sign-in", "/oauth2/callback?code=c&state=" + state, cookieHeader(other), at, 400, "login_state"},
		{"a wrong state parameter", "/oauth2/callback?code=c&state=x" + state, good, at, 400, "login_state"},
		{"no state parameter", "/oauth2/callback?code=c", good, at, 400, "login_state"},
		{"a tampered state cookie", "/oauth2/callback?code=c&state=" + state, tampered, at, 400, "login_state"},
		{"an expired state cookie", "/oauth2/callback?code=c&state=" + state, good, at.Add(11 * time.Minute), 400, "login_state_expired"},
		{"another issuer (mix-up)", "/oauth2/callback?code=c&state=" + state + "&iss=https%3A%2F%2Fevil.example", good, at, 400, "login_callback_malformed"},
		{"the provider refused", "/oauth2/callback?error=access_denied&state=" + state, good, at, 403, "login_denied"},
		{"no code", "/oauth2/callback?state=" + state, good, at, 400, "login_callback_malformed"},
		{"the code twice", "/oauth2/callback?code=a&code=b&state=" + state, good, at, 400, "login_callback_malformed"},
		{"a broken escape", "/oauth2/callback?code=%zz&state=" + state, good, at, 400, "login_callback_malformed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := g.Decide(page(tt.path, tt.cookies), tt.at)
			if d.Login != nil || d.Status != tt.status || d.Code != tt.code {
				t.Fatalf("decision %d %s (%s), call %v; want %d %s", d.Status, d.Code, d.Detail, d.Login != nil, tt.status, tt.code)
			}
			if tt.cookies != "" && len(jar(t, map[string]string{"__Host-tokengate-state": "x"}, d)) != 0 {
				t.Error("the state cookie is not cleared")
			}
		})
	}
	t.Run("a POST to the callback is refused", func(t *testing.T) {
		d := g.Decide(xhr("POST", "/oauth2/callback?code=c&state="+state, good), at)
		if d.Status != 400 || d.Login != nil {
			t.Fatalf("decision %d %s", d.Status, d.Code)
		}
	})
}

// TestExchangeRefusals: every token endpoint answer that does not sign the
// browser in with tokens this configuration accepts is refused clearly.
func TestExchangeRefusals(t *testing.T) {
	t.Parallel()
	g := compile(t, loginConfig(t, oneKey, "", "false"))
	other, err := issuer.New(corpURL, issuer.RS256) // the issuer's name, other keys
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		answer func(p *idp) *LoginAnswer
		status int
		code   string
		detail string
	}{
		{"no answer", func(*idp) *LoginAnswer { return nil }, 503, "login_provider_failed", "did not answer"},
		{"the code was used already (a replay)", func(*idp) *LoginAnswer { return refusal(400, "invalid_grant") }, 400, "login_code_refused", "invalid_grant"},
		{"the client is refused", func(*idp) *LoginAnswer { return refusal(401, "invalid_client") }, 503, "login_provider_failed", "invalid_client"},
		{"a server error", func(*idp) *LoginAnswer { return &LoginAnswer{Status: 500, Body: []byte("oops")} }, 503, "login_provider_failed", "500"},
		{"HTML instead of JSON", func(*idp) *LoginAnswer {
			return &LoginAnswer{Status: 200, ContentType: "text/html", Body: []byte("<html>")}
		}, 503, "login_provider_failed", "not a JSON object"},
		{"another token type", func(p *idp) *LoginAnswer {
			a := p.tokens("r")
			a.Body = []byte(strings.Replace(string(a.Body), `"Bearer"`, `"mac"`, 1))
			return a
		}, 503, "login_provider_failed", "not Bearer"},
		{"no ID token", func(p *idp) *LoginAnswer {
			a := p.tokens("r")
			var m map[string]any
			_ = json.Unmarshal(a.Body, &m)
			delete(m, "id_token")
			a.Body, _ = json.Marshal(m)
			return a
		}, 403, "login_tokens_refused", "no id_token"},
		{"an ID token with another nonce", func(p *idp) *LoginAnswer { p.id = issuer.Claims{"nonce": "replayed"}; return p.tokens("r") },
			403, "login_tokens_refused", "nonce"},
		{"an ID token without a nonce", func(p *idp) *LoginAnswer { p.id = issuer.Claims{"nonce": nil}; return p.tokens("r") },
			403, "login_tokens_refused", "nonce"},
		{"an ID token for another client", func(p *idp) *LoginAnswer { p.id = issuer.Claims{"aud": "other", "azp": nil}; return p.tokens("r") },
			403, "login_tokens_refused", "client id"},
		{"an ID token issued to another party", func(p *idp) *LoginAnswer { p.id = issuer.Claims{"azp": "other"}; return p.tokens("r") },
			403, "login_tokens_refused", "azp"},
		{"an ID token for several audiences without azp", func(p *idp) *LoginAnswer {
			p.id = issuer.Claims{"aud": []string{clientID, "other"}, "azp": nil}
			return p.tokens("r")
		}, 403, "login_tokens_refused", "no azp"},
		{"an expired ID token", func(p *idp) *LoginAnswer {
			p.id = issuer.Claims{"exp": time.Now().Add(-time.Hour).Unix(), "iat": time.Now().Add(-2 * time.Hour).Unix()}
			return p.tokens("r")
		}, 403, "login_tokens_refused", "expired"},
		{"an ID token of another issuer", func(p *idp) *LoginAnswer { p.id = issuer.Claims{"iss": otherURL}; return p.tokens("r") },
			403, "login_tokens_refused", "iss"},
		{"an ID token signed with another key", func(p *idp) *LoginAnswer {
			a := p.tokens("r")
			var m map[string]any
			_ = json.Unmarshal(a.Body, &m)
			forged, _ := other.Mint(issuer.Claims{"aud": clientID, "azp": clientID, "sub": "alice", "nonce": p.nonce},
				issuer.WithHeader("kid", "RS256-1"))
			m["id_token"] = forged
			a.Body, _ = json.Marshal(m)
			return a
		}, 403, "login_tokens_refused", "signature"},
		{"an access token for another audience", func(p *idp) *LoginAnswer { p.access = issuer.Claims{"aud": "account"}; return p.tokens("r") },
			403, "login_tokens_refused", "audience not accepted"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			at := time.Now()
			d := g.Decide(page("/", ""), at)
			q := redirected(t, d)
			cookies := jar(t, nil, d)
			cb := g.Decide(page("/oauth2/callback?code=c&state="+q.Get("state"), cookieHeader(cookies)), at)
			_, req := g.PlanLogin(&cb, 1, at)
			res := g.FinishLogin(req.Key, tt.answer(&idp{t: t, nonce: q.Get("nonce")}), at)
			got := res[0].Decision
			if got.Allow || got.Status != tt.status || got.Code != tt.code || !strings.Contains(got.Detail, tt.detail) {
				t.Fatalf("decision %d %s (%s), want %d %s mentioning %q", got.Status, got.Code, got.Detail, tt.status, tt.code, tt.detail)
			}
			if len(jar(t, cookies, got)) != 0 {
				t.Error("a failed sign-in leaves its state cookie")
			}
			checkBody(t, got, map[int]string{400: "invalid_request", 403: "access_denied", 503: "temporarily_unavailable"}[tt.status])
		})
	}
}

// TestSessionCookieRefusals: a session cookie that is tampered with,
// expired, sealed with a retired key or given twice is refused clearly and
// cleared; a page load is sent to sign in again when that can help.
func TestSessionCookieRefusals(t *testing.T) {
	t.Parallel()
	g := compile(t, loginConfig(t, oneKey, "", "false"))
	at := time.Now()
	cookies, _ := signedIn(t, g, &idp{t: t}, "/", at)
	good := cookies["__Host-tokengate"]
	rotated := compile(t, loginConfig(t, `[{"id": "k2", "key": "`+cookieKey2+`"}, {"id": "k1", "key": "`+cookieKey1+`"}]`, "", "false"))
	retired := compile(t, loginConfig(t, `[{"id": "k2", "key": "`+cookieKey2+`"}]`, "", "false"))
	tests := []struct {
		name   string
		g      *Gate
		req    *Request
		at     time.Time
		status int
		code   string
	}{
		{"the session passes", g, xhr("GET", "/x", "__Host-tokengate="+good), at, 0, ""},
		{"after a key rotation the old key still reads it", rotated, xhr("GET", "/x", "__Host-tokengate="+good), at, 0, ""},
		{"a tampered cookie is refused", g, xhr("GET", "/x", "__Host-tokengate="+good[:40]+"x"+good[41:]), at, 401, "session_invalid"},
		{"a truncated cookie is refused", g, xhr("GET", "/x", "__Host-tokengate="+good[:len(good)-10]), at, 401, "session_invalid"},
		{"a cookie of a retired key is an expired session", retired, xhr("GET", "/x", "__Host-tokengate="+good), at, 401, "session_expired"},
		{"a cookie of a retired key sends a page load to sign in", retired, page("/x", "__Host-tokengate="+good), at, 302, "login_redirect"},
		{"a cookie past the session lifetime is expired", g, xhr("GET", "/x", "__Host-tokengate="+good), at.Add(9 * time.Hour), 401, "session_expired"},
		{"a page load past the session lifetime is sent to sign in", g, page("/x", "__Host-tokengate="+good), at.Add(9 * time.Hour), 302, "login_redirect"},
		{"the cookie twice is refused", g, xhr("GET", "/x", "__Host-tokengate="+good+"; __Host-tokengate="+good), at, 400, "session_malformed"},
		{"a cookie without its chunk count is refused", g, xhr("GET", "/x", "__Host-tokengate="+good[2:]), at, 400, "session_malformed"},
		{"a session and a bearer token are two credentials", g, func() *Request {
			r := xhr("GET", "/x", "__Host-tokengate="+good)
			r.Headers = append(r.Headers, [2]string{"authorization", "Bearer " + mint(t, fx(t).corp, nil)})
			return r
		}(), at, 400, "token_multiple"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := tt.g.Decide(tt.req, tt.at)
			if tt.status == 0 {
				if !d.Allow {
					t.Fatalf("refused %d %s (%s)", d.Status, d.Code, d.Detail)
				}
				return
			}
			if d.Allow || d.Status != tt.status || d.Code != tt.code {
				t.Fatalf("decision %v %d %s (%s), want %d %s", d.Allow, d.Status, d.Code, d.Detail, tt.status, tt.code)
			}
			if tt.code != "token_multiple" {
				if left := jar(t, map[string]string{"__Host-tokengate": good}, d); left["__Host-tokengate"] != "" {
					t.Error("the refused session cookie is not cleared")
				}
			}
		})
	}
}

// TestSessionRefresh: a session whose access token is due is refreshed
// with one call however many requests are due at once, and each request is
// repeated with the new cookie; a refresh token the provider refuses ends
// the session.
func TestSessionRefresh(t *testing.T) {
	t.Parallel()
	at := time.Now()
	p := &idp{t: t, ttl: 2 * time.Minute}
	g := compile(t, loginConfig(t, oneKey, `, "refresh_before_seconds": 30`, "false"))
	cookies, _ := signedIn(t, g, p, "/", at)
	jarHeader := cookieHeader(cookies)
	if d := g.Decide(xhr("GET", "/x", jarHeader), at.Add(80*time.Second)); !d.Allow {
		t.Fatalf("before the refresh point: refused %d %s", d.Status, d.Code)
	}
	due := at.Add(95 * time.Second) // 120 s tokens, refreshed 30 s ahead
	first := g.Decide(xhr("POST", "/ajax-api/2.0/mlflow/runs/search?x=1", jarHeader), due)
	second := g.Decide(page("/ui/", jarHeader), due)
	if first.Login == nil || second.Login == nil {
		t.Fatalf("requests due for a refresh: %d %s, %d %s", first.Status, first.Code, second.Status, second.Code)
	}
	step, req := g.PlanLogin(&first, 1, due)
	if step2, _ := g.PlanLogin(&second, 2, due); step != LoginSend || step2 != LoginWait {
		t.Fatalf("steps %v, %v: the second request must wait on the first's call", step, step2)
	}
	form, _ := url.ParseQuery(string(req.Body))
	if form.Get("grant_type") != "refresh_token" || form.Get("refresh_token") != "rt-1" {
		t.Fatalf("refresh body %v", form)
	}
	res := g.FinishLogin(req.Key, p.tokens("rt-2"), due)
	if len(res) != 2 {
		t.Fatalf("%d results, want 2", len(res))
	}
	for i, want := range []string{"/ajax-api/2.0/mlflow/runs/search?x=1", "/ui/"} {
		d := res[i].Decision
		if d.Status != 307 || d.Code != "session_refreshed" || header(d, "location") != want {
			t.Fatalf("request %d: %d %s %q (%s)", i, d.Status, d.Code, header(d, "location"), d.Detail)
		}
	}
	old := cookies["__Host-tokengate"]
	renewed := jar(t, cookies, res[0].Decision)
	if renewed["__Host-tokengate"] == old {
		t.Fatal("the refresh set no new session cookie")
	}
	if d := g.Decide(xhr("GET", "/x", cookieHeader(renewed)), due); !d.Allow {
		t.Fatalf("with the refreshed session: %d %s (%s)", d.Status, d.Code, d.Detail)
	}

	tests := []struct {
		name   string
		answer *LoginAnswer
		req    *Request
		status int
		code   string
		clears bool
	}{
		{"the provider ended the session: a script gets 401", refusal(400, "invalid_grant"), xhr("GET", "/x", jarHeader), 401, "session_ended", true},
		{"the provider ended the session: a page load signs in again", refusal(400, "invalid_grant"), page("/x", jarHeader), 302, "login_redirect", true},
		{"the provider does not answer: 503, the session kept", nil, xhr("GET", "/x", jarHeader), 503, "session_not_refreshed", false},
		{"the provider refuses the client, not the session: 503, the session kept", refusal(401, "invalid_client"), page("/x", jarHeader), 503, "session_not_refreshed", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := g.Decide(tt.req, due)
			_, req := g.PlanLogin(&d, 9, due)
			got := g.FinishLogin(req.Key, tt.answer, due)[0].Decision
			if got.Status != tt.status || got.Code != tt.code {
				t.Fatalf("decision %d %s (%s), want %d %s", got.Status, got.Code, got.Detail, tt.status, tt.code)
			}
			left := jar(t, map[string]string{"__Host-tokengate": "x"}, got)
			if cleared := left["__Host-tokengate"] == ""; cleared != tt.clears {
				t.Errorf("session cookie cleared: %v, want %v", cleared, tt.clears)
			}
		})
	}
}

// TestLogout clears the cookies and sends the browser to the provider's
// end_session_endpoint with the session's ID token as the hint.
func TestLogout(t *testing.T) {
	t.Parallel()
	g := compile(t, loginConfig(t, oneKey, "", "false"))
	at := time.Now()
	cookies, _ := signedIn(t, g, &idp{t: t}, "/", at)
	d := g.Decide(page("/oauth2/logout", cookieHeader(cookies)), at)
	loc, err := url.Parse(header(d, "location"))
	if d.Status != 302 || d.Code != "logout" || err != nil {
		t.Fatalf("logout answered %d %s %q", d.Status, d.Code, header(d, "location"))
	}
	q := loc.Query()
	if loc.Path != "/realms/ml/protocol/openid-connect/logout" || q.Get("client_id") != clientID ||
		q.Get("post_logout_redirect_uri") != "https://mlflow.example.com/" || !strings.HasPrefix(q.Get("id_token_hint"), "ey") {
		t.Fatalf("logout location %s", loc)
	}
	if left := jar(t, cookies, d); len(left) != 0 {
		t.Fatalf("cookies left after logout: %v", left)
	}
	if d := g.Decide(page("/oauth2/logout", ""), at); d.Status != 302 || strings.Contains(header(d, "location"), "id_token_hint") {
		t.Fatalf("logout without a session: %d %q", d.Status, header(d, "location"))
	}
}

// TestLoginCookiesNeverGoUpstream: on every route, tokengate's cookies are
// removed from the request that goes upstream, and the others kept.
func TestLoginCookiesNeverGoUpstream(t *testing.T) {
	t.Parallel()
	g := compile(t, loginConfig(t, oneKey, "", "false"))
	tests := []struct {
		name, cookie, kept string
	}{
		{"a public route with a session", "a=1; __Host-tokengate=2.x; __Host-tokengate-1=y; __Host-tokengate-state=1.z; b=2", "a=1; b=2"},
		{"only tokengate's cookies", "__Host-tokengate=1.x", ""},
		{"no cookie of tokengate's", "a=1", "a=1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := g.Decide(get("/health", "cookie", tt.cookie), time.Now())
			if !d.Allow {
				t.Fatalf("refused %d", d.Status)
			}
			var set []string
			for _, h := range d.SetHeaders {
				if h[0] == "cookie" {
					set = append(set, h[1])
				}
			}
			removed := strings.Contains(strings.Join(d.RemoveHeaders, ","), "cookie")
			switch {
			case tt.kept == tt.cookie && (removed || len(set) > 0):
				t.Errorf("the cookie header was changed: removed %v, set %v", removed, set)
			case tt.kept != tt.cookie && (!removed || strings.Join(set, "") != tt.kept):
				t.Errorf("upstream cookie %q (removed %v), want %q", set, removed, tt.kept)
			}
		})
	}
}

// TestSignInFailsClosedWithoutRandomness: when random_get fails, a page
// load gets 503, never a predictable state.
func TestSignInFailsClosedWithoutRandomness(t *testing.T) {
	t.Parallel()
	g := compile(t, loginConfig(t, oneKey, "", "false"), WithRandom(func([]byte) error { return errors.New("random_get: EIO") }))
	d := g.Decide(page("/", ""), time.Now())
	if d.Status != 503 || d.Code != "login_no_randomness" || header(d, "location") != "" {
		t.Fatalf("decision %d %s %q", d.Status, d.Code, header(d, "location"))
	}
}

// TestLoginConfiguration: what a "login" object must hold, and the
// mistakes refused with their JSON path.
func TestLoginConfiguration(t *testing.T) {
	t.Parallel()
	jwks := string(fx(t).corp.JWKS())
	withLogin := func(login string) string {
		return `{"providers": {"corp": {"issuer": "` + corpURL + `", "jwks": ` + jwks + `, "login": ` + login + `}}}`
	}
	good := loginProvider(oneKey, "")
	tests := []struct {
		name, config, want string
	}{
		{"the tests' configuration", loginConfig(t, oneKey, "", "false"), ""},
		{"no rules: the one login provider signs in", withLogin(good), ""},
		{"an unknown field", withLogin(strings.Replace(good, `"cluster"`, `"clster": 1, "cluster"`, 1)), "providers.corp.login.clster: unknown field"},
		{"no client secret", withLogin(strings.Replace(good, `"client_secret": "s3cret:/+",`, "", 1)), "login.client_secret: is required"},
		{"no cookie keys", withLogin(strings.Replace(good, `"cookie_keys": `+oneKey, `"cookie_name": "tg"`, 1)), "cookie_keys: is required"},
		{"a short cookie key", withLogin(loginProvider(`[{"id": "k1", "key": "AQEB"}]`, "")), "cookie_keys[0].key: must be 32 random bytes"},
		{"a bad key id", withLogin(loginProvider(`[{"id": "k 1", "key": "`+cookieKey1+`"}]`, "")), "cookie_keys[0].id"},
		{"a key id twice", withLogin(loginProvider(`[{"id": "k1", "key": "`+cookieKey1+`"}, {"id": "k1", "key": "`+cookieKey2+`"}]`, "")), "cookie_keys[1].id: is given twice"},
		{"an http redirect URI", withLogin(strings.Replace(good, "https://mlflow.example.com/oauth2", "http://mlflow.example.com/oauth2", 1)), "redirect_uri: must be https"},
		{"an http redirect URI to localhost is for development", withLogin(strings.Replace(good, "https://mlflow.example.com/oauth2", "http://localhost:8080/oauth2", 1)), ""},
		{"a redirect URI with a query", withLogin(strings.Replace(good, "/oauth2/callback", "/oauth2/callback?x=1", 1)), "no query"},
		{"a redirect URI with user info", withLogin(strings.Replace(good, "https://mlflow.example.com/oauth2", "https://u@mlflow.example.com/oauth2", 1)), "no user info"},
		{"a logout path that is the callback", withLogin(strings.Replace(good, `"/oauth2/logout"`, `"/oauth2/callback"`, 1)), "must differ"},
		{"a scope with a space", withLogin(strings.Replace(good, `"profile"`, `"pro file"`, 1)), "scopes[1]"},
		{"no cluster", withLogin(strings.Replace(good, `"cluster": "idp",`, "", 1)), "login.cluster: is required"},
		{"a rule naming a provider without login", strings.Replace(loginConfig(t, oneKey, "", "false"), `"login": false`, `"login": "nobody"`, 1), "rules[1].login: must name a provider"},
		{"login on a rule without requires", strings.Replace(loginConfig(t, oneKey, "", "false"), `{"match": {"prefix": "/health"}}`, `{"match": {"prefix": "/health"}, "login": false}`, 1), "rules[0].login: needs \"requires\""},
		{"login on a passphrase provider", `{"providers": {"p": {"type": "passphrase", "passphrase": "0123456789abcdefghij", "login": {}}}}`, "does not apply to a passphrase provider"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := Compile([]byte(tt.config))
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("Compile = %v, want an error containing %q", err, tt.want)
			case err != nil && (strings.Contains(err.Error(), cookieKey1) || strings.Contains(err.Error(), "s3cret")):
				t.Fatalf("the error quotes a secret: %v", err)
			}
		})
	}
}

// aliased returns r with every header name and value viewing one buffer,
// as the plugin's binding hands them over, and the buffer, which the test
// overwrites as the host reuses it after the callback.
func aliased(r *Request) (*Request, []byte) {
	var buf []byte
	for _, h := range r.Headers {
		buf = append(buf, h[0]...)
		buf = append(buf, h[1]...)
	}
	out := &Request{}
	off := 0
	view := func(n int) string {
		s := unsafe.String(unsafe.SliceData(buf[off:]), n)
		off += n
		return s
	}
	for _, h := range r.Headers {
		out.Headers = append(out.Headers, [2]string{view(len(h[0])), view(len(h[1]))})
	}
	return out, buf
}

// TestLoginKeepsNoRequestMemory: what a call keeps of the request it
// answers later (the cookies to clear, where to repeat it) survives the
// host reusing the request's memory.
func TestLoginKeepsNoRequestMemory(t *testing.T) {
	t.Parallel()
	g := compile(t, loginConfig(t, oneKey, `, "refresh_before_seconds": 30`, "false"))
	at := time.Now()
	p := &idp{t: t, ttl: 2 * time.Minute}
	d := g.Decide(page("/", ""), at)
	q := redirected(t, d)
	p.nonce = q.Get("nonce")
	cookies := jar(t, nil, d)
	cookies["__Host-tokengate-3"] = "stale"
	req, buf := aliased(page("/oauth2/callback?code=c&state="+q.Get("state"), cookieHeader(cookies)))
	cb := g.Decide(req, at)
	_, call := g.PlanLogin(&cb, 1, at)
	clear(buf)
	done := g.FinishLogin(call.Key, p.tokens("rt-1"), at)[0].Decision
	cookies = jar(t, cookies, done)
	if done.Status != 302 || len(cookies) != 1 || cookies["__Host-tokengate"] == "" {
		t.Fatalf("after the request's memory was reused: %d %s, cookies %v", done.Status, done.Code, cookies)
	}

	req, buf = aliased(xhr("GET", "/ajax-api/x?y=1", cookieHeader(cookies)))
	due := g.Decide(req, at.Add(95*time.Second))
	_, call = g.PlanLogin(&due, 2, at)
	for i := range buf {
		buf[i] = 'A'
	}
	refreshed := g.FinishLogin(call.Key, p.tokens("rt-2"), at.Add(95*time.Second))[0].Decision
	if refreshed.Status != 307 || header(refreshed, "location") != "/ajax-api/x?y=1" {
		t.Fatalf("refresh after the request's memory was reused: %d %q", refreshed.Status, header(refreshed, "location"))
	}
}

// TestSignInKeepsTheBearerPathFree: with sign-in configured, a cached
// bearer token and a public route still allocate nothing.
func TestSignInKeepsTheBearerPathFree(t *testing.T) {
	g := compile(t, loginConfig(t, oneKey, "", "false"))
	tests := []struct {
		name string
		req  *Request
	}{
		{"a cached token", get("/x", bearer(mint(t, fx(t).corp, nil, issuer.WithTTL(time.Hour)))...)},
		{"a cached token on a rule without sign-in", get("/api/x", bearer(mint(t, fx(t).corp, nil, issuer.WithTTL(time.Hour)))...)},
		{"a public route", get("/health")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if d := g.Decide(tt.req, time.Now()); !d.Allow {
				t.Fatalf("refused: %s", d.Reason)
			}
			now := time.Now()
			if n := testing.AllocsPerRun(100, func() { g.Decide(tt.req, now) }); n != 0 {
				t.Errorf("Decide allocates %.0f times per request, want 0", n)
			}
		})
	}
}

// TestExplainSignIn: tokengate explain shows the sign-in steps it takes.
func TestExplainSignIn(t *testing.T) {
	t.Parallel()
	g := compile(t, loginConfig(t, oneKey, "", "false"))
	tests := []struct {
		name string
		req  *Request
		step string
		code string
	}{
		{"a page load is sent to sign in", page("/ui/", ""), `a browser loading a page: sent to sign in with provider "corp"`, "login_redirect"},
		{"the callback is tokengate's", page("/oauth2/callback?code=c&state=s", ""), `the sign-in callback of provider "corp"`, "login_state"},
		{"the logout is tokengate's", page("/oauth2/logout", ""), `the logout path of provider "corp"`, "logout"},
		{"a tampered session is named", xhr("GET", "/x", "__Host-tokengate=1.v1.k1.AAAA"), `session cookie "__Host-tokengate": the cookie is malformed`, "session_invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := g.Explain(tt.req, time.Now())
			var steps []string
			for _, s := range tr.Steps {
				steps = append(steps, s.Check)
			}
			if !strings.Contains(strings.Join(steps, "\n"), tt.step) || tr.Decision.Code != tt.code {
				t.Fatalf("decision %s, steps:\n%s\nwant a step %q and %s", tr.Decision.Code, strings.Join(steps, "\n"), tt.step, tt.code)
			}
		})
	}
}
