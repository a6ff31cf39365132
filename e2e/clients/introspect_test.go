package clients

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokengate/tokengate/build/envoy"
	"github.com/tokengate/tokengate/e2e/internal/mlflowtest"
	"github.com/tokengate/tokengate/internal/envoytest"
	"github.com/tokengate/tokengate/internal/wasmbuild"
)

// The introspection tests: the npm oidc-provider issues opaque access
// tokens to opaque-cc (no resource indicator), tokengate asks its
// introspection endpoint about each one as the client "tokengate", and
// the provider's revocation endpoint makes a token inactive. The same
// plugin configuration runs in Envoy 1.40 (the provider reached through an
// Envoy cluster over TLS) and in tokengate-proxy (a named upstream).

// introspectionTTL is the cache TTL of the tests: short, so that a revoked
// token is refused within the test.
const introspectionTTL = 2 * time.Second

// introspectionConfig is the plugin configuration: "op" asks the provider
// through the upstream "op"; "down" asks through the upstream "down", where
// nothing listens.
func introspectionConfig(issuer string) string {
	return `{"realm": "models",
	  "providers": {
	    "op": {"type": "introspection", "issuer": "` + issuer + `",
	      "claim_to_headers": [{"claim": "client_id", "header": "x-client"}],
	      "introspection": {"cluster": "op", "path": "/token/introspection", "client_id": "tokengate", "client_secret": "tokengate-secret",
	        "timeout_ms": 2000, "cache_ttl_seconds": ` + fmt.Sprint(introspectionTTL.Seconds()) + `}},
	    "down": {"type": "introspection", "issuer": "` + issuer + `",
	      "introspection": {"cluster": "down", "path": "/token/introspection", "client_id": "tokengate", "client_secret": "tokengate-secret", "timeout_ms": 1000}}},
	  "rules": [
	    {"match": {"prefix": "/healthz"}},
	    {"match": {"prefix": "/down"}, "requires": {"providers": ["down"]}},
	    {"match": {"prefix": "/model/score"}, "requires": {"providers": ["op"], "scopes": ["score"]}},
	    {"match": {"prefix": "/"}, "requires": {"providers": ["op"]}}]}`
}

// echoUpstream answers every request with the headers it received, as JSON.
func echoUpstream(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := map[string]string{"path": r.URL.RequestURI()}
		for k, v := range r.Header {
			h[strings.ToLower(k)] = strings.Join(v, ",")
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(h)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// opaqueToken gets an opaque access token from opaque-cc's client
// credentials grant (scope "" asks for none).
func (p *provider) opaqueToken(t *testing.T, scope string) string {
	t.Helper()
	token := p.grant(t, "opaque-cc", "opaque-secret", "scope="+scope)
	if strings.Count(token, ".") == 2 {
		t.Fatalf("opaque-cc got a JWT; op.mjs must issue it opaque tokens")
	}
	return token
}

// revoke revokes token at the provider's revocation endpoint (RFC 7009).
func (p *provider) revoke(t *testing.T, token string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, p.Issuer+"/token/revocation", strings.NewReader("token="+token+"&token_type_hint=access_token"))
	req.SetBasicAuth("opaque-cc", "opaque-secret")
	req.Header.Set("content-type", "application/x-www-form-urlencoded")
	resp, err := p.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("revoking: HTTP %d", resp.StatusCode)
	}
}

func (p *provider) port(t *testing.T) int {
	t.Helper()
	var n int
	if _, err := fmt.Sscanf(p.Issuer, "https://127.0.0.1:%d", &n); err != nil {
		t.Fatalf("issuer %s: %v", p.Issuer, err)
	}
	return n
}

// gateReply is what a request through tokengate got.
type gateReply struct {
	status   int
	wwwAuth  string
	retry    string
	upstream map[string]string // the headers the upstream saw, when it answered
	elapsed  time.Duration
}

var keepAlive = &http.Client{Timeout: 15 * time.Second}

func through(t *testing.T, url, token string) gateReply {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("X-Client", "forged")
	start := time.Now()
	resp, err := keepAlive.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	r := gateReply{status: resp.StatusCode, wwwAuth: resp.Header.Get("WWW-Authenticate"), retry: resp.Header.Get("Retry-After"), elapsed: time.Since(start)}
	if resp.StatusCode == 200 {
		if err := json.Unmarshal(b, &r.upstream); err != nil {
			t.Fatalf("the upstream's answer %q: %v", b, err)
		}
	}
	return r
}

// introspectionCases runs the behaviour both proxies must show, on base.
func introspectionCases(t *testing.T, op *provider, base string) {
	t.Run("a client-credentials token is accepted through introspection", func(t *testing.T) {
		tok := op.opaqueToken(t, "score")
		r := through(t, base+"/model/score?a=1", tok)
		if r.status != 200 {
			t.Fatalf("status %d %s", r.status, r.wwwAuth)
		}
		if r.upstream["authorization"] != "" || r.upstream["x-client"] != "opaque-cc" || r.upstream["path"] != "/model/score?a=1" {
			t.Fatalf("the upstream saw %v: the token must be removed and x-client be the answer's client_id", r.upstream)
		}
	})
	t.Run("a token without the scope is 403", func(t *testing.T) {
		r := through(t, base+"/model/score", op.opaqueToken(t, ""))
		if r.status != 403 || !strings.Contains(r.wwwAuth, `error="insufficient_scope", scope="score"`) {
			t.Fatalf("status %d %q", r.status, r.wwwAuth)
		}
	})
	t.Run("a made-up token is inactive: 401", func(t *testing.T) {
		r := through(t, base+"/", "Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA")
		if r.status != 401 || !strings.Contains(r.wwwAuth, `error="invalid_token", error_description="token is not active"`) {
			t.Fatalf("status %d %q", r.status, r.wwwAuth)
		}
	})
	t.Run("a token revoked at the provider is refused after the cache TTL", func(t *testing.T) {
		tok := op.opaqueToken(t, "score")
		if r := through(t, base+"/", tok); r.status != 200 {
			t.Fatalf("before the revocation: %d %s", r.status, r.wwwAuth)
		}
		revoked := time.Now()
		op.revoke(t, tok)
		// Within the TTL the cached answer holds: the revocation is not seen
		// before the answer is older than cache_ttl_seconds.
		if r := through(t, base+"/", tok); r.status != 200 && time.Since(revoked) < introspectionTTL/2 {
			t.Fatalf("right after the revocation: %d (the answer should still be cached)", r.status)
		}
		var r gateReply
		for time.Since(revoked) < 3*introspectionTTL {
			if r = through(t, base+"/", tok); r.status == 401 {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if r.status != 401 || !strings.Contains(r.wwwAuth, "token is not active") {
			t.Fatalf("%v after the revocation: %d %q; want 401 once the TTL (%v) passed", time.Since(revoked), r.status, r.wwwAuth, introspectionTTL)
		}
		if waited := time.Since(revoked); waited < introspectionTTL-time.Second {
			t.Errorf("refused %v after the revocation, before the TTL could pass", waited)
		}
	})
	t.Run("the introspection endpoint down is 503, not 401", func(t *testing.T) {
		for range 2 {
			r := through(t, base+"/down", op.opaqueToken(t, "score"))
			if r.status != 503 || r.retry == "" || r.wwwAuth != "" {
				t.Fatalf("status %d, Retry-After %q, WWW-Authenticate %q; want 503 with Retry-After", r.status, r.retry, r.wwwAuth)
			}
		}
	})
}

// startEnvoyCalling runs Envoy with the plugin and cfg in front of the
// upstream port, and the clusters the plugin's calls name; it returns
// Envoy's base URL.
func startEnvoyCalling(t *testing.T, cfg string, upstreamPort int, clusters ...envoy.Cluster) (string, *envoytest.Envoy) {
	t.Helper()
	admin, listen := envoytest.FreePort(t), envoytest.FreePort(t)
	yaml, err := envoy.Render(envoy.Bootstrap{AdminPort: admin, ListenPort: listen, UpstreamPort: upstreamPort,
		WasmPath: wasmbuild.Path(t), PluginConfig: cfg, Clusters: clusters})
	if err != nil {
		t.Fatal(err)
	}
	e := envoytest.Start(t, yaml, admin, envoytest.Options{Concurrency: 1})
	return fmt.Sprintf("http://127.0.0.1:%d", listen), e
}

// TestOpaqueTokensThroughIntrospectionInEnvoy runs Envoy 1.40 with the
// plugin; the provider is the Envoy cluster "op", over TLS, its certificate
// checked against the provider's own.
func TestOpaqueTokensThroughIntrospectionInEnvoy(t *testing.T) {
	envoytest.Binary(t)
	op := startProvider(t, "api://scoring")
	up := echoUpstream(t)
	base, e := startEnvoyCalling(t, introspectionConfig(op.Issuer), port(t, up.URL),
		envoy.Cluster{Name: "op", Port: op.port(t), CAFile: op.CAFile}, envoy.Cluster{Name: "down", Port: envoytest.FreePort(t)})
	waitHTTP(t, base+"/healthz", e)
	introspectionCases(t, op, base)
	if log := e.Log(); strings.Contains(log, "tokengate-secret") {
		t.Errorf("Envoy's log shows the client secret")
	}

	// The added latency: the first request with a token waits for the
	// introspection call; the next one is answered from the cache.
	const n = 40
	var first, cached []time.Duration
	for range n {
		tok := op.opaqueToken(t, "score")
		a, b := through(t, base+"/", tok), through(t, base+"/", tok)
		if a.status != 200 || b.status != 200 {
			t.Fatalf("statuses %d, %d", a.status, b.status)
		}
		first, cached = append(first, a.elapsed), append(cached, b.elapsed)
	}
	slices.Sort(first)
	slices.Sort(cached)
	t.Logf("Envoy, %d tokens: first (introspected) request median %v (p90 %v), cached %v (p90 %v)",
		n, first[n/2], first[n*9/10], cached[n/2], cached[n*9/10])
}

// TestOpaqueTokensThroughIntrospectionInTokengateProxy runs tokengate-proxy
// with the same plugin configuration; the provider is its named upstream
// "op" (--call-upstream), trusted through SSL_CERT_FILE.
func TestOpaqueTokensThroughIntrospectionInTokengateProxy(t *testing.T) {
	envoytest.Binary(t) // the same prerequisites as the Envoy tests
	op := startProvider(t, "api://scoring")
	up := echoUpstream(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "tokengate.json")
	if err := os.WriteFile(cfg, []byte(introspectionConfig(op.Issuer)), 0o600); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "tokengate-proxy")
	build := exec.Command("go", "build", "-o", bin, "./host/cmd/tokengate-proxy")
	build.Dir = moduleRoot(t)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building tokengate-proxy: %v\n%s", err, out)
	}
	listen, admin := freePort(t), freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "--plugin", wasmbuild.Path(t), "--config", cfg, "--upstream", up.URL,
		"--listen", fmt.Sprintf("127.0.0.1:%d", listen), "--admin-listen", fmt.Sprintf("127.0.0.1:%d", admin),
		"--call-upstream", fmt.Sprintf("op=https://127.0.0.1:%d", op.port(t)),
		"--call-upstream", fmt.Sprintf("down=http://127.0.0.1:%d", freePort(t)))
	cmd.Env = append(os.Environ(), "SSL_CERT_FILE="+op.CAFile)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	var logMu sync.Mutex
	var logs strings.Builder
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		s := bufio.NewScanner(stderr)
		for s.Scan() {
			logMu.Lock()
			logs.WriteString(s.Text() + "\n")
			logMu.Unlock()
		}
	}()
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
		<-done
		if t.Failed() {
			t.Logf("tokengate-proxy's log:\n%s", logs.String())
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/readyz", admin))
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("tokengate-proxy was not ready within 60s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	base := fmt.Sprintf("http://127.0.0.1:%d", listen)
	introspectionCases(t, op, base)
	logMu.Lock()
	defer logMu.Unlock()
	if strings.Contains(logs.String(), "tokengate-secret") {
		t.Errorf("tokengate-proxy's log shows the client secret")
	}
}

// TestMLflowOpaqueAccessTokenThroughIntrospection is docs/guide-mlflow.md's
// answer to the opaque access token of an interactive login: with an
// introspection provider for the same issuer beside the JWT providers,
// mlflow-oidc-client's opaque access token (use-id-token = false) is
// accepted, while the JWT providers still verify JWTs in the module.
func TestMLflowOpaqueAccessTokenThroughIntrospection(t *testing.T) {
	const resource, client = "api://mlflow", "mlflow-cli"
	python(t)
	server := startMLflow(t)
	op := startProvider(t, resource)
	tap := mlflowtest.NewTap(t, server.Port, "")
	tapPort := tap.Port
	cfg := `{"realm": "mlflow",
	  "providers": {
	    "access-token": {"issuer": "` + op.Issuer + `", "audiences": ["` + resource + `"], "token_types": ["at+jwt"], "fetch": ` + op.fetchSettings() + `},
	    "id-token": {"issuer": "` + op.Issuer + `", "audiences": ["` + client + `"], "fetch": ` + op.fetchSettings() + `},
	    "opaque": {"type": "introspection", "issuer": "` + op.Issuer + `",
	      "introspection": {"cluster": "idp", "path": "/token/introspection", "client_id": "tokengate", "client_secret": "tokengate-secret"}}},
	  "rules": [
	    {"match": {"path": "/health", "methods": ["GET"]}},
	    {"match": {"prefix": "/"}, "requires": {"providers": ["access-token", "id-token", "opaque"]}}]}`
	base, e := startEnvoyCalling(t, renderKeys(t, cfg), tapPort, envoy.Cluster{Name: "idp", Port: op.port(t), CAFile: op.CAFile})
	waitHTTP(t, base+"/health", e)
	server.Wait(t, 120*time.Second)

	dir, home := t.TempDir(), t.TempDir()
	browser := filepath.Join(t.TempDir(), "browser.sh")
	browserLog := browser + ".log"
	sh := fmt.Sprintf("#!/bin/sh\n%q %q \"$1\" >>%q 2>&1 &\n", python(t), script(t, "browser.py"), browserLog)
	if err := os.WriteFile(browser, []byte(sh), 0o755); err != nil {
		t.Fatal(err)
	}
	writePyproject(t, dir, oidcClientConf{URI: base, Issuer: op.Issuer, ClientID: client, Scope: "openid",
		RedirectURI: fmt.Sprintf("http://127.0.0.1:%d/oauth2/callback", freePort(t)), UseIDToken: false})
	env := append(op.pyEnv(), "HOME="+home, "MLFLOW_TRACKING_URI="+base, "MLFLOW_HTTP_REQUEST_MAX_RETRIES=0", "BROWSER="+browser)
	out, err := runPy(t, dir, env, "", "-m", "mlflow", "experiments", "search")
	if err != nil {
		b, _ := os.ReadFile(browserLog)
		t.Fatalf("%v\nbrowser: %s", err, b)
	}
	if !strings.Contains(out, "Default") {
		t.Fatalf("experiments search printed %q, want the Default experiment", out)
	}
	if access, _ := cachedTokens(t, home, client); strings.Count(access, ".") == 2 {
		t.Fatal("the interactive client's access token is a JWT; this test needs it opaque")
	}
	if n := tap.WithAuthorization.Load(); n != 0 {
		t.Errorf("%d requests reached the MLflow server with an Authorization header; tokengate removes the token", n)
	}
	if tap.API.Load() == 0 {
		t.Error("no API request reached the MLflow server")
	}
}
