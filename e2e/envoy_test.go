package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tokengate/tokengate/build/envoy"
	"github.com/tokengate/tokengate/internal/envoytest"
	"github.com/tokengate/tokengate/internal/issuer"
	"github.com/tokengate/tokengate/internal/wasmbuild"
)

// upstream answers 200 with what it received, so tests can see what the
// filter let through and what it removed.
func upstream(t *testing.T) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("content-type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"path":          r.URL.RequestURI(),
			"authorization": strings.Join(r.Header.Values("Authorization"), ","),
			"x-user":        strings.Join(r.Header.Values("X-User"), ","), // every value: a forged one left behind shows
		})
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

type proxy struct {
	env  *envoytest.Envoy
	base string
}

// startEnvoy runs Envoy with the plugin and cfg in front of up.
func startEnvoy(t *testing.T, cfg string, up *httptest.Server, env map[string]string) *proxy {
	t.Helper()
	return startEnvoyWith(t, envoy.Bootstrap{PluginConfig: cfg, Env: env}, up)
}

// startEnvoyWith runs Envoy with the bootstrap b (ports and module filled
// in) in front of up.
func startEnvoyWith(t *testing.T, b envoy.Bootstrap, up *httptest.Server) *proxy {
	t.Helper()
	envoytest.Binary(t) // skip or fail before building anything
	admin, listen := envoytest.FreePort(t), envoytest.FreePort(t)
	var upPort int
	if _, err := fmt.Sscanf(up.URL, "http://127.0.0.1:%d", &upPort); err != nil {
		t.Fatalf("upstream URL %s: %v", up.URL, err)
	}
	b.AdminPort, b.ListenPort, b.UpstreamPort = admin, listen, upPort
	if b.WasmPath == "" {
		b.WasmPath = wasmbuild.Path(t)
	}
	yaml, err := envoy.Render(b)
	if err != nil {
		t.Fatal(err)
	}
	e := envoytest.Start(t, yaml, admin)
	p := &proxy{env: e, base: fmt.Sprintf("http://127.0.0.1:%d", listen)}
	p.waitListener(t)
	return p
}

func (p *proxy) waitListener(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(p.base + "/healthz")
		if err == nil {
			resp.Body.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("envoy's listener did not accept connections within 20s")
}

type result struct {
	status int
	header http.Header
	body   string
}

func (p *proxy) get(t testing.TB, client *http.Client, path, authorization string, headers ...[2]string) result {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, p.base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	for _, h := range headers {
		req.Header.Add(h[0], h[1])
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return result{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

// batchPassphrase opens /batch for jobs that have no token.
const batchPassphrase = "correct horse battery staple"

func pluginConfig(t *testing.T, iss *issuer.Issuer) string {
	t.Helper()
	return `{
  "realm": "models",
  "providers": {
    "corp": {"issuer": "` + iss.URL + `", "audiences": ["api://scoring"], "jwks": ` + string(iss.JWKS()) + `,
      "claim_to_headers": [{"claim": "sub", "header": "x-user"}]},
    "batch": {"type": "passphrase", "passphrase": "` + batchPassphrase + `"}
  },
  "rules": [
    {"match": {"prefix": "/healthz"}},
    {"match": {"prefix": "/admin"}, "requires": {"providers": ["corp"], "scopes": ["admin"]}},
    {"match": {"prefix": "/batch"}, "requires": {"providers": ["batch", "corp"]}},
    {"match": {"prefix": "/"}, "requires": {"providers": ["corp"]}}
  ]
}`
}

func TestEnvoyVerifiesBearerTokens(t *testing.T) {
	iss, other := bearerIssuers(t)
	up, hits := upstream(t)
	p := startEnvoy(t, pluginConfig(t, iss), up, nil)
	runBearerCases(t, p, hits, bearerCases(t, iss, other))
}

// bearerIssuers returns the issuer of the bearer cases and another with the
// same URL whose keys Envoy does not know.
func bearerIssuers(t *testing.T) (iss, other *issuer.Issuer) {
	t.Helper()
	iss, err := issuer.New("https://idp.test/realms/ml", issuer.RS256, issuer.ES256)
	if err != nil {
		t.Fatal(err)
	}
	other, err = issuer.New("https://idp.test/realms/ml", issuer.RS256)
	if err != nil {
		t.Fatal(err)
	}
	return iss, other
}

// bearerCase is one request through a filter configured with pluginConfig
// and what must come back.
type bearerCase struct {
	name          string
	path          string
	authorization string
	forgedUser    bool // the client also sends its own X-User, which must not arrive
	status        int
	wwwAuth       string // expected WWW-Authenticate prefix; "" = header must be absent
	valid         string // the token whose text must never be echoed
}

// bearerCases is the request table every form of the filter (the Wasm
// module, the native module) must answer alike.
func bearerCases(t *testing.T, iss, other *issuer.Issuer) []bearerCase {
	t.Helper()
	mint := func(mi *issuer.Issuer, claims issuer.Claims, opts ...issuer.MintOption) string {
		t.Helper()
		tok, err := mi.Mint(claims, opts...)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	aud := issuer.Claims{"sub": "alice", "aud": "api://scoring"}
	valid := mint(iss, aud)
	tampered := valid[:len(valid)-4] + "AAAA"
	if tampered == valid {
		tampered = valid[:len(valid)-4] + "BBBB"
	}
	cases := []bearerCase{
		{name: "a valid RS256 token reaches the upstream", path: "/v1/score", authorization: "Bearer " + valid, status: 200},
		{name: "a valid ES256 token reaches the upstream", path: "/v1/score", authorization: "Bearer " + mint(iss, aud, issuer.WithKey("ES256-1")), status: 200},
		{name: "the scheme is case-insensitive", path: "/v1/score", authorization: "bearer " + valid, status: 200},
		{name: "a public route needs no token", path: "/healthz", status: 200},
		{name: "no token gets 401 without an error code", path: "/v1/score", status: 401, wwwAuth: `Bearer realm="models"`},
		{name: "a bad signature gets 401 invalid_token", path: "/v1/score", authorization: "Bearer " + tampered, status: 401, wwwAuth: `Bearer realm="models", error="invalid_token"`},
		{name: "an expired token gets 401 invalid_token", path: "/v1/score", authorization: "Bearer " + mint(iss, aud, issuer.WithTTL(-time.Hour)), status: 401, wwwAuth: `Bearer realm="models", error="invalid_token"`},
		{name: "a token for another audience gets 401 invalid_token", path: "/v1/score", authorization: "Bearer " + mint(iss, issuer.Claims{"aud": "api://other"}), status: 401, wwwAuth: `Bearer realm="models", error="invalid_token"`},
		{name: "a key the issuer never published gets 401 invalid_token", path: "/v1/score", authorization: "Bearer " + mint(other, aud, issuer.WithKey("RS256-1"), issuer.WithHeader("kid", "rotated-away")), status: 401, wwwAuth: `Bearer realm="models", error="invalid_token"`},
		{name: "a malformed header gets invalid_request", path: "/v1/score", authorization: "Basic dXNlcjpwYXNz", status: 0, wwwAuth: `Bearer realm="models"`},
		{name: "a missing scope gets 403 insufficient_scope", path: "/admin/users", authorization: "Bearer " + valid, status: 403, wwwAuth: `Bearer realm="models", error="insufficient_scope", scope="admin"`},
		{name: "the required scope reaches the upstream", path: "/admin/users", authorization: "Bearer " + mint(iss, issuer.Claims{"sub": "alice", "aud": "api://scoring", "scope": "read admin"}), status: 200},
		{name: "the passphrase reaches the upstream", path: "/batch/run", authorization: "Bearer " + batchPassphrase, status: 200},
		{name: "a token also opens the passphrase route", path: "/batch/run", authorization: "Bearer " + valid, status: 200},
		{name: "a wrong passphrase gets 401", path: "/batch/run", authorization: "Bearer not the passphrase", status: 401, wwwAuth: `Bearer realm="models", error="invalid_token"`},
		{name: "a forged claim header is replaced by the verified one", path: "/v1/score", authorization: "Bearer " + valid, forgedUser: true, status: 200},
		{name: "a forged claim header is removed on a public route", path: "/healthz", forgedUser: true, status: 200},
		{name: "a path that is not in canonical form gets 400", path: "/healthz/../admin/users", authorization: "Bearer " + valid, status: 400, wwwAuth: `Bearer realm="models", error="invalid_request"`},
	}
	for i := range cases {
		cases[i].valid = valid
	}
	return cases
}

// runBearerCases sends each case to p and checks the answer and what reached
// the upstream (hits counts its requests).
func runBearerCases(t *testing.T, p *proxy, hits *atomic.Int64, cases []bearerCase) {
	t.Helper()
	client := &http.Client{Timeout: 10 * time.Second}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			before := hits.Load()
			var extra [][2]string
			if tt.forgedUser {
				// Twice: replacing the first value must not leave the second.
				extra = append(extra, [2]string{"X-User", "mallory"}, [2]string{"X-User", "mallory-again"})
			}
			r := p.get(t, client, tt.path, tt.authorization, extra...)
			if tt.status != 0 && r.status != tt.status {
				t.Fatalf("status = %d, want %d; body %s", r.status, tt.status, r.body)
			}
			if tt.status == 0 && r.status != 400 && r.status != 401 {
				t.Fatalf("status = %d, want 400 or 401; body %s", r.status, r.body)
			}
			got := r.header.Get("WWW-Authenticate")
			switch {
			case tt.wwwAuth == "" && got != "":
				t.Fatalf("WWW-Authenticate = %q, want none", got)
			case !strings.HasPrefix(got, tt.wwwAuth):
				t.Fatalf("WWW-Authenticate = %q, want prefix %q", got, tt.wwwAuth)
			}
			reached := hits.Load() > before
			if reached != (r.status == 200) {
				t.Fatalf("upstream reached = %v with status %d", reached, r.status)
			}
			if r.status == 200 && (strings.Contains(r.body, "Bearer") || strings.Contains(r.body, batchPassphrase)) {
				t.Fatalf("the credential reached the upstream: %s", r.body)
			}
			if r.status == 200 && strings.Contains(tt.authorization, ".") && !strings.Contains(r.body, `"x-user":"alice"`) {
				t.Fatalf("the verified subject did not reach the upstream: %s", r.body)
			}
			if strings.Contains(r.body, "mallory") {
				t.Fatalf("the forged X-User reached the upstream: %s", r.body)
			}
			if strings.Contains(r.body, tt.valid) || strings.Contains(got, tt.valid) {
				t.Fatal("the response echoes the token")
			}
		})
	}
}

// TestEnvoyStaysHealthyUnderLoad sends 5,000 requests with varied tokens
// through Envoy with a small GOGC, so the Go runtime inside V8 collects
// garbage many times; afterwards every answer must have been the expected
// one, Envoy must still serve, and its log must hold no Wasm error.
func TestEnvoyStaysHealthyUnderLoad(t *testing.T) {
	iss, err := issuer.New("https://idp.test/realms/ml", issuer.RS256, issuer.ES256)
	if err != nil {
		t.Fatal(err)
	}
	up, _ := upstream(t)
	p := startEnvoy(t, pluginConfig(t, iss), up, map[string]string{"GOGC": "25"})

	var pool []call
	for i := range 40 {
		claims := issuer.Claims{"sub": fmt.Sprintf("user-%d", i), "aud": "api://scoring"}
		kid := "RS256-1"
		if i%4 == 0 {
			kid = "ES256-1"
		}
		tok, err := iss.Mint(claims, issuer.WithKey(kid))
		if err != nil {
			t.Fatal(err)
		}
		pool = append(pool, call{"Bearer " + tok, 200})
		if i%5 == 0 {
			pool = append(pool, call{"Bearer " + tok[:len(tok)-6] + "AAAAAA", 401})
		}
		if i%7 == 0 {
			exp, err := iss.Mint(claims, issuer.WithTTL(-time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			pool = append(pool, call{"Bearer " + exp, 401})
		}
	}
	pool = append(pool, call{"", 401}, call{"Bearer not.a.jwt", 401})

	const total, workers = 5000, 8
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: workers}}
	elapsed := p.load(t, client, pool, total, workers)
	t.Logf("%d requests in %v (%.0f req/s) with %d workers", total, elapsed.Round(time.Millisecond), float64(total)/elapsed.Seconds(), workers)
	if !p.env.Running() {
		t.Fatal("envoy exited")
	}
	if r := p.get(t, client, "/healthz", ""); r.status != 200 {
		t.Fatalf("after the load /healthz = %d", r.status)
	}
	if bad := p.env.WasmErrors(); len(bad) > 0 {
		t.Fatalf("envoy logged %d Wasm errors, first: %s", len(bad), bad[0])
	}
	// The plugin batches its counters and hands them to Envoy on a tick
	// (plugin/internal/metrics: every second, and every 64 decisions).
	time.Sleep(2 * time.Second)
	stats := p.env.Stats(t, "tokengate")
	var allowed, denied int64
	for name, v := range stats {
		switch {
		case strings.HasSuffix(name, "tokengate.requests.allowed"):
			allowed += v
		case strings.HasSuffix(name, "tokengate.requests.denied"):
			denied += v
		}
	}
	t.Logf("plugin counters: allowed=%d denied=%d", allowed, denied)
	if allowed+denied < total {
		t.Fatalf("plugin counters account for %d requests, want at least %d (stats: %v)", allowed+denied, total, stats)
	}
}

// call is one request of a load run: its Authorization header ("" for
// none) and the status it must get.
type call struct {
	auth   string
	status int
}

// load sends total GET /v1/score requests from workers concurrent clients,
// cycling through pool, fails the test on any answer other than the one each
// call expects, and returns how long the run took.
func (p *proxy) load(t *testing.T, client *http.Client, pool []call, total, workers int) time.Duration {
	t.Helper()
	var (
		next, wrong atomic.Int64
		wg          sync.WaitGroup
		first       sync.Once
		msg         string
	)
	start := time.Now()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := next.Add(1) - 1; i < int64(total); i = next.Add(1) - 1 {
				c := pool[int(i)%len(pool)]
				req, _ := http.NewRequest(http.MethodGet, p.base+"/v1/score", nil)
				if c.auth != "" {
					req.Header.Set("Authorization", c.auth)
				}
				resp, err := client.Do(req)
				if err != nil {
					wrong.Add(1)
					first.Do(func() { msg = err.Error() })
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != c.status {
					wrong.Add(1)
					first.Do(func() { msg = fmt.Sprintf("status %d, want %d", resp.StatusCode, c.status) })
				}
			}
		}()
	}
	wg.Wait()
	if n := wrong.Load(); n != 0 {
		t.Fatalf("%d of %d requests got an unexpected answer; first: %s", n, total, msg)
	}
	return time.Since(start)
}
