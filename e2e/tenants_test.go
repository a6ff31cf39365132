package e2e

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tokengate/tokengate/e2e/internal/daemon"
	"github.com/tokengate/tokengate/internal/envoytest"
	"github.com/tokengate/tokengate/internal/issuer"
	"github.com/tokengate/tokengate/internal/tenantop"
	"github.com/tokengate/tokengate/internal/wasmbuild"
)

// The tenants of the test provider: A and B are allowed, C is served by
// the provider but not allowed by the configuration.
const tenantA, tenantB, tenantC = "tenant-a", "tenant-b", "tenant-c"

// multiTenantConfig is the plugin configuration of a multi-tenant provider
// at op whose keys jwksfetch finds by each tenant's discovery document.
func multiTenantConfig(op *tenantop.Provider, refresh string) string {
	return `{"realm": "models", ` + refresh + `
	  "providers": {"entra": {"issuer": "` + op.Template() + `", "tenants": ["` + tenantA + `", "` + tenantB + `"],
	    "audiences": ["api://scoring"], "claim_to_headers": [{"claim": "tid", "header": "x-tenant"}]}}}`
}

// tenantUpstream records the x-tenant header of what it receives.
type tenantUpstream struct {
	srv  *httptest.Server
	port int
	hits atomic.Int64
	seen atomic.Value
}

func newTenantUpstream(t *testing.T) *tenantUpstream {
	u := &tenantUpstream{}
	u.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.hits.Add(1)
		u.seen.Store(r.Header.Get("X-Tenant"))
		io.WriteString(w, "upstream")
	}))
	t.Cleanup(u.srv.Close)
	if _, err := fmt.Sscanf(u.srv.URL, "http://127.0.0.1:%d", &u.port); err != nil {
		t.Fatal(err)
	}
	return u
}

// tenantFront is a proxy with tokengate in front of the upstream, and how to
// read what it counted.
type tenantFront struct {
	base string
	// refreshCounts returns the tokengate.key_refresh counters by their
	// last name (paused, allowed, denied, timed_out, abandoned).
	refreshCounts func(t *testing.T) map[string]int64
	// pauses returns how the pause_ms histogram reads, or "" while it has
	// no sample.
	pauses func(t *testing.T) string
	// fetcherMetrics returns jwksfetch's Prometheus text.
	fetcherMetrics func(t *testing.T) string
}

// TestEnvoyMultiTenantProvider runs the deployment the docs describe for a
// multi-tenant provider: the jwksfetch daemon expands the issuer template
// for both allowed tenants, finds each tenant's keys by its own discovery
// document at the test provider, and pushes them over ECDS into Envoy 1.40,
// whose "jwksfetch" cluster is the daemon's refresh endpoint.
func TestEnvoyMultiTenantProvider(t *testing.T) {
	op := tenantop.Start(t, tenantA, tenantB, tenantC)
	f := daemon.StartFetcher(t, multiTenantConfig(op, `"refresh": {"cluster": "jwksfetch", "timeout_ms": 4000},`), daemon.FetcherOptions{})
	up := newTenantUpstream(t)
	e, base := f.StartEnvoy(t, up.port)
	runMultiTenant(t, op, up, &tenantFront{
		base: base,
		refreshCounts: func(t *testing.T) map[string]int64 {
			out := map[string]int64{}
			for name, v := range e.Stats(t, "key_refresh") {
				out[strings.TrimPrefix(name, "wasmcustom.tokengate.key_refresh.")] = v
			}
			return out
		},
		pauses: func(t *testing.T) string {
			// Samples show once Envoy merges them, on its stats flush
			// (every 5 s by default).
			text, err := e.Admin("/stats?filter=key_refresh.pause_ms")
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(text, "wasmcustom.tokengate.key_refresh.pause_ms: P0(") {
				return ""
			}
			return strings.TrimSpace(text)
		},
		fetcherMetrics: func(t *testing.T) string { return getText(t, fmt.Sprintf("http://127.0.0.1:%d/metrics", f.AdminPort)) },
	})
}

// TestProxyMultiTenantProvider runs the same scenario through
// tokengate-proxy, which runs jwksfetch in process and needs no "refresh"
// setting.
func TestProxyMultiTenantProvider(t *testing.T) {
	op := tenantop.Start(t, tenantA, tenantB, tenantC)
	up := newTenantUpstream(t)
	wasm := wasmbuild.Path(t)
	bin := daemon.Command(t, daemon.Proxy)
	cfgPath := filepath.Join(t.TempDir(), "tokengate.json")
	if err := os.WriteFile(cfgPath, []byte(multiTenantConfig(op, "")), 0o600); err != nil {
		t.Fatal(err)
	}
	listen := fmt.Sprintf("127.0.0.1:%d", envoytest.FreePort(t))
	admin := fmt.Sprintf("127.0.0.1:%d", envoytest.FreePort(t))
	p := daemon.Start(t, "tokengate-proxy", bin, "--plugin", wasm, "--config", cfgPath, "--listen", listen,
		"--admin-listen", admin, "--upstream", fmt.Sprintf("http://127.0.0.1:%d", up.port))
	p.WaitOK(t, "http://"+admin+"/readyz", 120*time.Second)
	metrics := func(t *testing.T) string { return getText(t, "http://"+admin+"/metrics") }
	runMultiTenant(t, op, up, &tenantFront{
		base: "http://" + listen,
		refreshCounts: func(t *testing.T) map[string]int64 {
			out := map[string]int64{}
			for _, line := range strings.Split(metrics(t), "\n") {
				name, value, ok := strings.Cut(line, " ")
				if short, found := strings.CutPrefix(name, "tokengate_key_refresh_"); ok && found {
					if n, err := strconv.ParseInt(value, 10, 64); err == nil {
						out[short] = n
					}
				}
			}
			return out
		},
		pauses: func(t *testing.T) string {
			for _, line := range strings.Split(metrics(t), "\n") {
				if strings.HasPrefix(line, "tokengate_key_refresh_pause_ms_count ") && !strings.HasSuffix(line, " 0") {
					return line
				}
			}
			return ""
		},
		fetcherMetrics: metrics,
	})
}

// runMultiTenant: tokens of both allowed tenants are accepted; a third
// tenant the provider serves but the configuration does not allow is
// refused, so is a token whose tid is not the tenant of its iss, and one
// signed with another tenant's key of the same kid. When tenant B rotates
// its key, a request with the new kid is paused, the plugin asks jwksfetch
// for tenant B's keys only, and the request goes on; a kid tenant A never
// published is paused and refused. Both show in the front's metrics.
func runMultiTenant(t *testing.T, op *tenantop.Provider, up *tenantUpstream, front *tenantFront) {
	client := &http.Client{Timeout: 10 * time.Second}
	get := func(token string) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, front.base+"/v1/score", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("GET: %v", err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	claims := issuer.Claims{"aud": "api://scoring", "sub": "app"}
	mintWith := func(signer *issuer.Issuer, tid string) string {
		tok, err := signer.Mint(issuer.Claims{"aud": "api://scoring", "sub": "app", "tid": tid})
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}

	tests := []struct {
		name   string
		token  string
		status int
		tenant string // what the upstream must see in x-tenant
	}{
		{name: "a token of tenant A", token: op.Mint(t, tenantA, claims), status: 200, tenant: tenantA},
		{name: "a token of tenant B", token: op.Mint(t, tenantB, claims), status: 200, tenant: tenantB},
		{name: "a token of tenant C, which the configuration does not allow", token: op.Mint(t, tenantC, claims), status: 401},
		{name: "tenant A's iss with tenant B's tid", token: op.Mint(t, tenantA, issuer.Claims{"aud": "api://scoring", "sub": "app", "tid": tenantB}), status: 401},
		{name: "tenant A's iss and tid signed with tenant B's k1", token: mintWith(op.Signer(t, tenantB, op.Issuer(tenantA)), tenantA), status: 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := up.hits.Load()
			if got := get(tt.token); got != tt.status {
				t.Fatalf("status %d, want %d", got, tt.status)
			}
			if tt.status != 200 {
				if up.hits.Load() != before {
					t.Fatal("a refused request reached the upstream")
				}
				return
			}
			if got, _ := up.seen.Load().(string); got != tt.tenant {
				t.Fatalf("the upstream saw x-tenant %q, want %q", got, tt.tenant)
			}
		})
	}

	// Tenant B rotates: its new kid is in no key set the plugin holds.
	_, fetchesA := op.Fetches(tenantA)
	_, fetchesB := op.Fetches(tenantB)
	op.Rotate(t, tenantB, "k2")
	rotated := op.Mint(t, tenantB, claims)
	start := time.Now()
	if got := get(rotated); got != 200 {
		t.Fatalf("the first token with tenant B's new key got %d, want 200 (paused, then accepted)", got)
	}
	t.Logf("tenant B's first token with its new key: accepted after %v", time.Since(start).Round(time.Millisecond))
	if _, n := op.Fetches(tenantB); n != fetchesB+1 {
		t.Errorf("tenant B's key set was fetched %d times for the rotation, want 1", n-fetchesB)
	}
	if _, n := op.Fetches(tenantA); n != fetchesA {
		t.Errorf("tenant A's key set was fetched %d times for tenant B's rotation, want 0", n-fetchesA)
	}
	// A kid tenant A never published: paused too; the fetcher fetches
	// tenant A's set, which lacks it: refused.
	stranger, err := issuer.NewKey(issuer.RS256, "k9")
	if err != nil {
		t.Fatal(err)
	}
	if got := get(mintWith(&issuer.Issuer{URL: op.Issuer(tenantA), Keys: []*issuer.Key{stranger}}, tenantA)); got != 401 {
		t.Fatalf("a kid tenant A never published got %d, want 401", got)
	}
	if _, n := op.Fetches(tenantA); n != fetchesA+1 {
		t.Errorf("tenant A's key set was fetched %d times for its unknown kid, want 1", n-fetchesA)
	}
	if got := get(op.Mint(t, tenantA, claims)); got != 200 {
		t.Fatalf("tenant A's token after the refreshes: %d", got)
	}

	// The counters reach the proxy with the plugin's next tick (a second).
	want := map[string]int64{"paused": 2, "allowed": 1, "denied": 1, "timed_out": 0, "abandoned": 0}
	var counts map[string]int64
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		counts = front.refreshCounts(t)
		ok := true
		for name, n := range want {
			if v, present := counts[name]; !present || v != n {
				ok = false
			}
		}
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("key_refresh counters %v, want %v", counts, want)
		}
	}
	var pauses string
	for deadline := time.Now().Add(20 * time.Second); pauses == ""; time.Sleep(250 * time.Millisecond) {
		if pauses = front.pauses(t); pauses == "" && time.Now().After(deadline) {
			t.Fatal("no sample in the pause_ms histogram")
		}
	}
	t.Logf("key_refresh counters %v; %s", counts, pauses)

	text := front.fetcherMetrics(t)
	for _, line := range []string{
		`jwksfetch_refresh_requests_total{provider="entra/` + tenantB + `",outcome="scheduled"} 1`,
		`jwksfetch_refresh_requests_total{provider="entra/` + tenantA + `",outcome="scheduled"} 1`,
		`jwksfetch_key_set_available{provider="entra/` + tenantB + `"} 1`,
	} {
		if !strings.Contains(text, line) {
			t.Errorf("jwksfetch's /metrics lack %q", line)
		}
	}
}

func getText(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
