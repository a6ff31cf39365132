package gate

import (
	"crypto/subtle"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tokengate/tokengate/plugin/internal/session"
)

// sessionCred is a session read from a request: the sign-in it belongs to
// and its tokens.
type sessionCred struct {
	l *login
	s session.Session
}

// cookieHeaders returns the values of the request's Cookie headers.
func (req *request) cookieHeaders() []string {
	var out []string
	for _, h := range req.headers {
		if isCookieHeader(h[0]) {
			out = append(out, h[1])
		}
	}
	return out
}

// isCookieHeader reports whether a header name is Cookie, in any case; the
// length first, since it runs over every header of every request on a
// configuration with sign-in.
func isCookieHeader(name string) bool {
	return len(name) == len("cookie") && strings.EqualFold(name, "cookie")
}

// navigation reports whether the request is a browser loading a page: GET
// or HEAD, accepting text/html. Only such a request is sent to sign in;
// scripts (fetch, XMLHttpRequest) and programs get the RFC 6750 answer.
func (req *request) navigation() bool {
	if req.methodUpper != "GET" && req.methodUpper != "HEAD" {
		return false
	}
	for _, h := range req.headers {
		if len(h[0]) == len("accept") && strings.EqualFold(h[0], "accept") && containsFoldASCII(h[1], "text/html") {
			return true
		}
	}
	return false
}

// target is the request's path and query as received: what a repeated or
// resumed request goes to.
func (req *request) target() string {
	if req.query == "" {
		return req.rawPath
	}
	return req.rawPath + "?" + req.query
}

func containsFoldASCII(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(sub)], sub) {
			return true
		}
	}
	return false
}

// checkLogin decides, on a configuration with sign-in, the requests that
// check alone would not: one with a session cookie of a provider the rule
// accepts (its access token is judged as a bearer token, or the cookie is
// refused, or the request waits for a refresh), and a browser's page load
// without a credential (sent to sign in). It writes the decision to d and
// reports true, or reports false, leaving d alone, for a request that is
// check's: the bearer-token path costs a scan of the header names.
func (g *Gate) checkLogin(r *rule, req *request, now time.Time, tr *Trace, d *Decision) bool {
	if !r.requires || len(r.sessions) == 0 {
		return false
	}
	headers := req.cookieHeaders()
	var cred *sessionCred
	if headers != nil {
		var done bool
		if cred, done = g.readSession(r, req, headers, now, tr, d); done {
			return true
		}
	}
	if cred == nil {
		// No session: a bearer token, or no credential at all, which sends a
		// browser's page load to sign in.
		if r.login == nil || !req.navigation() {
			return false
		}
		if *d = g.check(r, req, now, tr); !d.Allow && d.Code == ErrTokenMissing.code {
			tr.check("a browser loading a page: sent to sign in with provider "+strconv.Quote(r.login.provider.name), true)
			*d = g.signIn(r.login, req.canonicalTarget(), now, nil)
		}
		return true
	}
	req.session = cred
	*d = g.check(r, req, now, tr)
	req.session = nil
	switch {
	case d.Allow && cred.l.provider.forward:
		// Forwarded as what it is judged as: a bearer token.
		d.SetHeaders = append(slices.Clip(d.SetHeaders), [2]string{"authorization", "Bearer " + cred.s.AccessToken})
	case !d.Allow && d.Status == 401 && !d.UnknownKID:
		// The session's token is refused for good: the cookies go with it.
		d.Headers = append(d.Headers, clearCookies(cred.l, req)...)
	}
	return true
}

// readSession finds the session cookie of one of the rule's login
// providers in the request's Cookie headers. It returns the session to
// judge; or it writes to d a decision that ends the request and reports
// done: a malformed, tampered or expired cookie, a second credential
// beside it, or a refresh the request must wait for.
func (g *Gate) readSession(r *rule, req *request, headers []string, now time.Time, tr *Trace, d *Decision) (*sessionCred, bool) {
	end := func(decision Decision) (*sessionCred, bool) {
		*d = decision
		return nil, true
	}
	var cred *sessionCred
	for _, l := range r.sessions {
		sealed, present, err := l.session.Read(headers)
		if !present {
			continue
		}
		if err != nil {
			tr.check("session cookie "+strconv.Quote(l.session.Name())+": "+err.Error(), false)
			return end(g.sessionRefused(ErrSessionMalformed, err.Error(), l, req))
		}
		if cred != nil {
			tr.check("one credential in the request", false)
			return end(g.deny(ErrTokenMultiple, ""))
		}
		plain, err := l.session.Open("session", sealed, now)
		var s session.Session
		if err == nil {
			err = s.UnmarshalBinary(plain)
		}
		switch {
		case err == session.ErrExpired || err == session.ErrUnknownKey || err == nil && !now.Before(s.Created.Add(l.lifetime)):
			if err == nil {
				err = session.ErrExpired
			}
			tr.check("session cookie "+strconv.Quote(l.session.Name())+": "+err.Error(), false)
			if r.login == l && req.navigation() {
				return end(g.signIn(l, req.canonicalTarget(), now, l.session.Present(headers)))
			}
			return end(g.sessionRefused(ErrSessionExpired, err.Error(), l, req))
		case err != nil:
			tr.check("session cookie "+strconv.Quote(l.session.Name())+": "+err.Error(), false)
			return end(g.sessionRefused(ErrSessionInvalid, err.Error(), l, req))
		}
		cred = &sessionCred{l: l, s: s}
	}
	if cred == nil {
		return nil, false
	}
	if token, _, _, _ := extract(req, r.sources); token != "" {
		tr.check("one credential in the request (a session cookie and another credential)", false)
		return end(g.deny(ErrTokenMultiple, ""))
	}
	tr.check("session cookie "+strconv.Quote(cred.l.session.Name())+" of provider "+strconv.Quote(cred.l.provider.name)+" opened", true)
	if !now.Before(cred.refreshAt()) {
		ret := req.target()
		switch {
		case cred.s.RefreshToken != "" && session.ReturnPath(ret):
			tr.check("the session's access token is due for a refresh", false)
			return end(g.refreshSession(cred, req, ret, now))
		case !now.Before(cred.s.AccessExpiry):
			tr.check("the session's access token expired and cannot be refreshed", false)
			if r.login == cred.l && req.navigation() {
				return end(g.signIn(cred.l, req.canonicalTarget(), now, cred.l.session.Present(headers)))
			}
			return end(g.sessionRefused(ErrSessionExpired, "the access token expired and there is no refresh token", cred.l, req))
		}
	}
	return cred, false
}

// refreshAt is when a session's access token is refreshed: refresh_before
// ahead of its expiry, but not before half its life, so that a provider's
// short-lived tokens are not refreshed on every request.
func (c *sessionCred) refreshAt() time.Time {
	ahead := c.l.refreshBefore
	if life := c.s.AccessExpiry.Sub(c.s.Obtained); ahead > life/2 {
		ahead = life / 2
	}
	return c.s.AccessExpiry.Add(-ahead)
}

// sessionRefused answers a request whose session cookie cannot be used:
// err's answer, with the session's cookies cleared. detail says why, for
// the log.
func (g *Gate) sessionRefused(err *Error, detail string, l *login, req *request) Decision {
	d := g.deny(err, "")
	d.Detail = detail
	d.Provider = l.provider.name
	d.Headers = append(d.Headers, clearCookies(l, req)...)
	return d
}

// clearCookies returns the Set-Cookie headers that remove every cookie of
// l's session the request holds.
func clearCookies(l *login, req *request) [][2]string {
	var out [][2]string
	for _, name := range l.session.Present(req.cookieHeaders()) {
		out = append(out, [2]string{"set-cookie", session.ClearCookie(name)})
	}
	return out
}

// signIn sends a browser to the provider's authorization endpoint, with a
// new state, nonce and PKCE verifier kept in the state cookie (RFC 6749
// §4.1, RFC 7636, OpenID Connect Core §3.1.2). ret is where the browser
// returns once signed in: the canonical path and query the rules judged, on
// this origin (anything else returns to "/"). clears are the names of
// cookies to remove on the way (a session that ended).
func (g *Gate) signIn(l *login, ret string, now time.Time, clears []string) Decision {
	var st session.State
	var err error
	st.Created = now
	if st.State, err = session.Token(g.readRandom, 32); err == nil {
		if st.Nonce, err = session.Token(g.readRandom, 32); err == nil {
			st.Verifier, err = session.Token(g.readRandom, session.VerifierBytes)
		}
	}
	if err != nil {
		d := g.deny(ErrLoginNoRandomness, "")
		d.Detail = err.Error()
		return d
	}
	st.Return = ret
	if !session.ReturnPath(st.Return) {
		st.Return = "/"
	}
	plain, _ := st.MarshalBinary()
	sealed, err := l.state.Seal("state", plain, now.Add(l.stateLifetime))
	if err != nil {
		d := g.deny(ErrLoginNoRandomness, "")
		d.Detail = err.Error()
		return d
	}
	cookies, err := l.state.Chunks(sealed)
	if err != nil || len(cookies) != 1 {
		d := g.deny(ErrLoginCallback, "")
		d.Detail = "the sign-in state does not fit one cookie"
		return d
	}
	sep := "?"
	if strings.Contains(l.authorize, "?") {
		sep = "&"
	}
	location := l.authorize + sep + "response_type=code&client_id=" + formEscape(l.clientID) +
		"&redirect_uri=" + formEscape(l.redirectURI) + "&scope=" + formEscape(l.scopes) +
		"&state=" + st.State + "&nonce=" + st.Nonce +
		"&code_challenge=" + session.Challenge(st.Verifier) + "&code_challenge_method=S256"
	headers := [][2]string{{"location", location}, {"cache-control", "no-store"},
		{"set-cookie", session.SetCookie(cookies[0], int(l.stateLifetime/time.Second))}}
	for _, name := range clears {
		headers = append(headers, [2]string{"set-cookie", session.ClearCookie(name)})
	}
	return Decision{Status: 302, Headers: headers, Reason: stepLoginRedirect.desc, Code: stepLoginRedirect.code, Provider: l.provider.name}
}

// ownPath reports whether path is one a sign-in owns, which tokengate
// answers itself before any rule: a redirect URI's (the provider sending
// the browser back) or a logout path.
func (ls *logins) ownPath(path string) bool {
	for _, l := range ls.list {
		if path == l.callback || path == l.logoutPath && l.logoutPath != "" {
			return true
		}
	}
	return false
}

// loginPath answers a path ownPath reports: the callback or the logout.
func (g *Gate) loginPath(req *request, now time.Time, tr *Trace) Decision {
	for _, l := range g.login.list {
		if req.path == l.callback {
			tr.check("the sign-in callback of provider "+strconv.Quote(l.provider.name), true)
			return g.callback(l, req, now)
		}
		if req.path == l.logoutPath {
			tr.check("the logout path of provider "+strconv.Quote(l.provider.name), true)
			return g.logout(l, req, now)
		}
	}
	return g.deny(ErrNoRule, "") // unreachable: ownPath said the path is a sign-in's
}

// callback checks the provider's redirect back (the state against the
// browser's state cookie, RFC 6749 §10.12; the issuer, RFC 9207) and
// returns the decision that exchanges the code: the request waits for the
// token endpoint (Decision.Login).
func (g *Gate) callback(l *login, req *request, now time.Time) Decision {
	headers := req.cookieHeaders()
	fail := func(e *Error, detail string) Decision {
		d := g.deny(e, "")
		d.Detail = detail
		d.Provider = l.provider.name
		for _, name := range l.state.Present(headers) {
			d.Headers = append(d.Headers, [2]string{"set-cookie", session.ClearCookie(name)})
		}
		return d
	}
	if req.methodUpper != "GET" {
		return fail(ErrLoginCallback, "method "+logValue(strconv.Quote(req.method))+" on the callback")
	}
	params, ok := callbackParams(req.query)
	if !ok {
		return fail(ErrLoginCallback, "a parameter is repeated or not percent-encoded properly")
	}
	sealed, present, err := l.state.Read(headers)
	if !present || err != nil {
		detail := "no state cookie (the sign-in was not started in this browser, or its cookie was dropped)"
		if err != nil {
			detail = "state cookie: " + err.Error()
		}
		return fail(ErrLoginState, detail)
	}
	plain, err := l.state.Open("state", sealed, now)
	var st session.State
	if err == nil {
		err = st.UnmarshalBinary(plain)
	}
	switch {
	case err == session.ErrExpired:
		return fail(ErrLoginStateExpired, "state cookie: "+err.Error())
	case err != nil:
		return fail(ErrLoginState, "state cookie: "+err.Error())
	case subtle.ConstantTimeCompare([]byte(params.state), []byte(st.State)) != 1:
		return fail(ErrLoginState, "the state parameter does not match the state cookie")
	case params.iss != "" && params.iss != l.provider.issuer:
		return fail(ErrLoginCallback, "the iss parameter names another issuer: "+logValue(strconv.Quote(params.iss)))
	case params.err != "":
		return fail(ErrLoginDenied, "the provider answered error="+logValue(strconv.Quote(params.err)))
	case params.code == "":
		return fail(ErrLoginCallback, "no code parameter")
	}
	form := "grant_type=authorization_code&code=" + formEscape(params.code) + "&redirect_uri=" + formEscape(l.redirectURI) +
		"&code_verifier=" + formEscape(st.Verifier)
	call := &LoginCall{key: "code " + st.State, l: l, exchange: true, form: form, state: st,
		present: cloneStrings(append(l.state.Present(headers), l.session.Present(headers)...))}
	// Answered so only when the call cannot even wait (PlanLogin).
	d := fail(ErrLoginBusy, "")
	d.Login = call
	return d
}

// params of a sign-in callback.
type callback struct {
	code, state, iss, err string
}

// callbackParams reads the callback's query: each parameter at most once,
// every value percent-decoded and printable.
func callbackParams(query string) (callback, bool) {
	var p callback
	seen := map[string]bool{}
	for q := query; q != ""; {
		var kv string
		kv, q, _ = strings.Cut(q, "&")
		k, v, _ := strings.Cut(kv, "=")
		if k == "" {
			continue
		}
		if seen[k] {
			return p, false
		}
		seen[k] = true
		val, ok := unescape(v)
		if !ok || !printable(val) || len(val) > 4096 {
			return p, false
		}
		switch k {
		case "code":
			p.code = val
		case "state":
			p.state = val
		case "iss":
			p.iss = val
		case "error":
			p.err = val
		}
	}
	return p, true
}

// logout clears the browser's cookies of l and sends it to the provider's
// end_session_endpoint (OpenID Connect RP-Initiated Logout), with the ID
// token of the session as id_token_hint when the cookie still opens, or to
// post_logout_redirect_uri, or to "/".
func (g *Gate) logout(l *login, req *request, now time.Time) Decision {
	headers := req.cookieHeaders()
	var hint string
	if sealed, present, err := l.session.Read(headers); present && err == nil {
		if plain, err := l.session.Open("session", sealed, now); err == nil {
			var s session.Session
			if s.UnmarshalBinary(plain) == nil {
				hint = s.IDToken
			}
		}
	}
	location := "/"
	switch {
	case l.endSession != "":
		sep := "?"
		if strings.Contains(l.endSession, "?") {
			sep = "&"
		}
		location = l.endSession + sep + "client_id=" + formEscape(l.clientID)
		if l.postLogout != "" {
			location += "&post_logout_redirect_uri=" + formEscape(l.postLogout)
		}
		if hint != "" {
			location += "&id_token_hint=" + formEscape(hint)
		}
	case l.postLogout != "":
		location = l.postLogout
	}
	out := [][2]string{{"location", location}, {"cache-control", "no-store"}}
	for _, name := range append(l.session.Present(headers), l.state.Present(headers)...) {
		out = append(out, [2]string{"set-cookie", session.ClearCookie(name)})
	}
	return Decision{Status: 302, Headers: out, Reason: stepLogout.desc, Code: stepLogout.code, Provider: l.provider.name}
}

// dropLoginCookies removes the cookies of every sign-in from the request
// that goes upstream, whatever route it takes: they are tokengate's, and an
// upstream has no business with them.
func (g *Gate) dropLoginCookies(d *Decision, req *request) {
	var value string
	found, set := false, -1
	for i, h := range d.SetHeaders {
		if len(h[0]) == len("cookie") && h[0] == "cookie" { // a from_cookies credential was stripped already
			value, found, set = h[1], true, i
		}
	}
	if !found {
		for _, h := range req.headers {
			if isCookieHeader(h[0]) {
				if found {
					value += "; " + h[1]
				} else {
					value = h[1]
				}
				found = true
			}
		}
	}
	if !found {
		return
	}
	kept, changed := session.Strip(value, g.login.codecs()...)
	if !changed {
		return
	}
	if !slices.Contains(d.RemoveHeaders, "cookie") {
		d.RemoveHeaders = append(slices.Clip(d.RemoveHeaders), "cookie")
	}
	out := make([][2]string, 0, len(d.SetHeaders)+1)
	for i, h := range d.SetHeaders {
		if i != set {
			out = append(out, h)
		}
	}
	if kept != "" {
		out = append(out, [2]string{"cookie", kept})
	}
	d.SetHeaders = out
}

// codecs lists the cookie codecs of every sign-in.
func (ls *logins) codecs() []*session.Codec {
	out := make([]*session.Codec, 0, 2*len(ls.list))
	for _, l := range ls.list {
		out = append(out, l.session, l.state)
	}
	return out
}
