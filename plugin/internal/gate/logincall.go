package gate

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	"github.com/tidwall/gjson"

	"github.com/tokengate/tokengate/internal/jsonstrict"
	"github.com/tokengate/tokengate/plugin/internal/session"
)

// LoginCall is a call to a provider's token endpoint that a request waits
// for: the code exchange that ends a sign-in (RFC 6749 §4.1.3, with the
// PKCE verifier), or the refresh of a session's access token (§6). A
// Decision carries one (Decision.Login); the Decision itself is the answer
// the request gets when it cannot wait. PlanLogin says whether to send the
// call or join one in flight; FinishLogin turns the answer into the
// decisions of the requests that waited. The request is paused, never the
// VM.
type LoginCall struct {
	key      string
	l        *login
	exchange bool            // a code exchange; false: a refresh
	form     string          // the body, without the client's credentials
	state    session.State   // exchange: the sign-in in progress
	sess     session.Session // refresh: the session being refreshed
	present  []string        // the request's cookies of the sign-in, cleared unless set again
	target   string          // refresh: the request's path and query as received, repeated with 307
	ret      string          // refresh: the canonical path and query, to return to after a new sign-in
	nav      bool            // refresh: the request is a page load
}

// LoginRequest is the HTTP request of a LoginCall.
type LoginRequest struct {
	Key           string // FinishLogin's argument
	Upstream      string
	Headers       [][2]string
	Body          []byte
	TimeoutMillis uint32
}

// LoginAnswer is the token endpoint's answer to a LoginRequest, as the
// proxy delivered it.
type LoginAnswer struct {
	Status      int
	ContentType string
	Body        []byte
}

// LoginResult is the decision of one request that waited for a LoginCall.
type LoginResult struct {
	ID       uint32
	Decision Decision
}

// LoginStep is what a request with a LoginCall does next.
type LoginStep int

const (
	// LoginNone: answer the Decision now (too many calls or waiters).
	LoginNone LoginStep = iota
	// LoginSend: send the LoginRequest, pause the request, and hand the
	// answer to FinishLogin.
	LoginSend
	// LoginWait: pause the request; a call with the same key is in flight.
	LoginWait
)

const (
	// maxLoginCalls bounds the token endpoint calls in flight per VM; a
	// sign-in beyond it is answered 503 at once.
	maxLoginCalls = 64
	// maxLoginWaiters bounds the requests waiting on one call (the
	// requests of one page load, all due for the same refresh).
	maxLoginWaiters = 64
	// maxTokenAnswer bounds the token endpoint's answer.
	maxTokenAnswer = 64 << 10
)

// tokenWait is one call in flight: who waits for it, first the sender.
type tokenWait struct {
	sent    time.Time
	waiters []loginWaiter
}

type loginWaiter struct {
	id   uint32
	call *LoginCall // the waiter's own (its target, cookies, page load)
}

// refreshSession returns the decision that refreshes cred's access token:
// the request waits for the token endpoint and is then repeated (307) with
// the new session cookie, which a browser stores on the way. Requests of
// one session due at once share one call.
func (g *Gate) refreshSession(cred *sessionCred, req *request, target string, now time.Time) Decision {
	l := cred.l
	sum := sha256.Sum256([]byte(cred.s.RefreshToken))
	call := &LoginCall{key: "refresh " + hex.EncodeToString(sum[:16]), l: l, sess: cred.s,
		form:    "grant_type=refresh_token&refresh_token=" + formEscape(cred.s.RefreshToken),
		present: cloneStrings(l.session.Present(req.cookieHeaders())), target: strings.Clone(target),
		ret: strings.Clone(req.canonicalTarget()), nav: req.navigation()}
	d := g.deny(ErrLoginBusy, "")
	d.Provider = l.provider.name
	d.Login = call
	return d
}

// cloneStrings copies strings that may view the request's memory, which
// the host reuses after the callback: a LoginCall outlives it.
func cloneStrings(list []string) []string {
	for i, s := range list {
		list[i] = strings.Clone(s)
	}
	return list
}

// canonicalTarget is the canonical path and the query: where a sign-in
// returns to.
func (req *request) canonicalTarget() string {
	if req.query == "" {
		return req.path
	}
	return req.path + "?" + req.query
}

// PlanLogin says what the request id, decided d at now, does with d.Login:
// LoginSend with the request to send when no call with its key is in
// flight, LoginWait when one is (the request joins it), LoginNone when d
// has no call or too many calls or waiters are pending (d is then the
// answer).
func (g *Gate) PlanLogin(d *Decision, id uint32, now time.Time) (LoginStep, LoginRequest) {
	c := d.Login
	if c == nil || g.login == nil {
		return LoginNone, LoginRequest{}
	}
	calls := g.login.calls
	if w := calls[c.key]; w != nil {
		// The host answers every call by its timeout; a call twice as old
		// was lost, and must not hold its key forever.
		if now.Sub(w.sent) < 2*time.Duration(c.l.timeout)*time.Millisecond {
			if len(w.waiters) >= maxLoginWaiters {
				return LoginNone, LoginRequest{}
			}
			w.waiters = append(w.waiters, loginWaiter{id, c})
			return LoginWait, LoginRequest{}
		}
		delete(calls, c.key)
	}
	if len(calls) >= maxLoginCalls {
		return LoginNone, LoginRequest{}
	}
	calls[c.key] = &tokenWait{sent: now, waiters: []loginWaiter{{id, c}}}
	return LoginSend, c.request()
}

// request renders the call: a form POST with the client's credentials,
// in an Authorization header (client_secret_basic, RFC 6749 §2.3.1, each
// part form-encoded first) or in the body (client_secret_post).
func (c *LoginCall) request() LoginRequest {
	l := c.l
	body := c.form
	headers := [][2]string{
		{":method", "POST"},
		{":path", l.token.path},
		{":authority", l.token.authority},
		{"content-type", "application/x-www-form-urlencoded"},
		{"accept", "application/json"},
	}
	if l.clientPost {
		body += "&client_id=" + formEscape(l.clientID) + "&client_secret=" + formEscape(l.clientSecret)
	} else {
		creds := formEscape(l.clientID) + ":" + formEscape(l.clientSecret)
		headers = append(headers, [2]string{"authorization", "Basic " + base64.StdEncoding.EncodeToString([]byte(creds))})
	}
	headers = append(headers, [2]string{"content-length", strconv.Itoa(len(body))})
	return LoginRequest{Key: c.key, Upstream: l.token.cluster, Headers: headers, Body: []byte(body), TimeoutMillis: l.timeout}
}

// FinishLogin ends the call key with the token endpoint's answer (nil when
// the call failed: timeout, no connection, no such upstream) and returns
// the decision of every request that waited on it, in the order they came.
func (g *Gate) FinishLogin(key string, ans *LoginAnswer, now time.Time) []LoginResult {
	if g.login == nil {
		return nil
	}
	w := g.login.calls[key]
	if w == nil {
		return nil
	}
	delete(g.login.calls, key)
	first := w.waiters[0].call
	out := make([]LoginResult, 0, len(w.waiters))
	if first.exchange {
		d := g.finishExchange(first, ans, now)
		for _, wt := range w.waiters {
			out = append(out, LoginResult{ID: wt.id, Decision: d})
		}
		return out
	}
	return g.finishRefresh(w.waiters, ans, now)
}

// tokens is a successful token endpoint answer (RFC 6749 §5.1).
type tokens struct {
	access, refresh, id string
	expiresIn           float64 // seconds; 0: not given
}

// tokenOutcome is how a token endpoint answered.
type tokenOutcome int

const (
	tokensIssued  tokenOutcome = iota
	tokensRefused              // an RFC 6749 §5.2 error: the grant or the client is refused
	tokensFailed               // no usable answer
)

// readTokens reads the token endpoint's answer. detail says, for the log,
// what was wrong; it never holds a token.
func readTokens(ans *LoginAnswer) (t tokens, outcome tokenOutcome, detail string) {
	switch {
	case ans == nil:
		return t, tokensFailed, "the token endpoint did not answer (timeout, connection failure, or no such upstream)"
	case len(ans.Body) > maxTokenAnswer:
		return t, tokensFailed, "the token endpoint's answer is larger than " + strconv.Itoa(maxTokenAnswer) + " bytes"
	}
	var doc gjson.Result
	if mt, _, _ := strings.Cut(ans.ContentType, ";"); strings.EqualFold(strings.TrimSpace(mt), "application/json") && jsonstrict.Check(ans.Body) == nil {
		doc = gjson.ParseBytes(ans.Body)
	}
	switch {
	case (ans.Status == 400 || ans.Status == 401) && doc.IsObject() && doc.Get("error").Type == gjson.String:
		detail = "the token endpoint answered " + strconv.Itoa(ans.Status) + " error=" + logValue(strconv.Quote(doc.Get("error").Str))
		if desc := doc.Get("error_description"); desc.Type == gjson.String {
			detail += " (" + logValue(strconv.Quote(desc.Str)) + ")"
		}
		return t, tokensRefused, detail
	case ans.Status != 200:
		return t, tokensFailed, "the token endpoint answered " + strconv.Itoa(ans.Status)
	case !doc.IsObject():
		return t, tokensFailed, "the token endpoint's answer is not a JSON object (content-type " + logValue(strconv.Quote(ans.ContentType)) + ")"
	}
	str := func(name string) (string, bool) {
		v := doc.Get(name)
		if !v.Exists() {
			return "", true
		}
		ok := v.Type == gjson.String && v.Str != "" && printable(v.Str) && len(v.Str) <= maxTokenBytes
		return v.Str, ok
	}
	var ok1, ok2, ok3 bool
	t.access, ok1 = str("access_token")
	t.refresh, ok2 = str("refresh_token")
	t.id, ok3 = str("id_token")
	typ := doc.Get("token_type")
	exp := doc.Get("expires_in")
	switch {
	case !ok1 || !ok2 || !ok3 || t.access == "":
		return tokens{}, tokensFailed, "the token endpoint's answer lacks a printable access_token, or has a malformed refresh_token or id_token"
	case typ.Type != gjson.String || !strings.EqualFold(typ.Str, "Bearer"):
		return tokens{}, tokensFailed, "the token endpoint's token_type is " + logValue(typ.Raw) + ", not Bearer"
	case exp.Exists() && (exp.Type != gjson.Number || exp.Num <= 0 || exp.Num > 10*365*86400):
		return tokens{}, tokensFailed, "the token endpoint's expires_in is " + logValue(exp.Raw)
	}
	t.expiresIn = exp.Num
	return t, tokensIssued, ""
}

// checkAccess verifies an access token the provider issued to a sign-in as
// the provider verifies any (signature, issuer, audience, type, time), so
// that a session never holds a token every request would refuse: a
// provider or client set up to issue tokens for another audience is
// reported at once, not as a sign-in loop.
func (g *Gate) checkAccess(l *login, token string, now time.Time) string {
	v := g.verify(token, l.src, []*provider{l.provider}, float64(now.UnixNano())/1e9)
	if v.err == nil {
		return ""
	}
	msg := "the access token: " + v.err.Error()
	if v.detail != "" {
		msg += " (" + v.detail + ")"
	}
	return msg
}

// accessExpiry is when a new access token expires: expires_in from now, or
// the token's exp when it is a JWT, whichever comes first; five minutes
// when neither says.
func accessExpiry(t tokens, now time.Time) time.Time {
	var out time.Time
	if t.expiresIn > 0 {
		out = now.Add(time.Duration(t.expiresIn * float64(time.Second)))
	}
	if jws, err := parseJWS(t.access); err == nil {
		if exp, ok, err := numericDate(jws.claims.Get("exp")); ok && err == nil {
			if e := time.Unix(int64(exp), 0); out.IsZero() || e.Before(out) {
				out = e
			}
		}
	}
	if out.IsZero() {
		out = now.Add(5 * time.Minute)
	}
	return out
}

// sealSession seals s into l's session cookies, valid until the session's
// end, and returns their Set-Cookie headers and names.
func (l *login) sealSession(s *session.Session, now time.Time) ([][2]string, []string, error) {
	plain, err := s.MarshalBinary()
	if err != nil {
		return nil, nil, err
	}
	end := s.Created.Add(l.lifetime)
	sealed, err := l.session.Seal("session", plain, end)
	if err != nil {
		return nil, nil, err
	}
	cookies, err := l.session.Chunks(sealed)
	if err != nil {
		return nil, nil, err
	}
	var headers [][2]string
	var names []string
	for _, ck := range cookies {
		headers = append(headers, [2]string{"set-cookie", session.SetCookie(ck, int(end.Sub(now)/time.Second))})
		names = append(names, ck.Name)
	}
	return headers, names, nil
}

// clearing returns the Set-Cookie headers that remove the cookies named in
// present but not in set.
func clearing(present, set []string) [][2]string {
	var out [][2]string
	for _, name := range present {
		if !containsName(set, name) {
			out = append(out, [2]string{"set-cookie", session.ClearCookie(name)})
		}
	}
	return out
}

func containsName(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// finishExchange turns the token endpoint's answer to a code exchange into
// the callback's decision: the session cookie and a redirect to the page
// the sign-in started from, or a clear refusal. The state cookie is
// cleared either way: a code is good for one exchange.
func (g *Gate) finishExchange(c *LoginCall, ans *LoginAnswer, now time.Time) Decision {
	l := c.l
	fail := func(e *Error, detail string) Decision {
		d := g.deny(e, "")
		d.Detail, d.Provider = detail, l.provider.name
		d.Headers = append(d.Headers, clearing(c.present, nil)...)
		return d
	}
	t, outcome, detail := readTokens(ans)
	switch {
	case outcome == tokensRefused && strings.Contains(detail, `error="invalid_grant"`):
		return fail(ErrLoginCode, detail)
	case outcome != tokensIssued:
		return fail(ErrLoginProvider, detail)
	case t.id == "":
		return fail(ErrLoginTokens, "the token endpoint returned no id_token (is openid among the scopes the provider grants this client?)")
	}
	if _, problem := l.verifyIDToken(t.id, c.state.Nonce, now); problem != "" {
		return fail(ErrLoginTokens, "the ID token: "+problem)
	}
	if problem := g.checkAccess(l, t.access, now); problem != "" {
		return fail(ErrLoginTokens, problem)
	}
	s := session.Session{Created: now, Obtained: now, AccessExpiry: accessExpiry(t, now),
		AccessToken: t.access, RefreshToken: t.refresh, IDToken: t.id}
	set, names, err := l.sealSession(&s, now)
	if err != nil {
		return fail(ErrLoginTokens, "the session cookie: "+err.Error())
	}
	headers := append([][2]string{{"location", c.state.Return}, {"cache-control", "no-store"}}, set...)
	headers = append(headers, clearing(c.present, names)...)
	return Decision{Status: 302, Headers: headers, Reason: stepSignedIn.desc, Code: stepSignedIn.code, Provider: l.provider.name}
}

// finishRefresh turns the token endpoint's answer to a refresh into the
// decisions of the requests that waited: each repeated (307) with the new
// session cookie; or, when the provider refused the refresh token
// (invalid_grant: the session ended there by logout, revocation or its own
// expiry), the cookies cleared and a page load sent to sign in again; or
// 503 when the endpoint did not answer or refused the client, keeping the
// session.
func (g *Gate) finishRefresh(waiters []loginWaiter, ans *LoginAnswer, now time.Time) []LoginResult {
	c := waiters[0].call
	l := c.l
	out := make([]LoginResult, 0, len(waiters))
	t, outcome, detail := readTokens(ans)
	if outcome == tokensRefused && !strings.Contains(detail, `error="invalid_grant"`) {
		// The client is refused (a rotated secret, a disabled client), not
		// the session: keep it, the next request may find it fixed.
		outcome = tokensFailed
	}
	if outcome == tokensFailed {
		for _, w := range waiters {
			d := g.deny(ErrSessionNotRefreshed, "")
			d.Detail, d.Provider = detail, l.provider.name
			out = append(out, LoginResult{ID: w.id, Decision: d})
		}
		return out
	}
	ended, why := ErrSessionEnded, detail
	var set [][2]string
	var names []string
	var s session.Session
	if outcome == tokensIssued {
		ended = nil
		if t.refresh == "" {
			t.refresh = c.sess.RefreshToken // RFC 6749 §6: the provider may keep the old one
		}
		if t.id == "" {
			t.id = c.sess.IDToken
		} else if problem := l.verifyRefreshedIDToken(t.id, c.sess.IDToken, now); problem != "" {
			ended, why = ErrLoginTokens, "the refreshed ID token: "+problem
		}
		if ended == nil {
			if problem := g.checkAccess(l, t.access, now); problem != "" {
				ended, why = ErrLoginTokens, problem
			}
		}
		if ended == nil {
			s = session.Session{Created: c.sess.Created, Obtained: now, AccessExpiry: accessExpiry(t, now),
				AccessToken: t.access, RefreshToken: t.refresh, IDToken: t.id}
			var err error
			if set, names, err = l.sealSession(&s, now); err != nil {
				ended, why = ErrLoginTokens, "the session cookie: "+err.Error()
			}
		}
	}
	for _, w := range waiters {
		var d Decision
		switch {
		case ended != nil && w.call.nav:
			d = g.signIn(l, w.call.ret, now, w.call.present)
			d.Detail = "the session could not be refreshed: " + why
		case ended != nil:
			d = g.deny(ended, "")
			d.Detail, d.Provider = why, l.provider.name
			d.Headers = append(d.Headers, clearing(w.call.present, nil)...)
		default:
			headers := append([][2]string{{"location", w.call.target}, {"cache-control", "no-store"}}, set...)
			headers = append(headers, clearing(w.call.present, names)...)
			d = Decision{Status: 307, Headers: headers, Reason: stepSessionRefresh.desc, Code: stepSessionRefresh.code, Provider: l.provider.name}
		}
		out = append(out, LoginResult{ID: w.id, Decision: d})
	}
	return out
}
