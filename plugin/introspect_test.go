//go:build !wasip1

package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tokengate/tokengate/host"
	"github.com/tokengate/tokengate/plugin/internal/metrics"
	"github.com/tokengate/tokengate/testhost"
)

// introspectionEndpoint is a fake RFC 7662 endpoint: it checks the client's
// HTTP Basic credentials and the form, and answers from its token table
// (unknown tokens are inactive; a nil member is left out of the answer), or
// as fail says.
type introspectionEndpoint struct {
	mu     sync.Mutex
	tokens map[string]map[string]any // token → the members of its active answer
	fail   func(w http.ResponseWriter, r *http.Request) bool
	calls  atomic.Int32
	last   atomic.Value  // "METHOD path content-type accept" of the last call
	hold   chan struct{} // when set, each call waits for it
	srv    *httptest.Server
}

func newIntrospectionEndpoint(t *testing.T) *introspectionEndpoint {
	e := &introspectionEndpoint{tokens: map[string]map[string]any{}}
	e.srv = httptest.NewServer(http.HandlerFunc(e.serve))
	t.Cleanup(e.srv.Close)
	return e
}

func (e *introspectionEndpoint) set(token string, members map[string]any) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.tokens[token] = members
}

func (e *introspectionEndpoint) serve(w http.ResponseWriter, r *http.Request) {
	e.calls.Add(1)
	e.last.Store(r.Method + " " + r.URL.Path + " " + r.Header.Get("Content-Type") + " " + r.Header.Get("Accept"))
	if e.hold != nil {
		<-e.hold
	}
	if e.fail != nil && e.fail(w, r) {
		return
	}
	id, secret, ok := r.BasicAuth()
	if !ok || id != "tokengate" || secret != "gate-secret" {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"error":"invalid_client"}`))
		return
	}
	if err := r.ParseForm(); err != nil || r.PostForm.Get("token_type_hint") != "access_token" || len(r.PostForm["token"]) != 1 {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	e.mu.Lock()
	members, found := e.tokens[r.PostForm.Get("token")]
	e.mu.Unlock()
	answer := map[string]any{"active": false}
	if found {
		answer = map[string]any{"active": true, "token_type": "Bearer", "iss": "https://op.example.com",
			"exp": time.Now().Add(time.Hour).Unix(), "iat": time.Now().Unix()}
		for k, v := range members {
			if v == nil {
				delete(answer, k) // a member the answer lacks
			} else {
				answer[k] = v
			}
		}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(answer)
}

// introspectionConfig guards /score (scope "score") and the rest with the
// introspection provider "op", reached as the upstream "op".
func introspectionConfig(settings string) string {
	return `{"realm": "models", "providers": {"op": {"type": "introspection", "issuer": "https://op.example.com",
	    "claim_to_headers": [{"claim": "client_id", "header": "x-client"}],
	    "introspection": {"cluster": "op", "path": "/token/introspection", "client_id": "tokengate", "client_secret": "gate-secret"` + settings + `}}},
	  "rules": [{"match": {"prefix": "/score"}, "requires": {"providers": ["op"], "scopes": ["score"]}},
	    {"match": {"prefix": "/"}, "requires": {"providers": ["op"]}}]}`
}

// TestPluginIntrospectsOpaqueTokens drives the real module: a token that is
// not a JWT pauses its request while the plugin asks the provider's
// introspection endpoint (a named upstream), and the answer decides it.
func TestPluginIntrospectsOpaqueTokens(t *testing.T) {
	forEachEnvoy(t, testPluginIntrospectsOpaqueTokens)
}

func testPluginIntrospectsOpaqueTokens(t *testing.T, opts ...testhost.Option) {
	ep := newIntrospectionEndpoint(t)
	ep.set("good-token", map[string]any{"client_id": "batch", "scope": "score read"})
	ep.set("read-only", map[string]any{"client_id": "batch", "scope": "read"})
	ep.set("refresh-token", map[string]any{"client_id": "batch", "token_type": nil})
	th := testhost.New(t, introspectionConfig(""), append(opts, testhost.WithHostOption(host.WithUpstream("op", ep.srv.URL)))...)

	tests := []struct {
		name, path, token string
		status            int // 0: continued upstream
		wwwAuth           string
	}{
		{name: "an active token goes upstream", path: "/score", token: "good-token"},
		{name: "an active token without the scope: 403", path: "/score", token: "read-only", status: 403, wwwAuth: `error="insufficient_scope", scope="score"`},
		{name: "an unknown token is inactive: 401", path: "/", token: "made-up", status: 401, wwwAuth: `error="invalid_token", error_description="token is not active"`},
		{name: "a refresh token is not a bearer token: 401", path: "/", token: "refresh-token", status: 401, wwwAuth: `error="invalid_token", error_description="token type not accepted"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := ep.calls.Load()
			req := testhost.Request{Path: tt.path, Headers: [][2]string{{"authorization", "Bearer " + tt.token}, {"x-client", "forged"}}}
			res := th.Do(t, req)
			if ep.calls.Load() != before+1 {
				t.Fatalf("%d introspection calls, want 1", ep.calls.Load()-before)
			}
			if got, _ := ep.last.Load().(string); got != "POST /token/introspection application/x-www-form-urlencoded application/json" {
				t.Errorf("the call was %q", got)
			}
			check := func(res testhost.Response) {
				t.Helper()
				logs := strings.Join(res.Logs, "\n")
				if strings.Contains(logs, tt.token) || strings.Contains(logs, "gate-secret") {
					t.Errorf("the log shows the token or the client secret:\n%s", logs)
				}
				if tt.status == 0 {
					if !res.Continued {
						t.Fatalf("refused with %d %s; log:\n%s", res.Status, res.Body, logs)
					}
					if got := upstream(res, "authorization"); got != "" {
						t.Errorf("the token went upstream: %q", got)
					}
					if got := upstream(res, "x-client"); got != "batch" {
						t.Errorf("x-client upstream = %q, want the answer's client_id", got)
					}
					return
				}
				if res.Continued || res.Status != tt.status || !strings.Contains(res.Header("www-authenticate"), tt.wwwAuth) {
					t.Fatalf("continued %v, %d %q; want %d with %s; log:\n%s", res.Continued, res.Status, res.Header("www-authenticate"), tt.status, tt.wwwAuth, logs)
				}
			}
			check(res)
			// The answer is cached: the same token again makes no call.
			check(th.Do(t, req))
			if ep.calls.Load() != before+1 {
				t.Fatalf("the second request made another call (%d in all)", ep.calls.Load()-before)
			}
		})
	}
}

// TestPluginIntrospectionFailuresAre503: every way the endpoint can fail
// gives 503 with Retry-After, never 401 and never a pass, and is not cached.
func TestPluginIntrospectionFailuresAre503(t *testing.T) {
	tests := []struct {
		name     string
		upstream string // the cluster the configuration names; default "op"
		fail     func(w http.ResponseWriter, r *http.Request) bool
		log      string
	}{
		{name: "the endpoint answers 500", fail: func(w http.ResponseWriter, _ *http.Request) bool {
			http.Error(w, "boom", http.StatusInternalServerError)
			return true
		}, log: `the endpoint answered "500"`},
		{name: "the endpoint answers HTML", fail: func(w http.ResponseWriter, _ *http.Request) bool {
			w.Header().Set("Content-Type", "text/html")
			_, _ = w.Write([]byte(`<html>{"active": true}</html>`))
			return true
		}, log: "content-type"},
		{name: "the endpoint answers garbage JSON", fail: func(w http.ResponseWriter, _ *http.Request) bool {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"active": "yes", "active": true}`))
			return true
		}, log: "not strict JSON"},
		{name: "the endpoint does not answer within timeout_ms", fail: func(_ http.ResponseWriter, r *http.Request) bool {
			select {
			case <-r.Context().Done():
			case <-time.After(2 * time.Second):
			}
			return true
		}, log: "the call failed"},
		{name: "the plugin's client credentials are refused", fail: func(w http.ResponseWriter, r *http.Request) bool {
			r.Header.Set("Authorization", "Basic d3Jvbmc6d3Jvbmc=")
			return false
		}, log: `the endpoint answered "401"`},
		{name: "no upstream of that name", upstream: "nowhere", log: "cannot send the introspection request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ep := newIntrospectionEndpoint(t)
			ep.set("good-token", nil)
			ep.fail = tt.fail
			cfg := introspectionConfig(`, "timeout_ms": 300`)
			if tt.upstream != "" {
				cfg = strings.Replace(cfg, `"cluster": "op"`, `"cluster": "`+tt.upstream+`"`, 1)
			}
			th := testhost.New(t, cfg, testhost.WithHostOption(host.WithUpstream("op", ep.srv.URL)))
			for i := range 2 {
				start := time.Now()
				res := th.Do(t, testhost.Request{Headers: [][2]string{{"authorization", "Bearer good-token"}}})
				logs := strings.Join(res.Logs, "\n")
				if res.Continued || res.Status != 503 || res.Header("retry-after") == "" {
					t.Fatalf("request %d: continued %v, status %d, retry-after %q; want 503; log:\n%s", i, res.Continued, res.Status, res.Header("retry-after"), logs)
				}
				if !strings.Contains(string(res.Body), "temporarily_unavailable") || !strings.Contains(logs, tt.log) {
					t.Errorf("request %d: body %s; the log does not say %q:\n%s", i, res.Body, tt.log, logs)
				}
				if strings.Contains(logs, "good-token") {
					t.Errorf("the log shows the token:\n%s", logs)
				}
				if d := time.Since(start); d > 3*time.Second {
					t.Errorf("request %d waited %v; timeout_ms is 300", i, d)
				}
			}
			want := int32(2) // a failure is not cached: each request asks
			if tt.upstream != "" {
				want = 0
			}
			if got := ep.calls.Load(); got != want {
				t.Errorf("%d calls, want %d", got, want)
			}
		})
	}
}

// TestPluginIntrospectionSharesOneCall: requests with the same token that
// arrive while its call is in flight wait on that call.
func TestPluginIntrospectionSharesOneCall(t *testing.T) {
	ep := newIntrospectionEndpoint(t)
	ep.set("good-token", nil)
	ep.hold = make(chan struct{})
	th := testhost.New(t, introspectionConfig(""), testhost.WithHostOption(host.WithUpstream("op", ep.srv.URL)))
	const n = 5
	results := make(chan testhost.Response, n)
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results <- th.Do(t, testhost.Request{Headers: [][2]string{{"authorization", "Bearer good-token"}}})
		}()
	}
	// Let every request reach the plugin and pause before the answer comes.
	deadline := time.Now().Add(5 * time.Second)
	for ep.calls.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	close(ep.hold)
	wg.Wait()
	close(results)
	for res := range results {
		if !res.Continued {
			t.Errorf("a request was refused: %d %s", res.Status, res.Body)
		}
	}
	if got := ep.calls.Load(); got != 1 {
		t.Fatalf("%d introspection calls for %d requests with one token, want 1", got, n)
	}
}

// TestPluginIntrospectionRevocationAfterTTL: a token the provider revokes is
// refused once its answer is older than cache_ttl_seconds.
func TestPluginIntrospectionRevocationAfterTTL(t *testing.T) {
	ep := newIntrospectionEndpoint(t)
	ep.set("good-token", nil)
	var clock atomic.Int64
	clock.Store(time.Now().UnixNano())
	th := testhost.New(t, introspectionConfig(`, "cache_ttl_seconds": 30`), testhost.WithHostOption(host.WithUpstream("op", ep.srv.URL)),
		testhost.WithClock(func() time.Time { return time.Unix(0, clock.Load()) }))
	req := testhost.Request{Headers: [][2]string{{"authorization", "Bearer good-token"}}}
	if res := th.Do(t, req); !res.Continued {
		t.Fatalf("refused before the revocation: %d", res.Status)
	}
	ep.set("good-token", map[string]any{"active": false}) // revoked at the provider
	clock.Add(int64(29 * time.Second))
	if res := th.Do(t, req); !res.Continued {
		t.Fatalf("refused within the TTL: %d (the answer should still be cached)", res.Status)
	}
	clock.Add(int64(2 * time.Second))
	if res := th.Do(t, req); res.Continued || res.Status != 401 {
		t.Fatalf("after the TTL: continued %v, status %d; want 401", res.Continued, res.Status)
	}
	if got := ep.calls.Load(); got != 2 {
		t.Fatalf("%d calls, want 2 (one per TTL)", got)
	}
}

// TestPluginForgetsAnIntrospectedRequestWhoseClientLeft: a request that goes
// away while it waits for its answer is skipped, and the answer is cached
// for the next one.
func TestPluginForgetsAnIntrospectedRequestWhoseClientLeft(t *testing.T) {
	ep := newIntrospectionEndpoint(t)
	ep.set("good-token", nil)
	ep.hold = make(chan struct{})
	th := testhost.New(t, introspectionConfig(`, "timeout_ms": 5000`), testhost.WithHostOption(host.WithUpstream("op", ep.srv.URL)))
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	s, err := th.Plugin().NewStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.RequestHeaders([][2]string{{":method", "GET"}, {":path", "/"}, {":authority", "a"}, {"authorization", "Bearer good-token"}}, true); err == nil {
		t.Fatal("the stream did not wait for the introspection call")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	close(ep.hold)
	deadline := time.Now().Add(5 * time.Second)
	for {
		res := th.Do(t, testhost.Request{Headers: [][2]string{{"authorization", "Bearer good-token"}}})
		if res.Continued {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the answer of a call whose request left was not used: %d\n%s", res.Status, strings.Join(res.Logs, "\n"))
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got := ep.calls.Load(); got > 2 {
		t.Errorf("%d calls", got)
	}
}

// TestPluginIntrospectionCachedCost: a request whose token's answer is
// cached costs what a cached JWT costs inside the module: no allocation,
// and four host calls (read the headers, read the clock, remove the token,
// set x-client).
func TestPluginIntrospectionCachedCost(t *testing.T) {
	ep := newIntrospectionEndpoint(t)
	ep.set("good-token", nil)
	th := testhost.New(t, `{"test_hooks": {"stats_path": "`+statsPath+`"}, "config": `+introspectionConfig(`, "cache_ttl_seconds": 3600`)+`}`,
		testhost.WithWasm(testhost.TestHooksWasm(t)), testhost.WithHostOption(host.WithUpstream("op", ep.srv.URL)))
	req := testhost.Request{Headers: [][2]string{{"authorization", "Bearer good-token"}}}
	for range metrics.FlushEvery { // the first asks; the rest fill the buffers the request path reuses
		th.Do(t, req)
	}
	const n = 2 * metrics.FlushEvery
	mallocs, calls := cost(t, th, req, n)
	t.Logf("%d requests with a cached introspection answer: %d allocations, %d host calls", n, mallocs, calls)
	if mallocs != 0 {
		t.Errorf("%d requests allocated %d times, want 0", n, mallocs)
	}
	// Each flush adds the three counters that moved: allowed, the
	// provider's allowed and cache hits.
	if want := uint64(n*4 + n/metrics.FlushEvery*3); calls != want {
		t.Errorf("%d requests made %d host calls, want %d", n, calls, want)
	}
	if got := ep.calls.Load(); got != 1 {
		t.Errorf("%d introspection calls, want 1", got)
	}
}
