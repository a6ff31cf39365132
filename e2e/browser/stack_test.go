package browser

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tokengate/tokengate/build/envoy"
	"github.com/tokengate/tokengate/e2e/internal/daemon"
	"github.com/tokengate/tokengate/e2e/internal/mlflowtest"
	"github.com/tokengate/tokengate/internal/envoytest"
	"github.com/tokengate/tokengate/internal/guidetest"
	"github.com/tokengate/tokengate/internal/keycloaktest"
	"github.com/tokengate/tokengate/internal/wasmbuild"
)

// startMLflow starts `mlflow server` from .venv (mlflowtest.Start).
func startMLflow(t *testing.T) *mlflowtest.Server {
	t.Helper()
	root, err := wasmbuild.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(root, ".venv", "bin", "mlflow")
	_, err = os.Stat(bin)
	envoytest.Need(t, err == nil, "no mlflow in .venv; `make e2e-clients` installs it")
	return mlflowtest.Start(t, bin)
}

// realm is what the test sets up in Keycloak, as section 1 of the guide
// says.
type realm struct {
	kc       *keycloaktest.Keycloak
	ui       keycloaktest.Client // mlflow-ui: the sign-in client
	ci       keycloaktest.Client // mlflow-ci: client credentials, as mlflow-oidc-client uses
	user     string
	password string
	jwks     []byte
}

const (
	realmName = "ml"
	// accessLifespan is short, so that the test sees sessions refreshed.
	accessLifespan = 20 * time.Second
)

func setUpRealm(t *testing.T, kc *keycloaktest.Keycloak, fronts []string) *realm {
	t.Helper()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	r := &realm{kc: kc, user: "ada", password: "correct horse battery staple"}
	must(kc.CreateRealm(realmName))
	must(kc.SetAccessTokenLifespan(realmName, int(accessLifespan/time.Second)))
	var redirects, logouts []string
	for _, f := range fronts {
		redirects = append(redirects, f+"/oauth2/callback")
		logouts = append(logouts, f+"/")
	}
	var err error
	r.ui, err = kc.CreateLoginClient(realmName, "mlflow-ui", keycloaktest.LoginClientOptions{
		RedirectURIs: redirects, PostLogoutRedirectURIs: logouts, Audiences: []string{"mlflow"}})
	must(err)
	r.ci, err = kc.CreateClient(realmName, "mlflow-ci", keycloaktest.ClientOptions{Audiences: []string{"mlflow"}})
	must(err)
	_, err = kc.CreateUser(realmName, r.user, r.password)
	must(err)
	resp, err := http.Get(kc.Issuer(realmName) + "/protocol/openid-connect/certs")
	must(err)
	defer resp.Body.Close()
	r.jwks, err = io.ReadAll(resp.Body)
	must(err)
	return r
}

// config is the guide's configuration for a front at base, with this
// Keycloak, the client's secret, a fresh cookie key and the realm's keys
// (which jwksfetch fills in in a deployment).
func (r *realm) config(t *testing.T, base string) string {
	t.Helper()
	cfg := guidetest.Config(t, "guide-mlflow-ui.md")
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	for _, s := range [][2]string{
		{"https://kc.example.com", r.kc.URL},
		{"https://mlflow.example.com", base},
		{"<the secret of mlflow-ui>", r.ui.Secret},
		{"<openssl rand -base64 32>", base64.StdEncoding.EncodeToString(key)},
	} {
		if !strings.Contains(cfg, s[0]) {
			t.Fatalf("the guide's configuration no longer holds %q", s[0])
		}
		cfg = strings.ReplaceAll(cfg, s[0], s[1])
	}
	return guidetest.WithKeys(t, cfg, r.jwks)
}

// front is tokengate in one of its forms, in front of the tap.
type front struct {
	name string
	base string // http://localhost:<port>: a browser keeps Secure cookies for localhost
	port int
	// stats reads the front's count of a decision code, or -1.
	stats func(code string) int64
	// log is what the front logged so far.
	log func() string
}

func newFront(t *testing.T, name string) *front {
	p := envoytest.FreePort(t)
	return &front{name: name, port: p, base: fmt.Sprintf("http://localhost:%d", p)}
}

// startEnvoy runs Envoy 1.40 from build/envoy's bootstrap with the
// configuration inline and a "keycloak" cluster for the token endpoint.
func (f *front) startEnvoy(t *testing.T, cfg string, upstreamPort, keycloakPort int) {
	t.Helper()
	admin := envoytest.FreePort(t)
	yaml, err := envoy.Render(envoy.Bootstrap{AdminPort: admin, ListenPort: f.port, UpstreamPort: upstreamPort,
		WasmPath: wasmbuild.Path(t), PluginConfig: cfg, Clusters: []envoy.Cluster{{Name: "keycloak", Port: keycloakPort}}})
	if err != nil {
		t.Fatal(err)
	}
	e := envoytest.Start(t, yaml, admin, envoytest.Options{Concurrency: 1})
	f.log = e.Log
	t.Cleanup(func() {
		if bad := e.WasmErrors(); len(bad) > 0 {
			t.Errorf("envoy logged %d Wasm errors, first: %s", len(bad), bad[0])
		}
	})
	f.stats = func(code string) int64 {
		for name, v := range e.Stats(t, "tokengate.denied."+code) {
			if strings.HasSuffix(name, "tokengate.denied."+code) {
				return v
			}
		}
		return -1
	}
	envoytest.WaitListening(t, fmt.Sprintf("127.0.0.1:%d", f.port), 60*time.Second)
}

// startProxy runs tokengate-proxy on the same configuration, with the
// token endpoint as the named upstream "keycloak".
func (f *front) startProxy(t *testing.T, cfg string, upstreamPort int, keycloakURL string) {
	t.Helper()
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "tokengate.json")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	admin := fmt.Sprintf("127.0.0.1:%d", envoytest.FreePort(t))
	args := []string{"--plugin", wasmbuild.Path(t), "--config", cfgPath, "--listen", fmt.Sprintf("127.0.0.1:%d", f.port),
		"--admin-listen", admin, "--upstream", fmt.Sprintf("http://127.0.0.1:%d", upstreamPort),
		"--call-upstream", "keycloak=" + keycloakURL}
	if c, err := os.UserCacheDir(); err == nil {
		args = append(args, "--cache-dir", filepath.Join(c, "tokengate-e2e", "wazero"))
	}
	p := daemon.Start(t, "tokengate-proxy", daemon.Command(t, daemon.Proxy), args...)
	p.WaitOK(t, "http://"+admin+"/readyz", 120*time.Second)
	f.log = p.Output
	f.stats = func(code string) int64 {
		resp, err := http.Get("http://" + admin + "/metrics")
		if err != nil {
			return -1
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		for _, line := range strings.Split(string(b), "\n") {
			if name, v, ok := strings.Cut(line, " "); ok && strings.Contains(name, "denied") && strings.HasSuffix(name, code) {
				var n int64
				fmt.Sscan(v, &n)
				return n
			}
		}
		return -1
	}
}

// answer is what a front said to one plain HTTP request.
type answer struct {
	status int
	header http.Header
	body   string
}

// noRedirects is a client that shows every answer as it is, redirects
// included.
var noRedirects = &http.Client{Timeout: 20 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// send sends one request with the given headers (name, value, ...).
func send(t *testing.T, method, target string, kv ...string) answer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, target, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		req.Header.Add(kv[i], kv[i+1])
	}
	resp, err := noRedirects.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	return answer{status: resp.StatusCode, header: resp.Header, body: string(b)}
}
