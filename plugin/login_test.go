//go:build !wasip1

package main

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tokengate/tokengate/host"
	"github.com/tokengate/tokengate/internal/issuer"
	"github.com/tokengate/tokengate/plugin/internal/metrics"
	"github.com/tokengate/tokengate/testhost"
)

// The sign-in flow through the real module: the redirect to the provider,
// the callback paused while the module calls the token endpoint (here a
// fake provider behind the host's "idp" upstream), the session cookie,
// its use, its refresh and the logout; and the refusals of tampered,
// expired and replayed cookies, a wrong state and a replayed code.

const (
	loginClient = "mlflow-ui"
	loginSecret = "s3cret"
)

func loginPluginConfig(idp *issuer.Issuer, extra string) string {
	return `{"realm": "mlflow",
  "providers": {"corp": {"issuer": "` + iss + `", "audiences": ["` + aud + `"], "jwks": ` + string(idp.JWKS()) + `,
    "claim_to_headers": [{"claim": "sub", "header": "x-user"}],
    "login": {"client_id": "` + loginClient + `", "client_secret": "` + loginSecret + `", "cluster": "idp",
      "redirect_uri": "https://example.test/oauth2/callback",
      "authorization_endpoint": "` + iss + `/protocol/openid-connect/auth",
      "token_endpoint": "` + iss + `/protocol/openid-connect/token",
      "end_session_endpoint": "` + iss + `/protocol/openid-connect/logout",
      "logout_path": "/oauth2/logout", "refresh_before_seconds": 30` + extra + `,
      "cookie_keys": [{"id": "k1", "key": "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE="}]}}},
  "rules": [{"match": {"prefix": "/health"}}, {"match": {"prefix": "/"}, "requires": {"providers": ["corp"]}}]}`
}

// fakeProvider is a token endpoint: it issues tokens for the codes it
// handed out (each once) and refresh tokens it issued.
type fakeProvider struct {
	t       *testing.T
	idp     *issuer.Issuer
	ttl     time.Duration
	calls   atomic.Int32
	mu      sync.Mutex
	nonces  map[string]string // code → the nonce of its sign-in
	refresh map[string]bool   // live refresh tokens
	n       int
	down    bool
}

func (f *fakeProvider) RoundTrip(r *http.Request) (*http.Response, error) {
	f.calls.Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return answer(502, "text/plain", []byte("bad gateway")), nil
	}
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte(loginClient+":"+loginSecret))
	if r.Method != "POST" || r.URL.Path != "/realms/ml/protocol/openid-connect/token" || r.Host != "idp.example.com" || r.Header.Get("Authorization") != want {
		f.t.Errorf("token request %s %s host %q authorization %q", r.Method, r.URL.Path, r.Host, r.Header.Get("Authorization"))
		return answer(400, "application/json", []byte(`{"error":"invalid_request"}`)), nil
	}
	if err := r.ParseForm(); err != nil {
		return nil, err
	}
	var nonce string
	switch r.PostForm.Get("grant_type") {
	case "authorization_code":
		n, ok := f.nonces[r.PostForm.Get("code")]
		if !ok || r.PostForm.Get("code_verifier") == "" {
			return answer(400, "application/json", []byte(`{"error":"invalid_grant","error_description":"Code not valid"}`)), nil
		}
		delete(f.nonces, r.PostForm.Get("code")) // a code is good once
		nonce = n
	case "refresh_token":
		if !f.refresh[r.PostForm.Get("refresh_token")] {
			return answer(400, "application/json", []byte(`{"error":"invalid_grant","error_description":"Session not active"}`)), nil
		}
	default:
		return answer(400, "application/json", []byte(`{"error":"unsupported_grant_type"}`)), nil
	}
	f.n++
	rt := "rt-" + string(rune('a'+f.n))
	f.refresh[rt] = true
	access, err := f.idp.Mint(issuer.Claims{"aud": aud, "sub": "alice", "scope": "openid"}, issuer.WithTTL(f.ttl))
	if err != nil {
		return nil, err
	}
	idc := issuer.Claims{"aud": loginClient, "azp": loginClient, "sub": "alice"}
	if nonce != "" {
		idc["nonce"] = nonce
	}
	id, err := f.idp.Mint(idc)
	if err != nil {
		return nil, err
	}
	body, _ := json.Marshal(map[string]any{"access_token": access, "token_type": "Bearer", "expires_in": int(f.ttl / time.Second),
		"refresh_token": rt, "id_token": id})
	return answer(200, "application/json", body), nil
}

// browser keeps cookies as a browser does, from the local responses.
type browser map[string]string

func (b browser) take(res testhost.Response) {
	for _, h := range res.ResponseHeaders {
		if h[0] != "set-cookie" {
			continue
		}
		pair, attrs, _ := strings.Cut(h[1], ";")
		name, value, _ := strings.Cut(pair, "=")
		if strings.Contains(attrs, "Max-Age=0") {
			delete(b, name)
		} else {
			b[name] = value
		}
	}
}

func (b browser) header() string {
	var pairs []string
	for k, v := range b {
		pairs = append(pairs, k+"="+v)
	}
	return strings.Join(pairs, "; ")
}

func (b browser) page(path string) testhost.Request {
	hs := [][2]string{{"accept", "text/html"}}
	if len(b) > 0 {
		hs = append(hs, [2]string{"cookie", b.header()})
	}
	return testhost.Request{Path: path, Headers: hs}
}

func (b browser) fetch(method, path string) testhost.Request {
	r := b.page(path)
	r.Method, r.Headers[0][1] = method, "application/json"
	return r
}

// startSignIn loads path as a page and returns the provider's query: the
// browser is on the provider's login page.
func startSignIn(t *testing.T, th *testhost.Host, b browser, path string) url.Values {
	t.Helper()
	res := th.Do(t, b.page(path))
	loc, err := url.Parse(res.Header("location"))
	if res.Status != 302 || err != nil || !strings.HasPrefix(res.Header("location"), iss+"/protocol/openid-connect/auth?") {
		t.Fatalf("page load without a session: %d %q; want the redirect to sign in\n%s", res.Status, res.Header("location"), strings.Join(res.Logs, "\n"))
	}
	b.take(res)
	return loc.Query()
}

func TestPluginSignsBrowsersIn(t *testing.T) { forEachEnvoy(t, testPluginSignsBrowsersIn) }

func testPluginSignsBrowsersIn(t *testing.T, opts ...testhost.Option) {
	idp := newIssuer(t)
	var clock atomic.Int64
	clock.Store(time.Now().UnixNano())
	now := func() time.Time { return time.Unix(0, clock.Load()) }
	fp := &fakeProvider{t: t, idp: idp, ttl: 2 * time.Minute, nonces: map[string]string{}, refresh: map[string]bool{}}
	th := testhost.New(t, loginPluginConfig(idp, ""), append(opts, testhost.WithClock(now),
		testhost.WithHostOption(host.WithUpstreamTransport("idp", "http://idp", fp)))...)

	b := browser{}
	q := startSignIn(t, th, b, "/ui/experiments?view=list")
	if q.Get("code_challenge_method") != "S256" || q.Get("client_id") != loginClient || len(q.Get("state")) < 43 {
		t.Fatalf("authorization request %v", q)
	}
	fp.mu.Lock()
	fp.nonces["code-1"] = q.Get("nonce") // the provider remembers the sign-in's nonce with its code
	fp.mu.Unlock()
	callback := "/oauth2/callback?code=code-1&state=" + q.Get("state")
	stateCookies := b.header()

	res := th.Do(t, b.page(callback))
	if res.Status != 302 || res.Header("location") != "/ui/experiments?view=list" {
		t.Fatalf("callback: %d %q %s\n%s", res.Status, res.Header("location"), res.Body, strings.Join(res.Logs, "\n"))
	}
	b.take(res)
	if b["__Host-tokengate"] == "" || b["__Host-tokengate-state"] != "" {
		t.Fatalf("cookies after the callback: %v", b)
	}

	t.Run("the session is a credential, and its cookies never go upstream", func(t *testing.T) {
		req := b.fetch("POST", "/ajax-api/2.0/mlflow/experiments/create")
		req.Headers[1][1] += "; theme=dark"
		res := th.Do(t, req)
		if !res.Continued {
			t.Fatalf("refused %d %s\n%s", res.Status, res.Body, strings.Join(res.Logs, "\n"))
		}
		if upstream(res, "x-user") != "alice" || upstream(res, "cookie") != "theme=dark" || upstream(res, "authorization") != "" {
			t.Fatalf("upstream headers %v", res.Headers)
		}
	})
	t.Run("a replayed callback is refused: its state cookie is gone", func(t *testing.T) {
		res := th.Do(t, b.page(callback))
		if res.Status != 400 || !strings.Contains(string(res.Body), "no sign-in started in this browser") {
			t.Fatalf("%d %s", res.Status, res.Body)
		}
	})
	t.Run("a replayed code is refused by the provider", func(t *testing.T) {
		res := th.Do(t, testhost.Request{Path: callback, Headers: [][2]string{{"accept", "text/html"}, {"cookie", stateCookies}}})
		if res.Status != 400 || !strings.Contains(string(res.Body), "refused the authorization code") {
			t.Fatalf("%d %s\n%s", res.Status, res.Body, strings.Join(res.Logs, "\n"))
		}
	})
	t.Run("a wrong state is refused", func(t *testing.T) {
		other := browser{}
		q := startSignIn(t, th, other, "/")
		state := q.Get("state")
		wrong := "A" + state[1:]
		if state[0] == 'A' { // the state is random: change its first character whatever it is
			wrong = "B" + state[1:]
		}
		res := th.Do(t, other.page("/oauth2/callback?code=x&state="+wrong))
		if res.Status != 400 || !strings.Contains(string(res.Body), "no sign-in started in this browser") {
			t.Fatalf("%d %s", res.Status, res.Body)
		}
	})
	t.Run("a tampered session cookie is refused and cleared", func(t *testing.T) {
		bad := browser{"__Host-tokengate": strings.Replace(b["__Host-tokengate"], ".v1.k1.", ".v1.k1.x", 1)}
		res := th.Do(t, bad.fetch("GET", "/api/2.0/mlflow/experiments/search"))
		bad.take(res)
		if res.Status != 401 || !strings.Contains(string(res.Body), "session cookie is not valid") || len(bad) != 0 {
			t.Fatalf("%d %s, cookies left %v", res.Status, res.Body, bad)
		}
	})

	t.Run("a session due for a refresh is refreshed and the request repeated", func(t *testing.T) {
		clock.Add(int64(100 * time.Second)) // 120 s tokens, refreshed 30 s ahead
		before := fp.calls.Load()
		res := th.Do(t, b.fetch("POST", "/ajax-api/2.0/mlflow/runs/search?max=5"))
		if res.Status != 307 || res.Header("location") != "/ajax-api/2.0/mlflow/runs/search?max=5" || fp.calls.Load() != before+1 {
			t.Fatalf("%d %q, %d calls\n%s", res.Status, res.Header("location"), fp.calls.Load()-before, strings.Join(res.Logs, "\n"))
		}
		old := b["__Host-tokengate"]
		b.take(res)
		if b["__Host-tokengate"] == old {
			t.Fatal("no new session cookie")
		}
		if res := th.Do(t, b.fetch("POST", "/ajax-api/2.0/mlflow/runs/search?max=5")); !res.Continued {
			t.Fatalf("the repeated request: %d %s", res.Status, res.Body)
		}
	})
	t.Run("the token endpoint down: 503, the session kept", func(t *testing.T) {
		clock.Add(int64(100 * time.Second))
		fp.mu.Lock()
		fp.down = true
		fp.mu.Unlock()
		res := th.Do(t, b.fetch("GET", "/x"))
		fp.mu.Lock()
		fp.down = false
		fp.mu.Unlock()
		if res.Status != 503 || res.Header("retry-after") == "" || res.Header("set-cookie") != "" {
			t.Fatalf("%d %s %v", res.Status, res.Body, res.ResponseHeaders)
		}
	})
	t.Run("a refresh token the provider ended sends a page load to sign in", func(t *testing.T) {
		fp.mu.Lock()
		clear(fp.refresh)
		fp.mu.Unlock()
		res := th.Do(t, b.page("/ui/"))
		if res.Status != 302 || !strings.HasPrefix(res.Header("location"), iss+"/protocol/openid-connect/auth?") {
			t.Fatalf("%d %q", res.Status, res.Header("location"))
		}
		ended := browser{"__Host-tokengate": b["__Host-tokengate"]}
		ended.take(res)
		if ended["__Host-tokengate"] != "" {
			t.Fatal("the ended session's cookie is not cleared")
		}
	})
	t.Run("an expired session is refused", func(t *testing.T) {
		clock.Add(int64(9 * time.Hour))
		res := th.Do(t, b.fetch("GET", "/x"))
		if res.Status != 401 || !strings.Contains(string(res.Body), "session has expired") {
			t.Fatalf("%d %s", res.Status, res.Body)
		}
	})
	t.Run("logout clears the cookies and goes to the provider", func(t *testing.T) {
		res := th.Do(t, b.page("/oauth2/logout"))
		b.take(res)
		if res.Status != 302 || !strings.HasPrefix(res.Header("location"), iss+"/protocol/openid-connect/logout?client_id=") || len(b) != 0 {
			t.Fatalf("%d %q, cookies left %v", res.Status, res.Header("location"), b)
		}
	})
}

// TestPluginSignInWithoutTheUpstream: a configuration whose token
// endpoint upstream the host lacks answers the callback with 503 at once.
func TestPluginSignInWithoutTheUpstream(t *testing.T) {
	idp := newIssuer(t)
	th := testhost.New(t, loginPluginConfig(idp, ""))
	b := browser{}
	q := startSignIn(t, th, b, "/")
	res := th.Do(t, b.page("/oauth2/callback?code=c&state="+q.Get("state")))
	if res.Status != 503 || !strings.Contains(strings.Join(res.Logs, "\n"), "is there an upstream (Envoy cluster) of that name?") {
		t.Fatalf("%d %s\n%s", res.Status, res.Body, strings.Join(res.Logs, "\n"))
	}
}

// TestSignInKeepsTheBearerPathCost: a configuration with sign-in costs a
// bearer-token request nothing more inside the module: a cached token still
// allocates nothing and makes the same four host calls, a public route the
// same three.
func TestSignInKeepsTheBearerPathCost(t *testing.T) {
	idp := newIssuer(t)
	valid := [][2]string{{"authorization", "Bearer " + token(t, idp, nil, issuer.WithTTL(time.Hour))}}
	const n = 2 * metrics.FlushEvery
	tests := []struct {
		name          string
		req           testhost.Request
		callsPerReq   uint64
		countersMoved uint64
	}{
		{"a cached token", testhost.Request{Method: "GET", Path: "/v1/score", Headers: valid}, 4, 3},
		{"a public route", testhost.Request{Method: "GET", Path: "/health"}, 3, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			th := testhost.New(t, `{"test_hooks": {"stats_path": "`+statsPath+`"}, "config": `+loginPluginConfig(idp, "")+`}`,
				testhost.WithWasm(testhost.TestHooksWasm(t)))
			for range metrics.FlushEvery {
				th.Do(t, tt.req)
			}
			mallocs, calls := cost(t, th, tt.req, n)
			t.Logf("%d requests: %d allocations, %d host calls", n, mallocs, calls)
			if mallocs != 0 {
				t.Errorf("%d requests allocated %d times, want 0", n, mallocs)
			}
			flushes := uint64(n / metrics.FlushEvery)
			if want := n*tt.callsPerReq + flushes*tt.countersMoved; calls != want {
				t.Errorf("%d requests made %d host calls, want %d", n, calls, want)
			}
		})
	}
}

// BenchmarkSignInBearer is BenchmarkPlugin's cached request with sign-in
// configured: a Bearer token's warm path through the real module, to
// compare with BenchmarkPlugin/cached.
func BenchmarkSignInBearer(b *testing.B) {
	idp := newIssuer(b)
	th := testhost.New(b, loginPluginConfig(idp, ""))
	req := testhost.Request{Method: "GET", Path: "/v1/score", Headers: [][2]string{{"authorization", "Bearer " + token(b, idp, nil, issuer.WithTTL(time.Hour))}}}
	for b.Loop() {
		if res := th.Do(b, req); !res.Continued {
			b.Fatalf("refused: %d %s", res.Status, res.Body)
		}
	}
}
