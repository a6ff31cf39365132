package gate

import (
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"github.com/tidwall/gjson"

	"github.com/tokengate/tokengate/plugin/internal/session"
)

// Browser sign-in (docs/configuration.md, "Sign-in"; SECURITY.md, "Browser
// sessions"). A provider with "login" signs browsers in with the OpenID
// Connect authorization code flow and PKCE, and keeps them signed in with an
// encrypted session cookie:
//
//   - a browser's request for a page (GET or HEAD accepting text/html) that
//     carries no credential, on a rule that accepts the provider, is
//     redirected to the provider's authorization endpoint (loginflow.go),
//     bound to the browser by a short-lived encrypted state cookie;
//   - the provider sends the browser back to the redirect URI's path, where
//     the code is exchanged at the token endpoint by an HTTP call the
//     request waits for (logincall.go), the ID token is verified
//     (loginidtoken.go), and the session cookie is set;
//   - later requests carry the session: its access token is judged exactly
//     like an Authorization: Bearer header, and refreshed with the refresh
//     token before it expires;
//   - the logout path clears the cookies and sends the browser to the
//     provider's end_session_endpoint.
//
// Everything here is per configuration except the calls in flight (per VM,
// like the key refresh's).

// login is one provider's sign-in.
type login struct {
	provider     *provider
	clientID     string
	clientSecret string
	clientPost   bool // client_secret_post instead of client_secret_basic
	redirectURI  string
	callback     string // redirectURI's path
	authorize    string // the authorization endpoint, with any query it has
	token        endpoint
	endSession   string // "" when the provider has none
	postLogout   string // "" for none
	logoutPath   string // "" for none
	scopes       string // space-separated, "openid" first

	session, state *session.Codec
	lifetime       time.Duration // of a session, from its sign-in
	refreshBefore  time.Duration // refresh the access token this long before it expires
	stateLifetime  time.Duration // of a sign-in in progress
	timeout        uint32        // milliseconds, of a token endpoint call

	src source // the session cookie as a credential source (fromSession)
}

// endpoint is an HTTP endpoint the plugin calls through a named upstream.
type endpoint struct {
	cluster, authority, path string
}

// logins is the sign-in part of a Gate: the providers with "login", and the
// token endpoint calls in flight on this VM.
type logins struct {
	list  []*login
	calls map[string]*tokenWait // by LoginCall key (logincall.go)
}

const (
	defaultCookieName     = "__Host-tokengate"
	defaultLoginLifetime  = 8 * 3600
	defaultRefreshBefore  = 60
	defaultStateLifetime  = 600
	defaultLoginTimeoutMS = 5000
)

var loginFields = []string{"client_id", "client_secret", "client_auth", "redirect_uri", "authorization_endpoint",
	"token_endpoint", "end_session_endpoint", "cluster", "timeout_ms", "scopes", "logout_path",
	"post_logout_redirect_uri", "cookie_name", "cookie_keys", "session_lifetime_seconds", "refresh_before_seconds",
	"state_lifetime_seconds"}

// WithRandom makes the gate draw the randomness of sign-ins (state, nonce,
// PKCE verifier, cookie nonces) from read, which fills its argument or
// returns an error; a sign-in whose randomness fails is answered with 503.
// The default is session.SystemRandom: WASI random_get in the module (whose
// failure crypto/rand would turn into a crash), crypto/rand elsewhere.
func WithRandom(read func([]byte) error) Option { return func(g *Gate) { g.random = read } }

// readRandom fills b from the gate's randomness.
func (g *Gate) readRandom(b []byte) error {
	if g.random != nil {
		return g.random(b)
	}
	return session.SystemRandom(b)
}

// login reads a provider's "login" object.
func (c *compiler) login(path string, v gjson.Result, p *provider) *login {
	if !v.Exists() {
		return nil
	}
	if !c.fields(path, v, loginFields...) {
		return nil
	}
	l := &login{provider: p, src: source{kind: fromSession}}
	l.clientID = c.str(path+".client_id", v.Get("client_id"), "")
	if l.clientID == "" || !printable(l.clientID) {
		c.fail(path+".client_id", "is required: the client id registered at the provider, printable ASCII")
	}
	l.clientSecret = c.str(path+".client_secret", v.Get("client_secret"), "")
	if l.clientSecret == "" || !printable(l.clientSecret) {
		c.fail(path+".client_secret", "is required: the confidential client's secret, printable ASCII")
	}
	switch auth := c.str(path+".client_auth", v.Get("client_auth"), "basic"); auth {
	case "basic":
	case "post":
		l.clientPost = true
	default:
		c.fail(path+".client_auth", `must be "basic" (client_secret_basic) or "post" (client_secret_post)`)
	}

	l.redirectURI, _, l.callback = c.loginURL(path+".redirect_uri", v.Get("redirect_uri"), true)
	if l.callback != "" {
		if canon, ok := canonicalPath(l.callback, false); !ok || canon != l.callback || strings.Contains(l.redirectURI, "?") {
			c.fail(path+".redirect_uri", "must have a canonical path and no query: tokengate answers that path itself")
		}
	}
	l.authorize, _, _ = c.loginURL(path+".authorization_endpoint", v.Get("authorization_endpoint"), true)
	tokenURL, tokenOrigin, tokenPath := c.loginURL(path+".token_endpoint", v.Get("token_endpoint"), true)
	l.token = endpoint{cluster: c.str(path+".cluster", v.Get("cluster"), ""), path: tokenPath}
	if tokenURL != "" {
		_, l.token.authority, _ = strings.Cut(tokenOrigin, "://")
	}
	if l.token.cluster == "" || !printable(l.token.cluster) {
		c.fail(path+".cluster", "is required: the upstream (Envoy cluster, or tokengate-proxy --call-upstream) that reaches the token endpoint")
	}
	if e := v.Get("end_session_endpoint"); e.Exists() {
		l.endSession, _, _ = c.loginURL(path+".end_session_endpoint", e, true)
	}
	if e := v.Get("post_logout_redirect_uri"); e.Exists() {
		l.postLogout, _, _ = c.loginURL(path+".post_logout_redirect_uri", e, true)
	}
	if e := v.Get("logout_path"); e.Exists() {
		l.logoutPath = c.str(path+".logout_path", e, "")
		if canon, ok := canonicalPath(l.logoutPath, false); l.logoutPath == "" || !ok || canon != l.logoutPath {
			c.fail(path+".logout_path", "must be a canonical absolute path")
		} else if l.logoutPath == l.callback {
			c.fail(path+".logout_path", "must differ from the redirect_uri's path")
		}
	}
	l.timeout = uint32(c.number(path+".timeout_ms", v.Get("timeout_ms"), defaultLoginTimeoutMS, 60000))
	if l.timeout == 0 {
		c.fail(path+".timeout_ms", "must be at least 1: a sign-in waits this long for the token endpoint")
	}

	scopes := c.strings(path+".scopes", v.Get("scopes"))
	if scopes == nil {
		scopes = []string{"openid"}
	}
	list := []string{"openid"}
	for i, s := range scopes {
		if !scopeToken(s) {
			c.fail(path+".scopes["+strconv.Itoa(i)+"]", "must be an RFC 6749 scope token (printable ASCII without spaces, quotes or backslashes)")
		}
		if s != "openid" {
			list = append(list, s)
		}
	}
	l.scopes = strings.Join(list, " ")

	l.lifetime = time.Duration(c.number(path+".session_lifetime_seconds", v.Get("session_lifetime_seconds"), defaultLoginLifetime, 30*86400)) * time.Second
	l.refreshBefore = time.Duration(c.number(path+".refresh_before_seconds", v.Get("refresh_before_seconds"), defaultRefreshBefore, 3600)) * time.Second
	l.stateLifetime = time.Duration(c.number(path+".state_lifetime_seconds", v.Get("state_lifetime_seconds"), defaultStateLifetime, 3600)) * time.Second
	if l.lifetime < time.Minute {
		c.fail(path+".session_lifetime_seconds", "must be at least 60")
	}
	if l.stateLifetime < 30*time.Second {
		c.fail(path+".state_lifetime_seconds", "must be at least 30: the time a person has to sign in at the provider")
	}

	name := c.str(path+".cookie_name", v.Get("cookie_name"), defaultCookieName)
	keys := c.cookieKeys(path+".cookie_keys", v.Get("cookie_keys"))
	if c.err != nil {
		return nil
	}
	if strings.HasPrefix(name, "__Host-") && !strings.HasPrefix(l.redirectURI, "https://") && !loopbackURL(l.redirectURI) {
		c.fail(path+".cookie_name", "a __Host- cookie needs an https redirect_uri")
	}
	read := session.WithRandom(func(b []byte) error { return p.gate.readRandom(b) })
	var err error
	if l.session, err = session.NewCodec(name, keys, read); err == nil {
		l.state, err = session.NewCodec(name+"-state", keys, read)
	}
	if err != nil {
		c.fail(path+".cookie_name", err.Error())
		return nil
	}
	l.src.name = name
	if c.err != nil {
		return nil
	}
	return l
}

// cookieKeys reads "cookie_keys": [{"id": "...", "key": "<base64 of 32
// bytes>"}]. Error messages never quote a key.
func (c *compiler) cookieKeys(path string, v gjson.Result) []session.Key {
	if !v.Exists() || !v.IsArray() || len(v.Array()) == 0 {
		c.fail(path, `is required: [{"id": "k1", "key": "<32 random bytes, base64>"}], the first encrypts, all decrypt (generate a key with: openssl rand -base64 32)`)
		return nil
	}
	var keys []session.Key
	for i, k := range v.Array() {
		kp := path + "[" + strconv.Itoa(i) + "]"
		if !c.fields(kp, k, "id", "key") {
			return nil
		}
		id := c.str(kp+".id", k.Get("id"), "")
		if !session.KeyID(id) {
			c.fail(kp+".id", "must be 1 to "+strconv.Itoa(session.MaxKeyID)+" letters, digits, \"-\" or \"_\"")
			return nil
		}
		secret, ok := decodeKey(c.str(kp+".key", k.Get("key"), ""))
		if !ok {
			c.fail(kp+".key", "must be "+strconv.Itoa(session.KeySize)+" random bytes in base64 (standard or URL alphabet, padded or not): openssl rand -base64 32")
			return nil
		}
		for _, prev := range keys {
			if prev.ID == id {
				c.fail(kp+".id", "is given twice")
				return nil
			}
		}
		keys = append(keys, session.Key{ID: id, Secret: secret})
	}
	return keys
}

// decodeKey decodes a cookie key of exactly session.KeySize bytes.
func decodeKey(s string) ([]byte, bool) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.Strict().DecodeString(s); err == nil && len(b) == session.KeySize {
			return b, true
		}
	}
	return nil, false
}

// loginURL reads an absolute URL of the sign-in: https, or http to a
// loopback host (for development), with no user info or fragment. It
// returns the URL, its origin ("https://host[:port]") and its path with any
// query ("/" when it has none). required says whether it must be present.
func (c *compiler) loginURL(path string, v gjson.Result, required bool) (url, origin, target string) {
	s := c.str(path, v, "")
	if s == "" {
		if required {
			c.fail(path, "is required: an absolute https URL")
		}
		return "", "", ""
	}
	scheme, rest, ok := strings.Cut(s, "://")
	host, _, _ := strings.Cut(rest, "/")
	host, _, _ = strings.Cut(host, "?")
	target = rest[len(host):]
	switch {
	case !ok || scheme != "https" && scheme != "http":
		c.fail(path, "must be an absolute https URL")
	case host == "" || strings.ContainsAny(host, "@\\") || !printable(s) || strings.ContainsAny(s, " #\"<>\\^`{|}"):
		c.fail(path, "must be an absolute URL with a host, no user info, fragment, spaces or backslashes")
	case scheme == "http" && !loopbackURL(s):
		c.fail(path, "must be https (http only to localhost, 127.0.0.1 or [::1], for development)")
	default:
		if target == "" {
			target = "/"
		} else if target[0] == '?' {
			target = "/" + target
		}
		return s, scheme + "://" + host, target
	}
	return "", "", ""
}

// loopbackURL reports whether an http(s) URL names a loopback host.
func loopbackURL(s string) bool {
	_, rest, _ := strings.Cut(s, "://")
	host, _, _ := strings.Cut(rest, "/")
	host, _, _ = strings.Cut(host, "?")
	if strings.HasPrefix(host, "[") {
		h, _, _ := strings.Cut(host, "]")
		return h == "[::1"
	}
	h, _, _ := strings.Cut(host, ":")
	return h == "localhost" || h == "127.0.0.1"
}

// scopeToken reports whether s is an RFC 6749 §3.3 scope-token.
func scopeToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if ch := s[i]; ch <= ' ' || ch > '~' || ch == '"' || ch == '\\' {
			return false
		}
	}
	return true
}

// loginRules reads the "login" of every provider and ties sign-in to the
// rules, once every provider and rule is compiled: which login providers'
// sessions each rule reads (those of the providers it accepts), and which
// one signs a browser in ("login" on the rule, or the one login provider it
// accepts). root is the whole configuration.
func (c *compiler) loginRules(g *Gate, root gjson.Result) {
	if g == nil || c.err != nil {
		return
	}
	root.Get("providers").ForEach(func(name, v gjson.Result) bool {
		lv := v.Get("login")
		p := g.provider(name.Str)
		if !lv.Exists() || p == nil {
			return true
		}
		path := "providers." + name.Str + ".login"
		switch typ := v.Get("type").Str; {
		case typ == "passphrase":
			c.fail(path, "does not apply to a passphrase provider")
		case typ != "" && typ != "jwt":
			c.fail(path, "needs a provider of \"type\": \"jwt\": the session's access token is verified as a JWT")
		case v.Get("tenants").Exists():
			c.fail(path, "needs a provider of one issuer, not an issuer template")
		default:
			p.login = c.login(path, lv, p)
		}
		return c.err == nil
	})
	if c.err != nil {
		return
	}
	rules := root.Get("rules")
	for _, p := range g.providers {
		if p.login == nil {
			continue
		}
		if g.login == nil {
			g.login = &logins{calls: map[string]*tokenWait{}}
		}
		for _, o := range g.login.list {
			switch {
			case o.session.Name() == p.login.session.Name() || o.state.Name() == p.login.session.Name() || o.session.Name() == p.login.state.Name():
				c.fail("providers."+p.name+".login.cookie_name", "is also provider "+strconv.Quote(o.provider.name)+"'s: each provider needs cookies of its own")
			case o.callback == p.login.callback || o.callback == p.login.logoutPath || o.logoutPath != "" && (o.logoutPath == p.login.callback || o.logoutPath == p.login.logoutPath):
				c.fail("providers."+p.name+".login", "its redirect_uri or logout_path is also provider "+strconv.Quote(o.provider.name)+"'s")
			}
		}
		g.login.list = append(g.login.list, p.login)
	}
	if g.rules == nil {
		if g.anyRule != nil {
			g.anyRule.sessions = sessionsOf(g.anyRule.providers)
			switch len(g.anyRule.sessions) {
			case 0:
			case 1:
				g.anyRule.login = g.anyRule.sessions[0]
			default:
				c.fail("providers", "several providers have \"login\": write rules, each saying which one signs browsers in (\"login\": \"<provider>\")")
			}
		}
		return
	}
	for i, r := range g.rules {
		path := "rules[" + strconv.Itoa(i) + "]"
		v := rules.Array()[i].Get("login")
		if r == nil || c.err != nil {
			return
		}
		if !r.requires {
			if v.Exists() {
				c.fail(path+".login", "needs \"requires\": a rule that lets everyone through signs no one in")
			}
			continue
		}
		r.sessions = sessionsOf(r.providers)
		switch {
		case !v.Exists():
			switch len(r.sessions) {
			case 0:
			case 1:
				r.login = r.sessions[0]
			default:
				c.fail(path+".login", "this rule accepts several providers with \"login\": say which one signs browsers in (\"login\": \"<provider>\"), or false")
			}
		case v.Type == gjson.False:
		case v.Type == gjson.String:
			for _, l := range r.sessions {
				if l.provider.name == v.Str {
					r.login = l
				}
			}
			if r.login == nil {
				c.fail(path+".login", "must name a provider with \"login\" that the rule accepts")
			}
		default:
			c.fail(path+".login", "must be false (no sign-in on this rule) or the name of a provider with \"login\"")
		}
	}
}

// sessionsOf lists the sign-ins of the providers a rule accepts: the
// session cookies it reads.
func sessionsOf(provs []*provider) []*login {
	var out []*login
	for _, p := range provs {
		if p.login != nil {
			out = append(out, p.login)
		}
	}
	return out
}
