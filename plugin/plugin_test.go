//go:build !wasip1

package main

// These tests drive the real tokengate.wasm through testhost, request by
// request, the way a proxy does. The verifier's rules are covered natively in
// internal/gate; here every outcome must survive the trip through the ABI.

import (
	"strings"
	"testing"
	"time"

	"github.com/tokengate/tokengate/host"
	"github.com/tokengate/tokengate/internal/issuer"
	"github.com/tokengate/tokengate/plugin/internal/metrics"
	"github.com/tokengate/tokengate/testhost"
)

const (
	iss = "https://idp.example.com/realms/ml"
	aud = "api://scoring"
)

func config(t testing.TB, idp *issuer.Issuer) string {
	return `{
  "realm": "models",
  "providers": {
    "corp": {"issuer": "` + iss + `", "audiences": ["` + aud + `"], "jwks": ` + string(idp.JWKS()) + `,
      "claim_to_headers": [{"claim": "sub", "header": "x-user"}]},
    "pending": {"issuer": "https://pending.example.com", "jwks_uri": "https://pending.example.com/certs"}
  },
  "rules": [
    {"match": {"prefix": "/healthz"}},
    {"match": {"prefix": "/v1/score"}, "requires": {"providers": ["corp"], "scopes": ["score"]}},
    {"match": {"prefix": "/"}, "requires": {"providers": ["corp", "pending"]}}
  ]
}`
}

func newIssuer(t testing.TB) *issuer.Issuer {
	t.Helper()
	idp, err := issuer.New(iss, issuer.RS256, issuer.ES256)
	if err != nil {
		t.Fatal(err)
	}
	return idp
}

func token(t testing.TB, idp *issuer.Issuer, claims issuer.Claims, opts ...issuer.MintOption) string {
	t.Helper()
	c := issuer.Claims{"aud": aud, "sub": "alice", "scope": "score"}
	for k, v := range claims {
		c[k] = v
	}
	tok, err := idp.Mint(c, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestPlugin(t *testing.T) { forEachEnvoy(t, testPlugin) }

func testPlugin(t *testing.T, opts ...testhost.Option) {
	idp := newIssuer(t)
	th := testhost.New(t, config(t, idp), opts...)
	valid := token(t, idp, nil)
	pending, err := issuer.New("https://pending.example.com", issuer.RS256)
	if err != nil {
		t.Fatal(err)
	}
	stranger, err := issuer.New("https://stranger.example.com", issuer.RS256)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name      string
		path      string
		auth      string
		status    int // 0: continued upstream
		www       string
		bodyError string
	}{
		{name: "a valid RS256 token goes upstream", path: "/v1/score", auth: "Bearer " + valid},
		{name: "a valid ES256 token goes upstream", path: "/v1/score", auth: "Bearer " + token(t, idp, nil, issuer.WithKey("ES256-1"))},
		{name: "a public route needs no token", path: "/healthz"},
		{name: "no token", path: "/v1/score", status: 401, www: `Bearer realm="models"`, bodyError: "unauthorized"},
		{name: "a malformed header", path: "/v1/score", auth: "Bearer", status: 400,
			www: `Bearer realm="models", error="invalid_request", error_description="malformed authorization header"`, bodyError: "invalid_request"},
		{name: "an expired token", path: "/v1/score", auth: "Bearer " + token(t, idp, nil, issuer.WithTTL(-time.Hour)), status: 401,
			www: `Bearer realm="models", error="invalid_token", error_description="token has expired"`, bodyError: "invalid_token"},
		{name: "a missing scope", path: "/v1/score", auth: "Bearer " + token(t, idp, issuer.Claims{"scope": "read"}), status: 403,
			www: `Bearer realm="models", error="insufficient_scope", scope="score"`, bodyError: "insufficient_scope"},
		{name: "a wrong issuer", path: "/v1/score", auth: "Bearer " + token(t, stranger, nil), status: 401,
			www: `Bearer realm="models", error="invalid_token", error_description="issuer not accepted"`, bodyError: "invalid_token"},
		{name: "a wrong audience", path: "/v1/score", auth: "Bearer " + token(t, idp, issuer.Claims{"aud": "api://other"}), status: 401,
			www: `Bearer realm="models", error="invalid_token", error_description="audience not accepted"`, bodyError: "invalid_token"},
		{name: "a bad signature", path: "/v1/score", auth: "Bearer " + valid[:len(valid)-6] + "AAAAAA", status: 401,
			www: `Bearer realm="models", error="invalid_token", error_description="signature is invalid"`, bodyError: "invalid_token"},
		{name: "an unknown key", path: "/v1/score", auth: "Bearer " + token(t, idp, nil, issuer.WithHeader("kid", "retired")), status: 401,
			www: `Bearer realm="models", error="invalid_token", error_description="signing key not found"`, bodyError: "invalid_token"},
		{name: "an issuer without keys yet", path: "/models", auth: "Bearer " + token(t, pending, nil), status: 503, bodyError: "temporarily_unavailable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := testhost.Request{Method: "POST", Path: tt.path, Headers: [][2]string{{"x-user", "mallory"}}}
			if tt.auth != "" {
				req.Headers = append(req.Headers, [2]string{"authorization", tt.auth})
			}
			res := th.Do(t, req)
			if tt.status == 0 {
				if !res.Continued {
					t.Fatalf("refused with %d: %s (logs %q)", res.Status, res.Body, res.Logs)
				}
				if got := upstream(res, "authorization"); got != "" {
					t.Errorf("the token went upstream: %q", got)
				}
				wantUser := "alice"
				if tt.auth == "" {
					wantUser = ""
				}
				if got := upstream(res, "x-user"); got != wantUser {
					t.Errorf("x-user upstream = %q, want %q", got, wantUser)
				}
				return
			}
			if res.Continued {
				t.Fatalf("went upstream, want %d", tt.status)
			}
			if res.Status != tt.status {
				t.Fatalf("status = %d, want %d; body %s", res.Status, tt.status, res.Body)
			}
			if got := responseHeader(res, "www-authenticate"); got != tt.www {
				t.Errorf("WWW-Authenticate = %q, want %q", got, tt.www)
			}
			if tt.status == 503 && responseHeader(res, "retry-after") == "" {
				t.Errorf("503 without Retry-After")
			}
			if !strings.Contains(string(res.Body), `"error":"`+tt.bodyError+`"`) {
				t.Errorf("body = %s, want error %q", res.Body, tt.bodyError)
			}
			if tt.auth != "" && len(tt.auth) > 20 && strings.Contains(string(res.Body), tt.auth[7:]) {
				t.Errorf("the body echoes the token")
			}
			logs := strings.Join(res.Logs, "\n")
			if len(res.Logs) == 0 || !strings.Contains(logs, "denied with") {
				t.Errorf("no log line for the denial: %q", res.Logs)
			}
			if tt.auth != "" && len(tt.auth) > 20 && strings.Contains(logs, tt.auth[7:]) {
				t.Errorf("the log holds the token: %q", logs)
			}
		})
	}
}

func upstream(r testhost.Response, name string) string {
	for _, h := range r.Headers {
		if strings.EqualFold(h[0], name) {
			return h[1]
		}
	}
	return ""
}

func responseHeader(r testhost.Response, name string) string {
	for _, h := range r.ResponseHeaders {
		if strings.EqualFold(h[0], name) {
			return h[1]
		}
	}
	return ""
}

func TestPluginRefusesBadConfigurations(t *testing.T) {
	tests := []struct{ name, config, log string }{
		{"not JSON", `{`, "configuration: not valid JSON at offset 1"},
		{"a provider without issuer", `{"providers":{"corp":{}}}`, "providers.corp.issuer: is required"},
		{"a jwks that is not a set", `{"providers":{"corp":{"issuer":"x","jwks":[]}}}`, "providers.corp.jwks: not a JWK Set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logs := strings.Join(testhost.Refused(t, tt.config), "\n")
			if !strings.Contains(logs, tt.log) {
				t.Fatalf("logs %q do not name the problem %q", logs, tt.log)
			}
		})
	}
}

// BenchmarkPlugin measures one request through the real module in wazero:
// cold (signature verified) and cached (a client reusing its token).
func BenchmarkPlugin(b *testing.B) {
	idp := newIssuer(b)
	for _, mode := range []struct{ name, cache string }{{"cold", "0"}, {"cached", "1024"}} {
		cfg := strings.Replace(config(b, idp), `"realm"`, `"cache_size": `+mode.cache+`, "realm"`, 1)
		th := testhost.New(b, cfg)
		for _, kid := range []string{"RS256-1", "ES256-1"} {
			req := testhost.Request{Method: "GET", Path: "/v1/score", Headers: [][2]string{{"authorization", "Bearer " + token(b, idp, nil, issuer.WithKey(kid), issuer.WithTTL(time.Hour))}}}
			b.Run(mode.name+"/"+kid[:5], func(b *testing.B) {
				for b.Loop() {
					if res := th.Do(b, req); !res.Continued {
						b.Fatalf("refused: %d %s", res.Status, res.Body)
					}
				}
			})
		}
	}
}

func TestPluginCountsDecisions(t *testing.T) { forEachEnvoy(t, testPluginCountsDecisions) }

func testPluginCountsDecisions(t *testing.T, opts ...testhost.Option) {
	idp := newIssuer(t)
	cfg := strings.Replace(config(t, idp), `{"match": {"prefix": "/healthz"}},`,
		`{"match": {"prefix": "/healthz"}}, {"match": {"prefix": "/beta"}, "requires": {"providers": ["corp"], "scopes": ["beta"]}, "dry_run": true},`, 1)
	// One VM, so that the cache the counts depend on is one cache; a clock
	// the test moves, so that it decides when the tick that flushes the
	// counters is due.
	var offset time.Duration
	start := time.Now()
	clock := func() time.Time { return start.Add(offset) }
	th := testhost.New(t, cfg, append(opts, testhost.WithHostOption(host.WithPoolSize(1)), testhost.WithClock(clock))...)
	valid := "Bearer " + token(t, idp, nil)
	for _, r := range []testhost.Request{
		{Method: "GET", Path: "/v1/score", Headers: [][2]string{{"authorization", valid}}},
		{Method: "GET", Path: "/v1/score", Headers: [][2]string{{"authorization", valid}}},
		{Method: "GET", Path: "/v1/score", Headers: [][2]string{{"authorization", "Bearer " + token(t, idp, nil, issuer.WithTTL(-time.Hour))}}},
		{Method: "GET", Path: "/v1/score"},
		{Method: "GET", Path: "/beta/x", Headers: [][2]string{{"authorization", valid}}},
	} {
		res := th.Do(t, r)
		if r.Path == "/beta/x" {
			if !res.Continued || !strings.Contains(strings.Join(res.Logs, "\n"), "dry run: would deny with 403") {
				t.Fatalf("dry run: continued=%v logs %q", res.Continued, res.Logs)
			}
		}
	}
	// The counts are held in the module until a tick (or metrics.FlushEvery
	// decisions) flushes them.
	if got := th.Plugin().Metrics()["tokengate.requests.allowed"]; got != 0 {
		t.Errorf("tokengate.requests.allowed = %d before any tick, want 0: counters are not batched", got)
	}
	offset += metrics.TickMillis * time.Millisecond
	if n, _ := th.Tick(t); n != 1 {
		t.Fatalf("%d ticks delivered a tick period later, want 1", n)
	}
	got := th.Plugin().Metrics()
	want := map[string]int64{
		"tokengate.requests.allowed":          3,
		"tokengate.requests.denied":           2,
		"tokengate.provider.corp.allowed":     2,
		"tokengate.denied.token_expired":      1,
		"tokengate.denied.token_missing":      1,
		"tokengate.cache.hits":                2,
		"tokengate.requests.dry_run_denied":   1,
		"tokengate.requests.keys_unavailable": 0,
	}
	for name, n := range want {
		if got[name] != n {
			t.Errorf("%s = %d, want %d", name, got[name], n)
		}
	}
	if _, ok := got["tokengate.verify_us"]; !ok {
		t.Errorf("no verification-time histogram among %v", got)
	}
}

// TestPluginFlushesCountersWithoutTicks proves the bound on how far the
// host's counters can fall behind when no tick comes: every
// metrics.FlushEvery decisions the module flushes by itself.
func TestPluginFlushesCountersWithoutTicks(t *testing.T) {
	idp := newIssuer(t)
	th := testhost.New(t, config(t, idp), testhost.WithHostOption(host.WithPoolSize(1)))
	for _, tt := range []struct {
		name     string
		requests int
		want     int64
	}{
		{"one decision short of the bound stays in the module", metrics.FlushEvery - 1, 0},
		{"the decision that reaches it flushes them all", 1, metrics.FlushEvery},
	} {
		for range tt.requests {
			th.Do(t, testhost.Request{Path: "/healthz"})
		}
		if got := th.Plugin().Metrics()["tokengate.requests.allowed"]; got != tt.want {
			t.Errorf("%s: tokengate.requests.allowed = %d, want %d", tt.name, got, tt.want)
		}
	}
}
