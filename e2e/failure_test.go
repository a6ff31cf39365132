package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tokengate/tokengate/build/envoy"
	"github.com/tokengate/tokengate/internal/envoytest"
	"github.com/tokengate/tokengate/internal/issuer"
	"github.com/tokengate/tokengate/internal/wasmbuild"
)

// TestEnvoyRecoversFromPluginFailures loads a test build of the module (with
// hooks that make it fail on purpose) into Envoy with FAIL_RELOAD and proves:
// a panic inside a request fails that request closed (500) and the VM keeps
// serving; an unrecoverable trap fails the request closed, Envoy recreates the
// VM, and later requests are verified again.
func TestEnvoyRecoversFromPluginFailures(t *testing.T) {
	envoytest.Binary(t)
	iss, err := issuer.New("https://idp.test/realms/ml", issuer.RS256)
	if err != nil {
		t.Fatal(err)
	}
	up, hits := upstream(t)
	cfg := `{"test_hooks": {"panic_on_request": "/panic", "trap_on_request": "/trap"}, "config": ` + pluginConfig(t, iss) + `}`
	admin, listen := envoytest.FreePort(t), envoytest.FreePort(t)
	var upPort int
	if _, err := fmt.Sscanf(up.URL, "http://127.0.0.1:%d", &upPort); err != nil {
		t.Fatal(err)
	}
	yaml, err := envoy.Render(envoy.Bootstrap{AdminPort: admin, ListenPort: listen, UpstreamPort: upPort,
		WasmPath: wasmbuild.TestHooksPath(t), PluginConfig: cfg, FailurePolicy: "FAIL_RELOAD"})
	if err != nil {
		t.Fatal(err)
	}
	// One worker, so the trapped VM is the one the next request needs.
	p := &proxy{env: envoytest.Start(t, yaml, admin, envoytest.Options{Concurrency: 1}), base: fmt.Sprintf("http://127.0.0.1:%d", listen)}
	p.waitListener(t)
	client := &http.Client{Timeout: 10 * time.Second}
	tok, err := iss.Mint(issuer.Claims{"aud": "api://scoring"})
	if err != nil {
		t.Fatal(err)
	}
	bearer := "Bearer " + tok

	if r := p.get(t, client, "/v1/score", bearer); r.status != 200 {
		t.Fatalf("before any failure: status %d, want 200", r.status)
	}
	before := hits.Load()
	if r := p.get(t, client, "/panic", bearer); r.status != 500 || !strings.Contains(r.body, "internal_error") {
		t.Fatalf("a panic in the plugin: status %d body %q, want the plugin's fail-closed 500", r.status, r.body)
	}
	if r := p.get(t, client, "/v1/score", ""); r.status != 401 {
		t.Fatalf("after a recovered panic, a request without a token: status %d, want 401 (the VM keeps verifying)", r.status)
	}
	if r := p.get(t, client, "/trap", bearer); r.status == 200 {
		t.Fatalf("a trap in the plugin let the request through (status %d)", r.status)
	}
	if hits.Load() != before {
		t.Fatal("a request that made the plugin fail reached the upstream")
	}
	// FAIL_RELOAD recreates the VM after a back-off (1 s by default).
	deadline := time.Now().Add(30 * time.Second)
	var last result
	for time.Now().Before(deadline) {
		last = p.get(t, client, "/v1/score", bearer)
		if last.status == 200 {
			break
		}
		if last.status != 503 && last.status != 500 {
			t.Fatalf("while the VM reloads: status %d, want 503/500 (fail closed) or 200", last.status)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if last.status != 200 {
		t.Fatalf("the VM was not reloaded within 30s: last status %d", last.status)
	}
	if r := p.get(t, client, "/v1/score", ""); r.status != 401 {
		t.Fatalf("after the reload, a request without a token: status %d, want 401", r.status)
	}
	stats := p.env.Stats(t, "vm_reload")
	var reloaded int64
	for name, v := range stats {
		if strings.HasSuffix(name, "vm_reload_success") {
			reloaded += v
		}
	}
	if reloaded == 0 {
		t.Fatalf("envoy reports no successful VM reload: %v", stats)
	}
}
