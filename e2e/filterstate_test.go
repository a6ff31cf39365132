package e2e

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tokengate/tokengate/build/envoy"
	"github.com/tokengate/tokengate/internal/envoytest"
	"github.com/tokengate/tokengate/internal/issuer"
	"github.com/tokengate/tokengate/internal/wasmbuild"
)

// TestEnvoyRBACDecidesOnWhatTokengateVerified runs the bootstrap of
// build/envoy/rbac.yaml.tmpl: tokengate with "envoy_filter_state", then
// Envoy's RBAC filter whose policies match the filter state tokengate wrote
// (/admin only for sub alice; /reports for the scope "reports" and the
// tenant "ml"), and an access log that prints it. Each request must get the
// answer of the right filter, and its access-log line must name the caller
// tokengate verified, or nobody when it verified no one.
func TestEnvoyRBACDecidesOnWhatTokengateVerified(t *testing.T) {
	idp, err := issuer.New("https://idp.test/realms/ml", issuer.RS256)
	if err != nil {
		t.Fatal(err)
	}
	cfg := `{
  "realm": "models",
  "providers": {"corp": {"issuer": "` + idp.URL + `", "audiences": ["api://scoring"], "jwks": ` + string(idp.JWKS()) + `}},
  "envoy_filter_state": {"claims": ["tenant"]},
  "rules": [
    {"match": {"prefix": "/healthz"}},
    {"match": {"prefix": "/"}, "requires": {"providers": ["corp"]}}
  ]
}`
	mint := func(sub, scope, tenant string) string {
		t.Helper()
		c := issuer.Claims{"sub": sub, "aud": "api://scoring", "scope": scope}
		if tenant != "" {
			c["tenant"] = tenant
		}
		tok, err := idp.Mint(c)
		if err != nil {
			t.Fatal(err)
		}
		return "Bearer " + tok
	}
	up, hits := upstream(t)
	p, accessLog := startRBAC(t, cfg, up)

	tests := []struct {
		name, path, authorization string
		status                    int
		by                        string // who answered: "upstream", "rbac" or "tokengate"
		logged                    string // the access-log fields after the response code details
	}{
		{"alice reaches /admin", "/admin/users", mint("alice", "read", "ml"), 200, "upstream",
			"provider=corp sub=alice scope=read tenant=ml"},
		{"bob, verified by tokengate, is refused on /admin by RBAC", "/admin/users", mint("bob", "read admin", "ml"), 403, "rbac",
			"provider=corp sub=bob scope=read admin tenant=ml"},
		{"no token on /admin is refused by tokengate before RBAC", "/admin/users", "", 401, "tokengate",
			"provider=- sub=- scope=- tenant=-"},
		{"a bad token on /admin is refused by tokengate and names no one", "/admin/users", mint("alice", "read", "ml") + "x", 401, "tokengate",
			"provider=- sub=- scope=- tenant=-"},
		{"the scope reports and the tenant ml reach /reports", "/reports/q3", mint("carol", "read reports", "ml"), 200, "upstream",
			"provider=corp sub=carol scope=read reports tenant=ml"},
		{"the scope reports of another tenant is refused by RBAC", "/reports/q3", mint("carol", "reports", "ops"), 403, "rbac",
			"provider=corp sub=carol scope=reports tenant=ops"},
		{"a scope that only starts with reports is refused by RBAC", "/reports/q3", mint("carol", "reports-admin", "ml"), 403, "rbac",
			"provider=corp sub=carol scope=reports-admin tenant=ml"},
		{"a token without a tenant is refused on /reports by RBAC", "/reports/q3", mint("carol", "reports", ""), 403, "rbac",
			"provider=corp sub=carol scope=reports tenant=-"},
		{"other paths are as tokengate decided", "/v1/score", mint("bob", "", ""), 200, "upstream",
			"provider=corp sub=bob scope=- tenant=-"},
		{"a public path names no one", "/healthz", "", 200, "upstream",
			"provider=- sub=- scope=- tenant=-"},
	}
	client := &http.Client{Timeout: 10 * time.Second}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := fmt.Sprintf("%s?case=%d", tt.path, i)
			before := hits.Load()
			r := p.get(t, client, path, tt.authorization)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d (body %q)", r.status, tt.status, r.body)
			}
			reached := hits.Load() > before
			switch tt.by {
			case "upstream":
				if !reached {
					t.Fatal("the upstream was not reached")
				}
			case "rbac":
				if reached || r.body != "RBAC: access denied" {
					t.Fatalf("want RBAC's refusal without the upstream; upstream reached %v, body %q", reached, r.body)
				}
			case "tokengate":
				if reached || !strings.HasPrefix(r.header.Get("WWW-Authenticate"), `Bearer realm="models"`) {
					t.Fatalf("want tokengate's refusal; upstream reached %v, WWW-Authenticate %q", reached, r.header.Get("WWW-Authenticate"))
				}
			}
			line := accessLogLine(t, accessLog, "GET "+path+" ")
			t.Logf("access log: %s", line)
			if !strings.HasSuffix(line, " "+tt.logged) {
				t.Errorf("access log line\n %q\nwant it to end with\n %q", line, tt.logged)
			}
			if tt.by == "rbac" && !strings.Contains(line, " 403 rbac_access_denied_matched_policy[none] ") {
				t.Errorf("access log line %q does not name RBAC's refusal", line)
			}
		})
	}
}

// startRBAC runs Envoy with the RBAC bootstrap and the plugin configuration
// cfg in front of up, and returns it with the path of its access log.
func startRBAC(t *testing.T, cfg string, up *httptest.Server) (*proxy, string) {
	t.Helper()
	envoytest.Binary(t) // skip or fail before building anything
	admin, listen := envoytest.FreePort(t), envoytest.FreePort(t)
	var upPort int
	if _, err := fmt.Sscanf(up.URL, "http://127.0.0.1:%d", &upPort); err != nil {
		t.Fatalf("upstream URL %s: %v", up.URL, err)
	}
	accessLog := filepath.Join(t.TempDir(), "access.log")
	yaml, err := envoy.RenderRBAC(envoy.RBAC{Bootstrap: envoy.Bootstrap{AdminPort: admin, ListenPort: listen,
		UpstreamPort: upPort, WasmPath: wasmbuild.Path(t), PluginConfig: cfg}, AccessLogPath: accessLog})
	if err != nil {
		t.Fatal(err)
	}
	// Envoy writes access logs out every 10 s by default; a test wants them now.
	e := envoytest.Start(t, yaml, admin, envoytest.Options{ExtraArgs: []string{"--file-flush-interval-msec", "100"}})
	p := &proxy{env: e, base: fmt.Sprintf("http://127.0.0.1:%d", listen)}
	p.waitListener(t)
	return p, accessLog
}

// accessLogLine waits for the line of the access log at path that starts
// with prefix and returns it.
func accessLogLine(t *testing.T, path, prefix string) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		b, _ := os.ReadFile(path)
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, prefix) {
				return line
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no access log line starting with %q within 30s; the log:\n%s", prefix, b)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
