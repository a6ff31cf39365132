package gate

import (
	"encoding/base64"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

const (
	opURL  = "https://op.example.com"
	opaque = "rk3GZ8n2Pq-opaque_TOKEN.value~42"
)

// introspectCfg is a configuration with the introspection provider "op"
// (its extra fields and introspection settings added) and the rules given,
// or the default: /healthz public, /score needs the scope "score", the rest
// any token of "op".
func introspectCfg(extra, settings, rules string) string {
	if rules == "" {
		rules = `[{"match": {"prefix": "/healthz"}},
		  {"match": {"prefix": "/score"}, "requires": {"providers": ["op"], "scopes": ["score"]}},
		  {"match": {"prefix": "/"}, "requires": {"providers": ["op"]}}]`
	}
	return `{"realm": "models", "providers": {"op": {"type": "introspection", "issuer": "` + opURL + `"` + extra + `,
	  "introspection": {"cluster": "op", "path": "/token/introspection", "client_id": "tokengate", "client_secret": "s3cret:/+ x"` + settings + `}}},
	  "rules": ` + rules + `}`
}

// activeAnswer is an endpoint's answer for an active token, with members
// changed or added by kv (name, JSON value, ...; an empty value removes it).
func activeAnswer(now time.Time, kv ...string) string {
	m := [][2]string{{"active", "true"}, {"token_type", `"Bearer"`}, {"iss", `"` + opURL + `"`}, {"client_id", `"cc"`},
		{"sub", `"alice"`}, {"scope", `"score read"`}, {"iat", strconv.FormatInt(now.Unix(), 10)},
		{"exp", strconv.FormatInt(now.Add(time.Hour).Unix(), 10)}}
	for i := 0; i+1 < len(kv); i += 2 {
		found := false
		for j := range m {
			if m[j][0] == kv[i] {
				m[j][1], found = kv[i+1], true
			}
		}
		if !found {
			m = append(m, [2]string{kv[i], kv[i+1]})
		}
	}
	var parts []string
	for _, e := range m {
		if e[1] != "" {
			parts = append(parts, strconv.Quote(e[0])+":"+e[1])
		}
	}
	return "{" + strings.Join(parts, ",") + "}"
}

func jsonAnswer(body string) *IntrospectionAnswer {
	return &IntrospectionAnswer{Status: "200", ContentType: "application/json; charset=utf-8", Body: []byte(body)}
}

// introspectOnce decides req at now, expects it to wait for an answer, sends
// the call, delivers ans, and decides req again: the request's final
// Decision, as the plugin makes it.
func introspectOnce(t *testing.T, g *Gate, req *Request, now time.Time, ans *IntrospectionAnswer) Decision {
	t.Helper()
	d := g.Decide(req, now)
	if d.Introspect == nil {
		t.Fatalf("the first decision does not wait for an introspection answer: %d %s", d.Status, d.Reason)
	}
	if d.Allow || d.Status != 503 || d.Code != "introspection_unavailable" {
		t.Fatalf("the decision without an answer is %v %d %s, want 503 introspection_unavailable", d.Allow, d.Status, d.Code)
	}
	step, call := g.PlanIntrospection(&d, 7, now)
	if step != IntrospectSend {
		t.Fatalf("step %v, want IntrospectSend", step)
	}
	ids, err := g.FinishIntrospection(call.Key, ans, now)
	if len(ids) != 1 || ids[0] != 7 {
		t.Fatalf("FinishIntrospection returned %v, want [7]", ids)
	}
	if err != nil {
		t.Logf("FinishIntrospection: %v", err)
	}
	return g.Decide(req, now)
}

func TestIntrospectionConfiguration(t *testing.T) {
	prov := func(fields string) string {
		return `{"providers": {"op": {"type": "introspection", "issuer": "https://op.example.com/x"` + fields + `}}}`
	}
	in := func(settings string) string {
		return prov(`, "introspection": {` + settings + `}`)
	}
	const good = `"cluster": "op", "path": "/introspect", "client_id": "gate", "client_secret": "pw"`
	tests := []struct {
		name, config, err string // err: a part of the error; "" when accepted
	}{
		{"the four required settings are enough", in(good), ""},
		{"every setting", in(good + `, "authority": "idp.internal:8443", "timeout_ms": 500, "cache_ttl_seconds": 0, "cache_size": 1`), ""},
		{"token checks apply to the answers", prov(`, "audiences": ["api"], "subjects": ["alice"], "claims": [{"claim": "client_id", "equals": "cc"}],
		  "token_types": ["Bearer", "N_A"], "preset": "keycloak", "scope_claims": ["scope"], "role_claims": ["roles"], "also_issuers": ["https://b"],
		  "claim_to_headers": [{"claim": "sub", "header": "x-user"}], "payload_header": "x-claims", "clock_skew_seconds": 5,
		  "require_expiration": false, "max_lifetime_seconds": 600, "forward": true, "from_cookies": ["at"], "introspection": {` + good + `}`), ""},
		{"no introspection object", prov(``), `providers.op.introspection: is required`},
		{"no cluster", in(`"path": "/i", "client_id": "g", "client_secret": "p"`), `providers.op.introspection.cluster: is required`},
		{"no path", in(`"cluster": "op", "client_id": "g", "client_secret": "p"`), `providers.op.introspection.path: is required`},
		{"no client id", in(`"cluster": "op", "path": "/i", "client_secret": "p"`), `providers.op.introspection.client_id: is required`},
		{"no client secret", in(`"cluster": "op", "path": "/i", "client_id": "g"`), `providers.op.introspection.client_secret: is required`},
		{"a secret with a control character, not echoed", in(`"cluster": "op", "path": "/i", "client_id": "g", "client_secret": "hunter2\u0007"`), `providers.op.introspection.client_secret: is required: the client's secret (printable ASCII)`},
		{"a path not in canonical form", in(`"cluster": "op", "path": "/a/../i", "client_id": "g", "client_secret": "p"`), `providers.op.introspection.path: must be an absolute path in canonical form`},
		{"a relative path", in(`"cluster": "op", "path": "token", "client_id": "g", "client_secret": "p"`), `providers.op.introspection.path: must be an absolute path`},
		{"a timeout of 0", in(good + `, "timeout_ms": 0`), `providers.op.introspection.timeout_ms: must be at least 1`},
		{"a timeout beyond a minute", in(good + `, "timeout_ms": 60001`), `providers.op.introspection.timeout_ms: must be a number from 0 to 60000`},
		{"a cache of 0 answers", in(good + `, "cache_size": 0`), `providers.op.introspection.cache_size: must be at least 1`},
		{"a TTL beyond a day", in(good + `, "cache_ttl_seconds": 86401`), `providers.op.introspection.cache_ttl_seconds: must be a number from 0 to 86400`},
		{"an unknown setting", in(good + `, "client_secret_file": "/x"`), `providers.op.introspection.client_secret_file: unknown field`},
		{"an authority with a space", in(good + `, "authority": "a b\t"`), `providers.op.introspection.authority: must be printable ASCII`},
		{"no issuer to take the authority from", `{"providers": {"op": {"type": "introspection", "issuer": "op", "introspection": {` + good + `}}}}`, `providers.op.introspection.authority: must be printable ASCII`},
		{"keys do not apply", prov(`, "jwks": {"keys": []}, "introspection": {` + good + `}`), `providers.op.jwks: does not apply to an introspection provider`},
		{"jwks_uri does not apply", prov(`, "jwks_uri": "https://x", "introspection": {` + good + `}`), `providers.op.jwks_uri: does not apply`},
		{"algorithms do not apply", prov(`, "algorithms": ["RS256"], "introspection": {` + good + `}`), `providers.op.algorithms: does not apply`},
		{"an introspection object on a JWT provider", `{"providers": {"op": {"issuer": "x", "introspection": {` + good + `}}}}`, `providers.op.introspection: applies only to "type": "introspection"`},
		{"an introspection object on a passphrase provider", `{"providers": {"p": {"type": "passphrase", "passphrase": "0123456789abcdef0", "introspection": {}}}}`, `providers.p.introspection: does not apply to a passphrase provider`},
		{"an unknown type names introspection", `{"providers": {"op": {"type": "opaque"}}}`, `must be "jwt", "introspection" or "passphrase"`},
		{"two introspection providers without rules", `{"providers": {"a": {"type": "introspection", "issuer": "https://a", "introspection": {` + good + `}},
		  "b": {"type": "introspection", "issuer": "https://b", "introspection": {` + good + `}}}}`, `providers: accepts two introspection providers ("a", "b")`},
		{"two introspection providers on one rule", `{"providers": {"a": {"type": "introspection", "issuer": "https://a", "introspection": {` + good + `}},
		  "b": {"type": "introspection", "issuer": "https://b", "introspection": {` + good + `}}},
		  "rules": [{"match": {"prefix": "/a"}, "requires": {"providers": ["a"]}}, {"match": {"prefix": "/"}, "requires": {"providers": ["a", "b"]}}]}`,
			`rules[1].requires.providers: accepts two introspection providers`},
		{"two introspection providers on separate rules", `{"providers": {"a": {"type": "introspection", "issuer": "https://a", "introspection": {` + good + `}},
		  "b": {"type": "introspection", "issuer": "https://b", "introspection": {` + good + `}}},
		  "rules": [{"match": {"prefix": "/a"}, "requires": {"providers": ["a"]}}, {"match": {"prefix": "/"}, "requires": {"providers": ["b"]}}]}`, ``},
		{"an introspection and a passphrase provider on one rule", `{"providers": {"a": {"type": "introspection", "issuer": "https://a", "introspection": {` + good + `}},
		  "p": {"type": "passphrase", "passphrase": "0123456789abcdef0"}}}`, `providers: accepts the introspection provider "a" and the passphrase provider "p"`},
		{"an introspection and a JWT provider on one rule", `{"providers": {"a": {"type": "introspection", "issuer": "https://a", "introspection": {` + good + `}},
		  "j": {"issuer": "https://a"}}}`, ``},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := compileErr(tt.config)
			if tt.err == "" && got != "" || tt.err != "" && !strings.Contains(got, tt.err) {
				t.Fatalf("Compile error %q, want one containing %q", got, tt.err)
			}
			if strings.Contains(got, "hunter2") || strings.Contains(got, `"pw"`) {
				t.Fatalf("the error shows the client secret: %s", got)
			}
		})
	}
}

// TestIntrospectionCall: the call is an RFC 7662 request: POST of the form
// token=...&token_type_hint=access_token, the client's credentials in HTTP
// Basic (each form-encoded first, RFC 6749 §2.3.1), to the configured
// upstream, path and authority.
func TestIntrospectionCall(t *testing.T) {
	tests := []struct {
		name, settings, authority string
		timeout                   uint32
	}{
		{"the authority defaults to the issuer's host", ``, "op.example.com", 2000},
		{"an authority and timeout of their own", `, "authority": "idp.internal:8443", "timeout_ms": 250`, "idp.internal:8443", 250},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := compile(t, introspectCfg("", tt.settings, ""))
			tok := opaque + "+/=%&"
			d := g.Decide(get("/", bearer(tok)...), time.Now())
			step, call := g.PlanIntrospection(&d, 1, time.Now())
			if step != IntrospectSend || call.Upstream != "op" || call.TimeoutMillis != tt.timeout {
				t.Fatalf("step %v, call to %q with timeout %d", step, call.Upstream, call.TimeoutMillis)
			}
			want := map[string]string{":method": "POST", ":path": "/token/introspection", ":authority": tt.authority,
				"content-type": "application/x-www-form-urlencoded", "accept": "application/json",
				"content-length": strconv.Itoa(len(call.Body))}
			var basic string
			for _, h := range call.Headers {
				if h[0] == "authorization" {
					basic = h[1]
					continue
				}
				if w, ok := want[h[0]]; !ok || w != h[1] {
					t.Errorf("header %s: %q, want %q", h[0], h[1], w)
				}
				delete(want, h[0])
			}
			if len(want) != 0 {
				t.Errorf("headers missing: %v", want)
			}
			form, err := url.ParseQuery(string(call.Body))
			if err != nil || form.Get("token") != tok || form.Get("token_type_hint") != "access_token" || len(form) != 2 {
				t.Errorf("body %q reads as %v (%v)", call.Body, form, err)
			}
			raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(basic, "Basic "))
			id, secret, _ := strings.Cut(string(raw), ":")
			id, _ = url.QueryUnescape(id)
			secret, _ = url.QueryUnescape(secret)
			if err != nil || !strings.HasPrefix(basic, "Basic ") || id != "tokengate" || secret != "s3cret:/+ x" {
				t.Errorf("authorization %q reads as %q, %q (%v)", basic, id, secret, err)
			}
			if strings.Contains(call.Key.String(), opaque) || !strings.Contains(call.Key.String(), `provider "op", token sha256:`) {
				t.Errorf("the call's key reads %q", call.Key)
			}
		})
	}
}

// TestIntrospectionAnswerMapping: an answer's members are checked like a
// JWT's claims, and the rules, output headers and filter state read them.
func TestIntrospectionAnswerMapping(t *testing.T) {
	t0 := time.Now()
	tests := []struct {
		name, extra, rules, path string
		answer                   string
		status                   int // 0: allowed
		code                     string
	}{
		{name: "an active bearer token is accepted", answer: activeAnswer(t0)},
		{name: "the scope rule holds", path: "/score", answer: activeAnswer(t0)},
		{name: "the scope rule fails: 403 insufficient_scope", path: "/score", answer: activeAnswer(t0, "scope", `"read"`), status: 403, code: "scope_missing"},
		{name: "no scope at all: 403", path: "/score", answer: activeAnswer(t0, "scope", ""), status: 403, code: "scope_missing"},
		{name: "inactive: 401 invalid_token", answer: `{"active": false}`, status: 401, code: "token_inactive"},
		{name: "inactive with members: still inactive", answer: `{"active": false, "scope": "score", "token_type": "Bearer"}`, status: 401, code: "token_inactive"},
		{name: "expired: 401", answer: activeAnswer(t0, "exp", strconv.FormatInt(t0.Add(-time.Hour).Unix(), 10)), status: 401, code: "token_expired"},
		{name: "not yet valid: 401", answer: activeAnswer(t0, "nbf", strconv.FormatInt(t0.Add(time.Hour).Unix(), 10)), status: 401, code: "token_not_yet_valid"},
		{name: "no exp: 401 by default", answer: activeAnswer(t0, "exp", ""), status: 401, code: "expiration_missing"},
		{name: "no exp, and none required", extra: `, "require_expiration": false`, answer: activeAnswer(t0, "exp", "")},
		{name: "a lifetime beyond the limit: 401", extra: `, "max_lifetime_seconds": 600`, answer: activeAnswer(t0), status: 401, code: "lifetime_too_long"},
		{name: "another issuer: 401", answer: activeAnswer(t0, "iss", `"https://evil.example.com"`), status: 401, code: "issuer_not_accepted"},
		{name: "no iss: the endpoint speaks for its issuer", answer: activeAnswer(t0, "iss", "")},
		{name: "one of also_issuers", extra: `, "also_issuers": ["https://b.example.com"]`, answer: activeAnswer(t0, "iss", `"https://b.example.com"`)},
		{name: "a refresh token (no token_type): 401", answer: activeAnswer(t0, "token_type", ""), status: 401, code: "type_not_accepted"},
		{name: "a DPoP token: 401", answer: activeAnswer(t0, "token_type", `"DPoP"`), status: 401, code: "type_not_accepted"},
		{name: "token_type compared case-insensitively", answer: activeAnswer(t0, "token_type", `"bearer"`)},
		{name: "token_types of the provider's own", extra: `, "token_types": ["N_A"]`, answer: activeAnswer(t0, "token_type", `"N_A"`)},
		{name: "token_types that leave Bearer out", extra: `, "token_types": ["N_A"]`, answer: activeAnswer(t0), status: 401, code: "type_not_accepted"},
		{name: "a sender-constrained token (cnf): 401", answer: activeAnswer(t0, "cnf", `{"jkt": "abc"}`), status: 401, code: "type_not_accepted"},
		{name: "the audience holds (array)", extra: `, "audiences": ["api"]`, answer: activeAnswer(t0, "aud", `["other", "api"]`)},
		{name: "the audience holds (string)", extra: `, "audiences": ["api"]`, answer: activeAnswer(t0, "aud", `"api"`)},
		{name: "another audience: 401", extra: `, "audiences": ["api"]`, answer: activeAnswer(t0, "aud", `"other"`), status: 401, code: "audience_not_accepted"},
		{name: "no audience where one is required: 401", extra: `, "audiences": ["api"]`, answer: activeAnswer(t0), status: 401, code: "audience_not_accepted"},
		{name: "the subject is listed", extra: `, "subjects": ["alice"]`, answer: activeAnswer(t0)},
		{name: "another subject: 401", extra: `, "subjects": ["bob"]`, answer: activeAnswer(t0), status: 401, code: "subject_not_accepted"},
		{name: "the provider's claim requirement holds", extra: `, "claims": [{"claim": "client_id", "equals": "cc"}]`, answer: activeAnswer(t0)},
		{name: "the provider's claim requirement fails: 401", extra: `, "claims": [{"claim": "client_id", "equals": "other"}]`, answer: activeAnswer(t0), status: 401, code: "claim_not_accepted"},
		{name: "an ID token with a preset: 401", extra: `, "preset": "keycloak"`, answer: activeAnswer(t0, "typ", `"ID"`), status: 401, code: "id_token"},
		{name: "a rule's role from the preset's role claims", extra: `, "preset": "keycloak"`, path: "/admin",
			rules:  `[{"match": {"prefix": "/admin"}, "requires": {"providers": ["op"], "roles": ["admin"]}}]`,
			answer: activeAnswer(t0, "realm_access", `{"roles": ["admin"]}`)},
		{name: "a rule's role missing: 403", extra: `, "preset": "keycloak"`, path: "/admin",
			rules:  `[{"match": {"prefix": "/admin"}, "requires": {"providers": ["op"], "roles": ["admin"]}}]`,
			answer: activeAnswer(t0, "realm_access", `{"roles": ["reader"]}`), status: 403, code: "role_missing"},
		{name: "a rule's audience holds", path: "/m",
			rules:  `[{"match": {"prefix": "/m"}, "requires": {"providers": ["op"], "audiences": ["mlflow"]}}]`,
			answer: activeAnswer(t0, "aud", `["mlflow"]`)},
		{name: "a rule's audience missing: 403", path: "/m",
			rules:  `[{"match": {"prefix": "/m"}, "requires": {"providers": ["op"], "audiences": ["mlflow"]}}]`,
			answer: activeAnswer(t0), status: 403, code: "audience_missing"},
		{name: "a rule's claim check on client_id", path: "/m",
			rules:  `[{"match": {"prefix": "/m"}, "requires": {"providers": ["op"], "claims": [{"claim": "client_id", "equals": "other"}]}}]`,
			answer: activeAnswer(t0), status: 403, code: "claim_requirement"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := compile(t, introspectCfg(tt.extra, "", tt.rules))
			path := tt.path
			if path == "" {
				path = "/"
			}
			d := introspectOnce(t, g, get(path, bearer(opaque)...), t0, jsonAnswer(tt.answer))
			if d.Introspect != nil {
				t.Fatalf("the answer was not used: %d %s", d.Status, d.Reason)
			}
			if tt.status == 0 {
				if !d.Allow || d.Provider != "op" {
					t.Fatalf("refused %d %s (%s); want allowed", d.Status, d.Reason, d.Detail)
				}
				return
			}
			if d.Allow || d.Status != tt.status || d.Code != tt.code {
				t.Fatalf("%v %d %s (%s); want %d %s", d.Allow, d.Status, d.Code, d.Detail, tt.status, tt.code)
			}
			if tt.status == 401 && !strings.Contains(header(d, "www-authenticate"), `error="invalid_token"`) {
				t.Errorf("www-authenticate %q", header(d, "www-authenticate"))
			}
			if strings.Contains(d.Detail, opaque) || strings.Contains(string(d.Body), opaque) {
				t.Errorf("the refusal shows the token: %s / %s", d.Detail, d.Body)
			}
		})
	}
}

// TestIntrospectionOutputs: an accepted token is stripped as a JWT is, and
// claim_to_headers, payload_header and filter state read the answer.
func TestIntrospectionOutputs(t *testing.T) {
	t0 := time.Now()
	g := compile(t, `{"envoy_filter_state": {"claims": ["client_id"]},
	  "providers": {"op": {"type": "introspection", "issuer": "`+opURL+`",
	    "from_params": ["access_token"], "from_headers": [{"name": "authorization", "value_prefix": "Bearer "}],
	    "claim_to_headers": [{"claim": "sub", "header": "x-user"}, {"claim": "scope", "header": "x-scope"}], "payload_header": "x-claims",
	    "introspection": {"cluster": "op", "path": "/i", "client_id": "g", "client_secret": "p"}}}}`)
	body := activeAnswer(t0)
	req := &Request{Headers: [][2]string{{":method", "GET"}, {":path", "/x?a=1&access_token=" + opaque + "&b=2"}, {":authority", "api"}, {"x-user", "mallory"}}}
	d := introspectOnce(t, g, req, t0, jsonAnswer(body))
	if !d.Allow {
		t.Fatalf("refused: %d %s", d.Status, d.Reason)
	}
	if d.Path != "/x?a=1&b=2" {
		t.Errorf("upstream path %q: the token must be stripped from the query", d.Path)
	}
	set := map[string]string{}
	for _, h := range d.SetHeaders {
		set[h[0]] = h[1]
	}
	if set["x-user"] != "alice" || set["x-scope"] != "score read" || set["x-claims"] != base64.RawURLEncoding.EncodeToString([]byte(body)) {
		t.Errorf("set headers %v", d.SetHeaders)
	}
	removed := strings.Join(d.RemoveHeaders, ",")
	if !strings.Contains(removed, "x-user") || !strings.Contains(removed, "x-claims") {
		t.Errorf("removed headers %v: forged output headers must go", d.RemoveHeaders)
	}
	state := map[string]string{}
	for _, p := range d.FilterState {
		state[p[0]] = p[1]
	}
	if state["tokengate.provider"] != "op" || state["tokengate.sub"] != "alice" || state["tokengate.scope"] != "score read" || state["tokengate.client_id"] != "cc" {
		t.Errorf("filter state %v", d.FilterState)
	}
	// From the Authorization header, the header goes.
	d = g.Decide(get("/", bearer(opaque)...), t0)
	if !d.Allow || !strings.Contains(strings.Join(d.RemoveHeaders, ","), "authorization") {
		t.Errorf("a cached answer: allowed %v, removed %v", d.Allow, d.RemoveHeaders)
	}
}

// TestIntrospectionFailuresAre503: when the endpoint cannot be asked or its
// answer cannot be read, the request gets 503 with Retry-After, never 401;
// nothing is cached, and the next request asks again.
func TestIntrospectionFailuresAre503(t *testing.T) {
	t0 := time.Now()
	big := `{"active": true, "x": "` + strings.Repeat("a", maxAnswerBytes) + `"}`
	tests := []struct {
		name string
		ans  *IntrospectionAnswer // nil: the call failed
		log  string
	}{
		{"the call failed (endpoint down, timeout)", nil, "the call failed"},
		{"500", &IntrospectionAnswer{Status: "500", ContentType: "application/json", Body: []byte(`{"active": true}`)}, `answered "500"`},
		{"503", &IntrospectionAnswer{Status: "503", ContentType: "text/plain", Body: []byte(`down`)}, `answered "503"`},
		{"401: the plugin's client credentials are wrong", &IntrospectionAnswer{Status: "401", ContentType: "application/json", Body: []byte(`{"error": "invalid_client"}`)}, `answered "401"`},
		{"HTML", &IntrospectionAnswer{Status: "200", ContentType: "text/html", Body: []byte(`{"active": true}`)}, "content-type"},
		{"no content-type", &IntrospectionAnswer{Status: "200", Body: []byte(`{"active": true}`)}, "content-type"},
		{"an empty body", jsonAnswer(``), "0 bytes"},
		{"a body beyond the limit", jsonAnswer(big), "bytes, want 1 to"},
		{"not JSON", jsonAnswer(`active=true`), "not strict JSON"},
		{"a duplicate member", jsonAnswer(`{"active": false, "active": true}`), "not strict JSON"},
		{"a JSON array", jsonAnswer(`[{"active": true}]`), "not a JSON object"},
		{"no active", jsonAnswer(`{"scope": "score"}`), `no boolean "active"`},
		{"active as a string", jsonAnswer(`{"active": "true"}`), `no boolean "active"`},
		{"active as a number", jsonAnswer(`{"active": 1}`), `no boolean "active"`},
		{"exp as a string", jsonAnswer(activeAnswer(t0, "exp", `"tomorrow"`)), `"exp" is not a finite number`},
		{"scope as an array", jsonAnswer(activeAnswer(t0, "scope", `["score"]`)), `"scope" is not a string`},
		{"sub as a number", jsonAnswer(activeAnswer(t0, "sub", `42`)), `"sub" is not a string`},
		{"aud with a number", jsonAnswer(activeAnswer(t0, "aud", `["api", 1]`)), `"aud" is not a string or an array`},
		{"aud as an object", jsonAnswer(activeAnswer(t0, "aud", `{"a": 1}`)), `"aud" is not a string or an array`},
		{"token_type as null", jsonAnswer(activeAnswer(t0, "token_type", `null`)), `"token_type" is not a string`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := compile(t, introspectCfg("", `, "cache_ttl_seconds": 300`, ""))
			req := get("/", bearer(opaque)...)
			d := g.Decide(req, t0)
			_, call := g.PlanIntrospection(&d, 1, t0)
			ids, err := g.FinishIntrospection(call.Key, tt.ans, t0)
			if len(ids) != 1 || err == nil || !strings.Contains(err.Error(), tt.log) {
				t.Fatalf("ids %v, error %v; want one id and an error saying %q", ids, err, tt.log)
			}
			if strings.Contains(err.Error(), opaque) {
				t.Errorf("the error shows the token: %v", err)
			}
			d = g.Decide(req, t0)
			if d.Allow || d.Status != 503 || d.Code != "introspection_unavailable" || header(d, "retry-after") != "5" {
				t.Fatalf("after the failure: %v %d %s retry-after %q; want 503 with Retry-After", d.Allow, d.Status, d.Code, header(d, "retry-after"))
			}
			checkBody(t, d, "temporarily_unavailable")
			if step, _ := g.PlanIntrospection(&d, 2, t0.Add(time.Millisecond)); step != IntrospectSend {
				t.Fatalf("the next request does not ask again (step %v): a failure must not be cached", step)
			}
		})
	}
}

// TestIntrospectionCoalescing: requests with the same token share one call;
// other tokens get calls of their own, up to the bounds.
func TestIntrospectionCoalescing(t *testing.T) {
	t0 := time.Now()
	g := compile(t, introspectCfg("", `, "timeout_ms": 1000`, ""))
	reqA := get("/", bearer(opaque)...)
	dA := g.Decide(reqA, t0)
	if step, _ := g.PlanIntrospection(&dA, 1, t0); step != IntrospectSend {
		t.Fatalf("first request: step %v", step)
	}
	var keyA IntrospectionKey
	for id := uint32(2); id <= maxWaiters; id++ {
		d := g.Decide(reqA, t0)
		if step, _ := g.PlanIntrospection(&d, id, t0); step != IntrospectWait {
			t.Fatalf("request %d with the same token: step %v, want IntrospectWait", id, step)
		}
	}
	d := g.Decide(reqA, t0)
	if step, _ := g.PlanIntrospection(&d, 999, t0); step != IntrospectNone {
		t.Fatalf("beyond %d waiters: step %v, want IntrospectNone (503 at once)", maxWaiters, step)
	}
	// Another token: a call of its own.
	dB := g.Decide(get("/", bearer(opaque+"B")...), t0)
	stepB, callB := g.PlanIntrospection(&dB, 1000, t0)
	if stepB != IntrospectSend || callB.Key == dA.Introspect.key() {
		t.Fatalf("another token: step %v", stepB)
	}
	// The answer for A ends every wait on A, in arrival order, and no other.
	keyA = dA.Introspect.key()
	ids, err := g.FinishIntrospection(keyA, jsonAnswer(activeAnswer(t0)), t0)
	if err != nil || len(ids) != maxWaiters || ids[0] != 1 || ids[maxWaiters-1] != maxWaiters {
		t.Fatalf("FinishIntrospection: %d ids (first %v), %v", len(ids), ids[:1], err)
	}
	if again, _ := g.FinishIntrospection(keyA, jsonAnswer(activeAnswer(t0)), t0); again != nil {
		t.Fatalf("a second answer for the same call returned %v", again)
	}
	if d := g.Decide(reqA, t0); !d.Allow || d.Cached {
		t.Fatalf("after the answer: allowed %v cached %v", d.Allow, d.Cached)
	}
	if d := g.Decide(reqA, t0); !d.Allow || !d.Cached {
		t.Fatalf("the next request: allowed %v cached %v; want a cache hit", d.Allow, d.Cached)
	}
	// B still waits; a lost call (twice the timeout) does not hold it.
	dB = g.Decide(get("/", bearer(opaque+"B")...), t0.Add(500*time.Millisecond))
	if step, _ := g.PlanIntrospection(&dB, 1001, t0.Add(500*time.Millisecond)); step != IntrospectWait {
		t.Fatalf("B within its timeout: step %v", step)
	}
	if step, _ := g.PlanIntrospection(&dB, 1002, t0.Add(2*time.Second)); step != IntrospectSend {
		t.Fatalf("B after twice its timeout: step %v, want a new call", step)
	}
	// At most maxIntrospectionFlights calls in flight per provider.
	g = compile(t, introspectCfg("", "", ""))
	for i := 0; i < maxIntrospectionFlights; i++ {
		d := g.Decide(get("/", bearer(opaque+strconv.Itoa(i))...), t0)
		if step, _ := g.PlanIntrospection(&d, uint32(i), t0); step != IntrospectSend {
			t.Fatalf("call %d: step %v", i, step)
		}
	}
	d = g.Decide(get("/", bearer(opaque+"x")...), t0)
	if step, _ := g.PlanIntrospection(&d, 5000, t0); step != IntrospectNone {
		t.Fatalf("call %d: step %v, want IntrospectNone", maxIntrospectionFlights+1, step)
	}
	if d.Status != 503 {
		t.Fatalf("the refusal beyond the bound is %d, want 503", d.Status)
	}
}

func (in *Introspection) key() IntrospectionKey { return IntrospectionKey{p: in.p, hash: in.hash} }

// TestIntrospectionCacheTTL: an answer is kept for cache_ttl_seconds, never
// beyond the token's exp; inactive answers are kept too.
func TestIntrospectionCacheTTL(t *testing.T) {
	t0 := time.Unix(1_800_000_000, 0)
	tests := []struct {
		name   string
		ttl    string
		answer string
		kept   time.Duration // a request this much later still uses the answer
		gone   time.Duration // and one this much later asks again
	}{
		{"the TTL bounds an answer", `, "cache_ttl_seconds": 30`, activeAnswer(t0), 30 * time.Second, 30*time.Second + time.Millisecond},
		{"exp bounds an answer before the TTL", `, "cache_ttl_seconds": 300`,
			activeAnswer(t0, "exp", strconv.FormatInt(t0.Add(20*time.Second).Unix(), 10)), 20 * time.Second, 20*time.Second + time.Millisecond},
		{"an inactive answer is kept for the TTL", `, "cache_ttl_seconds": 30`, `{"active": false}`, 30 * time.Second, 31 * time.Second},
		{"a TTL of 0 asks for every request", `, "cache_ttl_seconds": 0`, activeAnswer(t0), 0, time.Millisecond},
		{"the default TTL is 60 s", ``, activeAnswer(t0), 60 * time.Second, 61 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := compile(t, introspectCfg("", tt.ttl, ""))
			req := get("/", bearer(opaque)...)
			first := introspectOnce(t, g, req, t0, jsonAnswer(tt.answer))
			kept := g.Decide(req, t0.Add(tt.kept))
			if kept.Introspect != nil || kept.Allow != first.Allow || kept.Status != first.Status {
				t.Fatalf("%v later: %v %d, want the cached answer's %v %d", tt.kept, kept.Allow, kept.Status, first.Allow, first.Status)
			}
			if gone := g.Decide(req, t0.Add(tt.gone)); gone.Introspect == nil {
				t.Fatalf("%v later: the answer is still used (%v %d)", tt.gone, gone.Allow, gone.Status)
			}
		})
	}
}

// TestIntrospectionCacheBounds: at most cache_size answers, the least
// recently used go first; and at most maxAnswerCacheBytes of bodies.
func TestIntrospectionCacheBounds(t *testing.T) {
	t0 := time.Now()
	g := compile(t, introspectCfg("", `, "cache_size": 2`, ""))
	req := func(i int) *Request { return get("/", bearer(opaque+strconv.Itoa(i))...) }
	for i := 0; i < 3; i++ {
		if d := introspectOnce(t, g, req(i), t0, jsonAnswer(activeAnswer(t0))); !d.Allow {
			t.Fatalf("token %d refused", i)
		}
		if i == 1 {
			g.Decide(req(0), t0) // 0 is now more recent than 1
		}
	}
	ip := g.provider("op").introspect
	if n := len(ip.answers.entries); n != 2 {
		t.Fatalf("%d answers cached, want 2", n)
	}
	if d := g.Decide(req(1), t0); d.Introspect == nil {
		t.Errorf("token 1 (least recently used) is still cached")
	}
	for _, i := range []int{0, 2} {
		if d := g.Decide(req(i), t0); d.Introspect != nil {
			t.Errorf("token %d was evicted", i)
		}
	}

	// Bodies: large answers evict by bytes, whatever cache_size allows.
	g = compile(t, introspectCfg("", `, "cache_size": 100000`, ""))
	pad := strings.Repeat("x", maxAnswerBytes-400)
	n := 0
	for i := 0; i < 2*maxAnswerCacheBytes/maxAnswerBytes; i++ {
		introspectOnce(t, g, req(i), t0, jsonAnswer(activeAnswer(t0, "pad", `"`+pad+`"`)))
		n++
	}
	c := g.provider("op").introspect.answers
	if c.bytes > maxAnswerCacheBytes || len(c.entries) >= n || len(c.entries) < maxAnswerCacheBytes/maxAnswerBytes-1 {
		t.Fatalf("%d answers of %d bytes cached after %d; want at most %d bytes", len(c.entries), c.bytes, n, maxAnswerCacheBytes)
	}
	if d := g.Decide(req(n-1), t0); d.Introspect != nil {
		t.Errorf("the newest answer was evicted")
	}
}

// TestIntrospectionDispatch: which credentials go to the endpoint.
func TestIntrospectionDispatch(t *testing.T) {
	f := fx(t)
	t0 := time.Now()
	jwt := mint(t, f.corp, nil)
	cfg := `{"providers": {
	    "corp": {"issuer": "` + corpURL + `", "jwks": ` + string(f.corp.JWKS()) + `},
	    "op": {"type": "introspection", "issuer": "` + corpURL + `", "introspection": {"cluster": "op", "path": "/i", "client_id": "g", "client_secret": "p"}}},
	  "rules": [
	    {"match": {"prefix": "/both"}, "requires": {"providers": ["corp", "op"]}},
	    {"match": {"prefix": "/op"}, "requires": {"providers": ["op"]}},
	    {"match": {"prefix": "/dry"}, "requires": {"providers": ["op"]}, "dry_run": true},
	    {"match": {"prefix": "/"}, "requires": {"providers": ["corp"]}}]}`
	g := compile(t, cfg)
	tests := []struct {
		name, path, token string
		introspect        bool
		allow             bool
	}{
		{"a JWT on a rule with a JWT provider is verified in the module", "/both", jwt, false, true},
		{"an opaque token on the same rule goes to the endpoint", "/both", opaque, true, false},
		{"a JWT on an introspection-only rule goes to the endpoint", "/op", jwt, true, false},
		{"an opaque token on a JWT-only rule is malformed", "/x", opaque, false, false},
		{"a dry-run rule still asks, so that it can report the real answer", "/dry", opaque, true, true},
		{"an overlong token is refused without a call", "/op", strings.Repeat("a", maxTokenBytes+1), false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := g.Decide(get(tt.path, bearer(tt.token)...), t0)
			if (d.Introspect != nil) != tt.introspect || d.Allow != tt.allow {
				t.Fatalf("introspect %v allow %v (%d %s); want %v %v", d.Introspect != nil, d.Allow, d.Status, d.Code, tt.introspect, tt.allow)
			}
			if d.Introspect != nil && d.Introspect.Provider() != "op" {
				t.Errorf("provider %q", d.Introspect.Provider())
			}
		})
	}
}

// TestIntrospectionLeavesTheJWTWarmPathAlone: a configuration with an
// introspection provider beside a JWT provider decides a cached JWT without
// allocating, and a cached introspection answer (a hash and a lookup) does
// not allocate either.
func TestIntrospectionLeavesTheJWTWarmPathAlone(t *testing.T) {
	f := fx(t)
	t0 := time.Now()
	g := compile(t, `{"providers": {
	    "corp": {"issuer": "`+corpURL+`", "jwks": `+string(f.corp.JWKS())+`},
	    "op": {"type": "introspection", "issuer": "`+opURL+`", "introspection": {"cluster": "op", "path": "/i", "client_id": "g", "client_secret": "p"}}}}`)
	jwt := get("/", bearer(mint(t, f.corp, nil))...)
	if d := g.Decide(jwt, t0); !d.Allow {
		t.Fatalf("JWT refused: %s", d.Reason)
	}
	if n := testing.AllocsPerRun(100, func() { g.Decide(jwt, t0) }); n != 0 {
		t.Errorf("a cached JWT costs %.0f allocations, want 0", n)
	}
	op := get("/", bearer(opaque)...)
	if d := introspectOnce(t, g, op, t0, jsonAnswer(activeAnswer(t0))); !d.Allow {
		t.Fatalf("opaque token refused: %s", d.Reason)
	}
	n := testing.AllocsPerRun(100, func() { g.Decide(op, t0) })
	if n != 0 {
		t.Errorf("a cached introspection answer costs %.0f allocations, want 0", n)
	}
}

func TestFormEscape(t *testing.T) {
	for in, want := range map[string]string{
		"":                  "",
		"AZaz09-._~":        "AZaz09-._~",
		"a b+c/d=e&f%g":     "a%20b%2Bc%2Fd%3De%26f%25g",
		"é\x00\x7f\xff":     "%C3%A9%00%7F%FF",
		"secret:with:colon": "secret%3Awith%3Acolon",
	} {
		if got := formEscape(in); got != want {
			t.Errorf("formEscape(%q) = %q, want %q", in, got, want)
		}
		if back, err := url.QueryUnescape(formEscape(in)); err != nil || back != in {
			t.Errorf("formEscape(%q) does not read back: %q %v", in, back, err)
		}
	}
}

func TestIntrospectionLint(t *testing.T) {
	tests := []struct {
		name, extra, settings string
		want                  []string // the findings about the provider beyond audiences and max_lifetime_seconds
	}{
		{"ID tokens accepted, the default TTL", ``, ``,
			[]string{`providers.op: answers that describe an ID token are accepted: set "refuse_id_tokens": true, or a "preset"`}},
		{"ID tokens refused", `, "refuse_id_tokens": true`, ``, nil},
		{"a preset refuses ID tokens", `, "preset": "keycloak"`, ``, nil},
		{"a TTL at the limit", `, "refuse_id_tokens": true`, `, "cache_ttl_seconds": 300`, nil},
		{"a long TTL", `, "refuse_id_tokens": true`, `, "cache_ttl_seconds": 3600`,
			[]string{`providers.op.introspection.cache_ttl_seconds: a token revoked at the provider stays accepted for up to 3600 s; at most 300 keeps revocation prompt`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			findings, err := Lint([]byte(introspectCfg(tt.extra, tt.settings, "")))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range findings {
				if s := f.String(); !strings.Contains(s, ".audiences:") && !strings.Contains(s, ".max_lifetime_seconds:") && !strings.HasPrefix(s, "rules[") {
					got = append(got, s)
				}
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Fatalf("findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}
