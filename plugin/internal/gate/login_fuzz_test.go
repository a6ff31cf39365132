package gate

import (
	"strings"
	"testing"
	"time"
)

// fuzzLoginGate is the tests' sign-in configuration with a fixed clock and
// fixed randomness, so that a state cookie sealed in the seed corpus stays
// valid: the fuzzer mutates around a real one.
func fuzzLoginGate(f *testing.F) (*Gate, time.Time) {
	counter := byte(0)
	g := compile(f, loginConfig(f, oneKey, "", "false"), WithRandom(func(b []byte) error {
		for i := range b {
			counter++
			b[i] = counter
		}
		return nil
	}))
	return g, time.Unix(1_800_000_000, 0)
}

// FuzzCallback sends arbitrary callback queries and cookies: no panic, never
// a request let through, and a token endpoint call only for the state the
// browser's state cookie holds.
func FuzzCallback(f *testing.F) {
	g, at := fuzzLoginGate(f)
	start := g.Decide(page("/", ""), at)
	q := strings.SplitN(header(start, "location"), "?", 2)[1]
	var state string
	for _, kv := range strings.Split(q, "&") {
		if v, ok := strings.CutPrefix(kv, "state="); ok {
			state = v
		}
	}
	cookie, _, _ := strings.Cut(header(start, "set-cookie"), ";")
	f.Add("code=c&state="+state, cookie)
	f.Add("code=c&state="+state+"&iss=https%3A%2F%2Fidp.example.com%2Frealms%2Fml", cookie)
	f.Add("error=access_denied&state="+state, cookie)
	f.Add("code=%zz&state=x", "__Host-tokengate-state=1.v1.k1.AAAA")
	f.Fuzz(func(t *testing.T, query, cookies string) {
		d := g.Decide(page("/oauth2/callback?"+query, cookies), at)
		if d.Allow {
			t.Fatalf("a callback was let through: %q %q", query, cookies)
		}
		if d.Login != nil && (!strings.Contains(query, state) || !strings.Contains(cookies, cookie[len("__Host-tokengate-state="):])) {
			t.Fatalf("a token endpoint call for a callback that does not hold the sign-in's state: %q %q", query, cookies)
		}
		if d.Login != nil {
			g.FinishLogin(d.Login.key, nil, at) // forget the call
		}
	})
}

// FuzzTokenAnswer hands arbitrary token endpoint answers to a sign-in's
// callback and to a session's refresh: no panic, and no answer the fuzzer
// makes signs anyone in (the ID token must be the provider's, with the
// sign-in's nonce).
func FuzzTokenAnswer(f *testing.F) {
	g, at := fuzzLoginGate(f)
	f.Add(200, "application/json", []byte(`{"access_token":"a.b.c","token_type":"Bearer","expires_in":300,"refresh_token":"r","id_token":"a.b.c"}`))
	f.Add(400, "application/json;charset=UTF-8", []byte(`{"error":"invalid_grant","error_description":"Code not valid"}`))
	f.Add(200, "application/json", []byte(`{"access_token":"x","token_type":"bearer","expires_in":1e300}`))
	f.Add(200, "text/html", []byte(`<html>`))
	f.Add(502, "", []byte{})
	f.Fuzz(func(t *testing.T, status int, contentType string, body []byte) {
		start := g.Decide(page("/", ""), at)
		var state string
		for _, kv := range strings.Split(strings.SplitN(header(start, "location"), "?", 2)[1], "&") {
			if v, ok := strings.CutPrefix(kv, "state="); ok {
				state = v
			}
		}
		cookie, _, _ := strings.Cut(header(start, "set-cookie"), ";")
		cb := g.Decide(page("/oauth2/callback?code=c&state="+state, cookie), at)
		if cb.Login == nil {
			t.Fatalf("the callback did not wait for the token endpoint: %d %s", cb.Status, cb.Detail)
		}
		_, req := g.PlanLogin(&cb, 1, at)
		res := g.FinishLogin(req.Key, &LoginAnswer{Status: status, ContentType: contentType, Body: body}, at)
		if len(res) != 1 {
			t.Fatalf("%d results", len(res))
		}
		if d := res[0].Decision; d.Allow || d.Status == 302 || d.Code == "signed_in" {
			t.Fatalf("answer %d %q %q signed in: %d %s", status, contentType, body, d.Status, d.Code)
		}
	})
}
