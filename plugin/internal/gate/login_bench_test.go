package gate

import (
	"strings"
	"testing"
	"time"

	"github.com/tokengate/tokengate/internal/issuer"
)

// BenchmarkSignIn measures what sign-in costs: a cached Bearer token with
// and without "login" in the configuration (the warm path must not
// change), a request carrying a session cookie (opening it, then the
// cached token), and a page load sent to sign in (randomness, sealing the
// state cookie).
func BenchmarkSignIn(b *testing.B) {
	withLogin := compile(b, loginConfig(b, oneKey, "", "false"))
	without := compile(b, strings.Replace(loginConfig(b, oneKey, "", "false"), `, "login": `+loginProvider(oneKey, ""), "", 1))
	tok := mint(b, fx(b).corp, nil, issuer.WithTTL(time.Hour))
	bearerReq := get("/x", bearer(tok)...)
	for _, g := range []struct {
		name string
		g    *Gate
	}{{"bearer/without-login", without}, {"bearer/with-login", withLogin}} {
		b.Run(g.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if d := g.g.Decide(bearerReq, time.Now()); !d.Allow {
					b.Fatal(d.Reason)
				}
			}
		})
	}
	cookies, _ := signedInForBench(b, withLogin)
	sessionReq := xhr("GET", "/x", cookies)
	b.Run("session", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if d := withLogin.Decide(sessionReq, time.Now()); !d.Allow {
				b.Fatal(d.Reason)
			}
		}
	})
	b.Run("redirect", func(b *testing.B) {
		req := page("/ui/", "")
		b.ReportAllocs()
		for b.Loop() {
			if d := withLogin.Decide(req, time.Now()); d.Status != 302 {
				b.Fatal(d.Reason)
			}
		}
	})
}

// signedInForBench signs in once and returns the session's Cookie header.
func signedInForBench(b *testing.B, g *Gate) (string, Decision) {
	at := time.Now()
	d := g.Decide(page("/", ""), at)
	var state, nonce string
	for _, kv := range strings.Split(strings.SplitN(header(d, "location"), "?", 2)[1], "&") {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "state":
			state = v
		case "nonce":
			nonce = v
		}
	}
	stateCookie, _, _ := strings.Cut(header(d, "set-cookie"), ";")
	cb := g.Decide(page("/oauth2/callback?code=c&state="+state, stateCookie), at)
	_, req := g.PlanLogin(&cb, 1, at)
	access := mint(b, fx(b).corp, nil, issuer.WithTTL(time.Hour))
	id := mint(b, fx(b).corp, issuer.Claims{"aud": clientID, "azp": clientID, "nonce": nonce, "scope": nil})
	body := `{"access_token":"` + access + `","token_type":"Bearer","expires_in":3600,"refresh_token":"r","id_token":"` + id + `"}`
	done := g.FinishLogin(req.Key, &LoginAnswer{Status: 200, ContentType: "application/json", Body: []byte(body)}, at)[0].Decision
	var pairs []string
	for _, h := range done.Headers {
		if h[0] == "set-cookie" && !strings.Contains(h[1], "Max-Age=0") {
			pair, _, _ := strings.Cut(h[1], ";")
			pairs = append(pairs, pair)
		}
	}
	if len(pairs) == 0 {
		b.Fatalf("no session: %d %s (%s)", done.Status, done.Code, done.Detail)
	}
	return strings.Join(pairs, "; "), done
}
