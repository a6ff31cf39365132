package gate

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tokengate/tokengate/internal/issuer"
	"github.com/tokengate/tokengate/plugin/internal/session"
)

// TestPlanLoginHonoursItsLimitsExactly: a call in flight is joined until
// twice the timeout and then taken as lost, and a call takes at most
// maxLoginWaiters requests, a gate at most maxLoginCalls calls.
func TestPlanLoginHonoursItsLimitsExactly(t *testing.T) {
	t.Parallel()
	at := time.Now()
	config := loginConfig(t, oneKey, "", "false")
	call := func(g *Gate, key string) *Decision {
		return &Decision{Login: &LoginCall{key: key, l: g.login.list[0], exchange: true, form: "grant_type=authorization_code"}}
	}
	lost := 2 * time.Duration(defaultLoginTimeoutMS) * time.Millisecond
	tests := []struct {
		name string
		plan func(g *Gate) // the calls before the last
		last func(g *Gate) (LoginStep, LoginRequest)
		want LoginStep
	}{
		{"joined just before twice the timeout", func(g *Gate) { g.PlanLogin(call(g, "k"), 1, at) },
			func(g *Gate) (LoginStep, LoginRequest) {
				return g.PlanLogin(call(g, "k"), 2, at.Add(lost-time.Nanosecond))
			}, LoginWait},
		{"sent anew at twice the timeout", func(g *Gate) { g.PlanLogin(call(g, "k"), 1, at) },
			func(g *Gate) (LoginStep, LoginRequest) { return g.PlanLogin(call(g, "k"), 2, at.Add(lost)) }, LoginSend},
		{"the last waiter a call takes", func(g *Gate) {
			for i := 0; i < maxLoginWaiters-1; i++ {
				g.PlanLogin(call(g, "k"), uint32(i), at)
			}
		}, func(g *Gate) (LoginStep, LoginRequest) { return g.PlanLogin(call(g, "k"), 999, at) }, LoginWait},
		{"one waiter too many", func(g *Gate) {
			for i := 0; i < maxLoginWaiters; i++ {
				g.PlanLogin(call(g, "k"), uint32(i), at)
			}
		}, func(g *Gate) (LoginStep, LoginRequest) { return g.PlanLogin(call(g, "k"), 999, at) }, LoginNone},
		{"the last call a gate takes", func(g *Gate) {
			for i := 0; i < maxLoginCalls-1; i++ {
				g.PlanLogin(call(g, strconv.Itoa(i)), uint32(i), at)
			}
		}, func(g *Gate) (LoginStep, LoginRequest) { return g.PlanLogin(call(g, "last"), 999, at) }, LoginSend},
		{"one call too many", func(g *Gate) {
			for i := 0; i < maxLoginCalls; i++ {
				g.PlanLogin(call(g, strconv.Itoa(i)), uint32(i), at)
			}
		}, func(g *Gate) (LoginStep, LoginRequest) { return g.PlanLogin(call(g, "last"), 999, at) }, LoginNone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := compile(t, config)
			tt.plan(g)
			if step, _ := tt.last(g); step != tt.want {
				t.Fatalf("PlanLogin = %v, want %v", step, tt.want)
			}
		})
	}
}

// TestReadTokensDrawsItsLimits: the provider's error_description is
// reported when it is a string, and a token of exactly maxTokenBytes is
// taken.
func TestReadTokensDrawsItsLimits(t *testing.T) {
	t.Parallel()
	answer := func(status int, body string) *LoginAnswer {
		return &LoginAnswer{Status: status, ContentType: "application/json", Body: []byte(body)}
	}
	tokenOf := func(n int) string {
		return `{"access_token": "` + strings.Repeat("a", n) + `", "token_type": "Bearer"}`
	}
	tests := []struct {
		name    string
		ans     *LoginAnswer
		outcome tokenOutcome
		detail  string // contained in the detail
		absent  string // not in the detail
	}{
		{"a refusal with a description", answer(400, `{"error": "invalid_grant", "error_description": "Token is not active"}`), tokensRefused, `error="invalid_grant" ("Token is not active")`, ""},
		{"a refusal with a description that is not a string", answer(400, `{"error": "invalid_grant", "error_description": 7}`), tokensRefused, `error="invalid_grant"`, "("},
		{"an access token of the limit", answer(200, tokenOf(maxTokenBytes)), tokensIssued, "", ""},
		{"an access token past the limit", answer(200, tokenOf(maxTokenBytes+1)), tokensFailed, "printable access_token", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, outcome, detail := readTokens(tt.ans)
			if outcome != tt.outcome || !strings.Contains(detail, tt.detail) || tt.absent != "" && strings.Contains(detail, tt.absent) {
				t.Fatalf("readTokens = %v %q, want %v with %q and without %q", outcome, detail, tt.outcome, tt.detail, tt.absent)
			}
		})
	}
}

// TestCheckAccessSaysWhatWasWrong: the refusal of a sign-in's access token
// carries the verifier's detail when there is one, and no empty
// parentheses when there is none.
func TestCheckAccessSaysWhatWasWrong(t *testing.T) {
	t.Parallel()
	at := time.Now()
	g := compile(t, loginConfig(t, oneKey, "", "false"))
	l := g.login.list[0]
	tests := []struct {
		name, token, want string
	}{
		{"a good token", mint(t, fx(t).corp, nil), ""},
		{"another issuer", mint(t, fx(t).corp, issuer.Claims{"iss": "https://elsewhere.example.com"}), `the access token: ` + ErrIssuerNotAccepted.Error() + ` (iss "https://elsewhere.example.com")`},
		{"not a JWT", "opaque", "the access token: " + ErrTokenMalformed.Error()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := g.checkAccess(l, tt.token, at); got != tt.want {
				t.Fatalf("checkAccess = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestAccessExpiryTakesTheEarlierOfExpiresInAndExp.
func TestAccessExpiryTakesTheEarlierOfExpiresInAndExp(t *testing.T) {
	t.Parallel()
	now := time.Unix(time.Now().Unix(), 0)
	jwt := mint(t, fx(t).corp, issuer.Claims{"exp": now.Unix() + 120})
	tests := []struct {
		name string
		t    tokens
		want time.Time
	}{
		{"an opaque token without expires_in: five minutes", tokens{access: "opaque"}, now.Add(5 * time.Minute)},
		{"an opaque token with expires_in", tokens{access: "opaque", expiresIn: 60}, now.Add(time.Minute)},
		{"a JWT whose exp is earlier", tokens{access: jwt, expiresIn: 3600}, now.Add(2 * time.Minute)},
		{"a JWT whose exp is later", tokens{access: jwt, expiresIn: 30}, now.Add(30 * time.Second)},
		{"a JWT without expires_in", tokens{access: jwt}, now.Add(2 * time.Minute)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := accessExpiry(tt.t, now); !got.Equal(tt.want) {
				t.Fatalf("accessExpiry = %v, want %v", got, tt.want)
			}
		})
	}
}

// openSession opens the session cookie in cookies as l reads it.
func openSession(t *testing.T, l *login, cookies map[string]string, now time.Time) session.Session {
	t.Helper()
	sealed, present, err := l.session.Read([]string{cookieHeader(cookies)})
	if !present || err != nil {
		t.Fatalf("session cookie: present %v, %v", present, err)
	}
	plain, err := l.session.Open("session", sealed, now)
	var s session.Session
	if err == nil {
		err = s.UnmarshalBinary(plain)
	}
	if err != nil {
		t.Fatalf("session cookie: %v", err)
	}
	return s
}

// TestRefreshKeepsWhatTheProviderDoesNotReplace: a refresh answer without
// a refresh_token or id_token keeps the session's; one with them replaces
// them; one whose access token the provider's rules refuse ends the
// session. The session cookie lives as long as the session.
func TestRefreshKeepsWhatTheProviderDoesNotReplace(t *testing.T) {
	t.Parallel()
	at := time.Unix(time.Now().Unix(), 0)
	p := &idp{t: t, ttl: 2 * time.Minute}
	g := compile(t, loginConfig(t, oneKey, `, "refresh_before_seconds": 30, "session_lifetime_seconds": 7200`, "false"))
	l := g.login.list[0]
	cookies, cb := signedIn(t, g, p, "/", at)
	for _, h := range cb.Headers {
		if h[0] == "set-cookie" && strings.HasPrefix(h[1], "__Host-tokengate=") && !strings.Contains(h[1], "Max-Age=7200") {
			t.Fatalf("session cookie %q, want Max-Age=7200", h[1])
		}
	}
	before := openSession(t, l, cookies, at)
	if before.RefreshToken == "" || before.IDToken == "" {
		t.Fatalf("the signed-in session lacks a refresh token or an ID token")
	}
	due := at.Add(95 * time.Second)

	newID := mint(t, fx(t).corp, issuer.Claims{"aud": clientID, "azp": clientID, "sub": "alice", "scope": nil, "nonce": p.nonce, "sid": "renewed"})
	body := func(fields map[string]any) *LoginAnswer {
		b, _ := json.Marshal(fields)
		return &LoginAnswer{Status: 200, ContentType: "application/json", Body: b}
	}
	access := func(c issuer.Claims) string { return mint(t, fx(t).corp, c, issuer.WithTTL(2*time.Minute)) }
	tests := []struct {
		name        string
		answer      *LoginAnswer
		code        string
		refresh, id string
		maxAge      string
	}{
		{"neither refresh_token nor id_token", body(map[string]any{"access_token": access(nil), "token_type": "Bearer", "expires_in": 120}),
			"session_refreshed", before.RefreshToken, before.IDToken, "Max-Age=" + strconv.Itoa(7200-95)},
		{"both replaced", body(map[string]any{"access_token": access(nil), "token_type": "Bearer", "expires_in": 120, "refresh_token": "rt-2", "id_token": newID}),
			"session_refreshed", "rt-2", newID, "Max-Age=" + strconv.Itoa(7200-95)},
		{"an access token of another audience", body(map[string]any{"access_token": access(issuer.Claims{"aud": "someone-else"}), "token_type": "Bearer", "expires_in": 120}),
			"login_tokens_refused", "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := g.Decide(xhr("GET", "/x", cookieHeader(cookies)), due)
			step, req := g.PlanLogin(&d, 1, due)
			if step != LoginSend {
				t.Fatalf("PlanLogin = %v (%d %s), want LoginSend", step, d.Status, d.Code)
			}
			got := g.FinishLogin(req.Key, tt.answer, due)[0].Decision
			if got.Code != tt.code {
				t.Fatalf("decision %d %s (%s), want %s", got.Status, got.Code, got.Detail, tt.code)
			}
			if tt.code != "session_refreshed" {
				return
			}
			for _, h := range got.Headers {
				if h[0] == "set-cookie" && strings.HasPrefix(h[1], "__Host-tokengate=") && !strings.Contains(h[1], tt.maxAge) {
					t.Errorf("session cookie %q, want %s", h[1], tt.maxAge)
				}
			}
			s := openSession(t, l, jar(t, map[string]string{}, got), due)
			if s.RefreshToken != tt.refresh || s.IDToken != tt.id {
				t.Fatalf("refreshed session has refresh token %q and ID token %.20q..., want %q and %.20q...", s.RefreshToken, s.IDToken, tt.refresh, tt.id)
			}
		})
	}
}
