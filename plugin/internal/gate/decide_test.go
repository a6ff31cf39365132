package gate

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tokengate/tokengate/internal/issuer"
)

func TestDecide(t *testing.T) {
	f := fx(t)
	g := compile(t, standardConfig(t))
	valid := mint(t, f.corp, nil)
	head, payload, _ := strings.Cut(valid, ".")
	payload, sig, _ := strings.Cut(payload, ".")
	tampered := head + "." + payload + "." + strings.Repeat("A", len(sig))

	const (
		noError = `Bearer realm="models"`
		invalid = `Bearer realm="models", error="invalid_token", error_description=`
		badReq  = `Bearer realm="models", error="invalid_request", error_description=`
	)
	tests := []struct {
		name   string
		req    *Request
		status int // 0: allowed
		www    string
		reason error
	}{
		{name: "a valid RS256 token is allowed", req: get("/v1/score", bearer(valid)...)},
		{name: "a valid ES256 token is allowed", req: get("/v1/score", bearer(mint(t, f.corp, nil, issuer.WithKey("ES256-1")))...)},
		{name: "the scheme is case-insensitive", req: get("/v1/score", "authorization", "bEaReR "+valid)},
		{name: "extra spaces after the scheme are tolerated", req: get("/v1/score", "authorization", "Bearer   "+valid)},
		{name: "a public prefix needs no token", req: get("/healthz")},
		{name: "a public prefix covers sub-paths", req: get("/healthz/ready")},
		{name: "a prefix matches whole segments only", req: get("/healthzz"), status: 401, www: noError, reason: ErrTokenMissing},
		{name: "the catch-all rule accepts the other provider", req: get("/models", bearer(mint(t, f.other, nil))...)},
		{name: "a rule's provider list is enforced", req: get("/v1/score", bearer(mint(t, f.other, issuer.Claims{"scope": "score"}))...),
			status: 401, www: invalid, reason: ErrIssuerNotAccepted},
		{name: "no token is a bare challenge", req: get("/v1/score"), status: 401, www: noError, reason: ErrTokenMissing},
		{name: "another scheme is no token", req: get("/v1/score", "authorization", "Basic dXNlcjpwYXNz"), status: 401, www: noError, reason: ErrTokenMissing},
		{name: "a scheme without a token is malformed", req: get("/v1/score", "authorization", "Bearer"), status: 400, www: badReq, reason: ErrRequestMalformed},
		{name: "a scheme with only spaces is malformed", req: get("/v1/score", "authorization", "Bearer   "), status: 400, www: badReq, reason: ErrRequestMalformed},
		{name: "two authorization headers are malformed", req: get("/v1/score", "authorization", "Bearer "+valid, "authorization", "Bearer "+valid), status: 400, www: badReq, reason: ErrRequestMalformed},
		{name: "control characters are malformed", req: get("/v1/score", "authorization", "Bearer a\x01b"), status: 400, www: badReq, reason: ErrRequestMalformed},
		{name: "a bad signature is refused", req: get("/v1/score", bearer(tampered)...), status: 401, www: invalid, reason: ErrSignatureInvalid},
		{name: "an expired token is refused", req: get("/v1/score", bearer(mint(t, f.corp, nil, issuer.WithTTL(-2*time.Minute)))...), status: 401, www: invalid, reason: ErrTokenExpired},
		{name: "expiry within the clock skew is tolerated", req: get("/v1/score", bearer(mint(t, f.corp, nil, issuer.WithTTL(-30*time.Second)))...)},
		{name: "a token without exp is refused", req: get("/v1/score", bearer(mint(t, f.corp, nil, issuer.WithoutExpiry()))...), status: 401, www: invalid, reason: ErrExpirationMissing},
		{name: "a token used before nbf is refused", req: get("/v1/score", bearer(mint(t, f.corp, issuer.Claims{"nbf": time.Now().Add(5 * time.Minute).Unix()}))...), status: 401, www: invalid, reason: ErrTokenNotYetValid},
		{name: "a token issued in the future is refused", req: get("/v1/score", bearer(mint(t, f.corp, issuer.Claims{"iat": time.Now().Add(5 * time.Minute).Unix()}))...), status: 401, www: invalid, reason: ErrTokenUsedBeforeIAT},
		{name: "another audience is refused", req: get("/v1/score", bearer(mint(t, f.corp, issuer.Claims{"aud": "api://other"}))...), status: 401, www: invalid, reason: ErrAudienceNotAccepted},
		{name: "an audience array intersecting is accepted", req: get("/v1/score", bearer(mint(t, f.corp, issuer.Claims{"aud": []string{"x", aud}}))...)},
		{name: "a missing audience is refused", req: get("/v1/score", bearer(mint(t, f.corp, issuer.Claims{"aud": nil}))...), status: 401, www: invalid, reason: ErrAudienceNotAccepted},
		{name: "an unknown issuer is refused", req: get("/v1/score", bearer(mint(t, &issuer.Issuer{URL: "https://evil", Keys: f.corp.Keys}, nil))...), status: 401, www: invalid, reason: ErrIssuerNotAccepted},
		{name: "an unknown kid is refused", req: get("/v1/score", bearer(mint(t, f.corp, nil, issuer.WithHeader("kid", "rotated-away")))...), status: 401, www: invalid, reason: ErrUnknownKey},
		{name: "a missing scope is 403 with the scopes", req: get("/v1/score", bearer(mint(t, f.corp, issuer.Claims{"scope": "read"}))...),
			status: 403, www: `Bearer realm="models", error="insufficient_scope", scope="score"`, reason: ErrScopeMissing},
		{name: "scopes in an scp array are accepted", req: get("/v1/score", bearer(mint(t, f.corp, issuer.Claims{"scope": nil, "scp": []string{"read", "score"}}))...)},
		{name: "garbage is an invalid token", req: get("/v1/score", bearer("not-a-jwt")...), status: 401, www: invalid, reason: ErrTokenMalformed},
		{name: "a dot-segment path is refused", req: get("/healthz/../v1/score"), status: 400, reason: ErrPathAmbiguous},
		{name: "an encoded slash is refused", req: get("/healthz%2F..%2Fv1/score"), status: 400, reason: ErrPathAmbiguous},
		{name: "a query does not change the route", req: get("/healthz?x=/v1/score")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := g.Decide(tt.req, now())
			if tt.status == 0 {
				if !d.Allow {
					t.Fatalf("refused with %d: %s", d.Status, d.Reason)
				}
				return
			}
			if d.Allow {
				t.Fatalf("allowed, want %d", tt.status)
			}
			if d.Status != tt.status {
				t.Fatalf("status = %d (%s), want %d", d.Status, d.Reason, tt.status)
			}
			if tt.reason != nil && d.Reason != tt.reason.Error() {
				t.Errorf("reason = %q, want %q", d.Reason, tt.reason)
			}
			if got := header(d, "www-authenticate"); tt.www != "" && !strings.HasPrefix(got, tt.www) {
				t.Errorf("WWW-Authenticate = %q, want prefix %q", got, tt.www)
			}
			if header(d, "content-type") != "application/json" {
				t.Errorf("content-type = %q", header(d, "content-type"))
			}
		})
	}
}

func TestDecideRemovesTheTokenUnlessForwarded(t *testing.T) {
	f := fx(t)
	for _, forward := range []bool{false, true} {
		cfg := `{"providers":{"corp":{"issuer":"` + corpURL + `","forward":` + map[bool]string{true: "true", false: "false"}[forward] +
			`,"jwks":` + string(f.corp.JWKS()) + `}}}`
		d := compile(t, cfg).Decide(get("/x", bearer(mint(t, f.corp, nil))...), now())
		if !d.Allow || d.Provider != "corp" {
			t.Fatalf("forward=%v: %+v", forward, d)
		}
		removed := slices.Contains(d.RemoveHeaders, "authorization")
		if removed == forward {
			t.Errorf("forward=%v: RemoveHeaders = %q", forward, d.RemoveHeaders)
		}
	}
}

func TestDecideWithoutRules(t *testing.T) {
	f := fx(t)
	g := compile(t, `{"providers":{"a":{"issuer":"`+corpURL+`","jwks":`+string(f.corp.JWKS())+`},"b":{"issuer":"`+otherURL+`","jwks":`+string(f.other.JWKS())+`}}}`)
	for _, tok := range []string{mint(t, f.corp, nil), mint(t, f.other, nil)} {
		if d := g.Decide(get("/anything", bearer(tok)...), now()); !d.Allow {
			t.Errorf("refused: %s", d.Reason)
		}
	}
	if d := g.Decide(get("/anything"), now()); d.Status != 401 {
		t.Errorf("no token: status %d", d.Status)
	}
	if g.Realm() != "tokengate" {
		t.Errorf("default realm = %q", g.Realm())
	}
}

func TestDecideFailsClosedWithoutAMatchingRule(t *testing.T) {
	f := fx(t)
	g := compile(t, `{"providers":{"a":{"issuer":"`+corpURL+`","jwks":`+string(f.corp.JWKS())+`}},
		"rules":[{"match":{"prefix":"/api","methods":["GET"]},"requires":{}}]}`)
	req := get("/api/x", bearer(mint(t, f.corp, nil))...)
	if d := g.Decide(req, now()); !d.Allow {
		t.Fatalf("GET refused: %s", d.Reason)
	}
	req.Headers[0][1] = "DELETE"
	d := g.Decide(req, now())
	if d.Allow || d.Status != 403 || header(d, "www-authenticate") != "" {
		t.Fatalf("DELETE: %+v", d)
	}
	checkBody(t, d, "access_denied")
	if d := g.Decide(get("/other"), now()); d.Status != 403 {
		t.Fatalf("unmatched path: %d", d.Status)
	}
}

func TestDecideWithoutKeys(t *testing.T) {
	f := fx(t)
	g := compile(t, `{"retry_after_seconds": 7, "providers":{"corp":{"issuer":"`+corpURL+`","jwks_uri":"https://idp/certs"},
		"other":{"issuer":"`+otherURL+`","jwks":`+string(f.other.JWKS())+`}}}`)
	d := g.Decide(get("/x", bearer(mint(t, f.corp, nil))...), now())
	if d.Allow || d.Status != 503 || header(d, "retry-after") != "7" {
		t.Fatalf("decision = %+v", d)
	}
	checkBody(t, d, "temporarily_unavailable")
	if d := g.Decide(get("/x", bearer(mint(t, f.other, nil))...), now()); !d.Allow {
		t.Fatalf("a provider with keys stopped working: %s", d.Reason)
	}
	// A bad token is not made a 503 by a missing key set.
	if d := g.Decide(get("/x", bearer("garbage")...), now()); d.Status != 401 {
		t.Fatalf("garbage: %d", d.Status)
	}
}

func TestDecideReportsUnknownKids(t *testing.T) {
	f := fx(t)
	g := compile(t, standardConfig(t))
	d := g.Decide(get("/x", bearer(mint(t, f.corp, nil, issuer.WithHeader("kid", "new-key")))...), now())
	if d.Allow || !d.UnknownKID {
		t.Fatalf("decision = %+v", d)
	}
	d = g.Decide(get("/x", bearer(mint(t, f.corp, nil, issuer.WithHeader("alg", "RS256"), issuer.WithKey("RS256-1")))...), now())
	if d.UnknownKID {
		t.Fatalf("a known kid was reported unknown")
	}
}

func TestResponses(t *testing.T) {
	g := compile(t, standardConfig(t))
	for _, err := range all {
		k := err.kind
		if !quotable(err.Error()) {
			t.Errorf("%q cannot be sent in a quoted-string", err)
		}
		d := g.deny(err, "score")
		if d.Allow || d.Status == 0 || d.Reason != err.Error() {
			t.Errorf("%v: %+v", err, d)
		}
		code := map[kind]string{kindMissing: "unauthorized", kindRequest: "invalid_request", kindToken: "invalid_token",
			kindScope: "insufficient_scope", kindPrivilege: "insufficient_scope", kindForbidden: "access_denied", kindUnavailable: "temporarily_unavailable"}[k]
		checkBody(t, d, code)
	}
}

// TestRefusalDetailsAreForLogsOnly: a refusal says in Detail what the token
// held (which audience, kid, algorithm or issuer) for the operator's log, and
// none of it reaches the client, which sees only the fixed description.
func TestRefusalDetailsAreForLogsOnly(t *testing.T) {
	f := fx(t)
	g := compile(t, standardConfig(t))
	tests := []struct {
		name   string
		token  string
		detail string
	}{
		{"an audience", mint(t, f.corp, issuer.Claims{"aud": "api://elsewhere"}), `aud "api://elsewhere"`},
		{"an issuer", mint(t, f.corp, issuer.Claims{"iss": "https://evil.example.com"}), `iss "https://evil.example.com"`},
		{"an unknown kid", mint(t, f.corp, nil, issuer.WithHeader("kid", "rotated-7")), `kid "rotated-7"`},
		{"an expiry", mint(t, f.corp, issuer.Claims{"exp": 1000}), `exp 1000`},
		{"control characters are not logged", mint(t, f.corp, issuer.Claims{"aud": "a\nforged log line"}), `aud "a\nforged log line"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := g.Decide(get("/x", bearer(tt.token)...), now())
			if d.Allow || !strings.Contains(d.Detail, tt.detail) {
				t.Fatalf("detail %q, want it to contain %q", d.Detail, tt.detail)
			}
			if strings.ContainsAny(d.Detail, "\n\r") || strings.Contains(d.Detail, tt.token) {
				t.Fatalf("detail %q is not safe for a log line", d.Detail)
			}
			sent := string(d.Body)
			for _, h := range d.Headers {
				sent += h[1]
			}
			if strings.Contains(sent, strings.Fields(tt.detail)[1]) {
				t.Fatalf("the response carries the detail: %s", sent)
			}
		})
	}
}
