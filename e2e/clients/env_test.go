package clients

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokengate/tokengate/build/envoy"
	"github.com/tokengate/tokengate/internal/envoytest"
	"github.com/tokengate/tokengate/internal/wasmbuild"
)

func moduleRoot(t *testing.T) string {
	t.Helper()
	root, err := wasmbuild.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// pythonImports checks once per test binary that the e2e requirements are
// importable: importing mlflow takes seconds.
var pythonImports = sync.OnceValue(func() error {
	root, err := wasmbuild.ModuleRoot()
	if err != nil {
		return err
	}
	return exec.Command(filepath.Join(root, ".venv", "bin", "python"), "-c",
		"import h2o_authn, httpx, mlflow, mlflow_oidc_client").Run()
})

// python returns .venv/bin/python once the e2e requirements are importable.
func python(t *testing.T) string {
	t.Helper()
	envoytest.Binary(t)
	py := filepath.Join(moduleRoot(t), ".venv", "bin", "python")
	_, err := os.Stat(py)
	envoytest.Need(t, err == nil, "the Python environment .venv is missing; `make e2e-clients` prepares it")
	envoytest.Need(t, pythonImports() == nil, "the Python environment lacks h2o_authn, httpx, mlflow or mlflow_oidc_client; `make e2e-clients` prepares it")
	return py
}

// runPy runs a script of py/ (or a module with -m) and returns its stdout.
func runPy(t *testing.T, dir string, env []string, stdin string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, python(t), args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if err != nil {
		return out.String(), fmt.Errorf("python %s: %v\n%s", strings.Join(args, " "), err, errb.String())
	}
	return out.String(), nil
}

func script(t *testing.T, name string) string {
	return filepath.Join(moduleRoot(t), "e2e", "clients", "py", name)
}

// provider is a running oidc-provider.
type provider struct {
	Issuer string
	CAFile string       // the provider's self-signed certificate
	Client *http.Client // trusts CAFile
}

// pyEnv makes Python's TLS stacks (httpx, requests) trust the provider.
func (p *provider) pyEnv() []string {
	return []string{"SSL_CERT_FILE=" + p.CAFile, "REQUESTS_CA_BUNDLE=" + p.CAFile}
}

// startProvider runs op/op.mjs; its tokens default to audience aud.
func startProvider(t *testing.T, aud string) *provider {
	t.Helper()
	envoytest.Binary(t)
	node, err := exec.LookPath("node")
	envoytest.Need(t, err == nil, "node is not on PATH")
	dir := filepath.Join(moduleRoot(t), "e2e", "clients", "op")
	_, err = os.Stat(filepath.Join(dir, "node_modules", "oidc-provider"))
	envoytest.Need(t, err == nil, "e2e/clients/op/node_modules lacks oidc-provider; `make e2e-clients` prepares it")
	port := envoytest.FreePort(t)
	certPath, keyPath, client := loopbackCert(t, t.TempDir())
	cmd := exec.Command(node, "op.mjs", fmt.Sprint(port), aud)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "OP_TLS_CERT="+certPath, "OP_TLS_KEY="+keyPath)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	ready := make(chan string, 1)
	go func() {
		s := bufio.NewScanner(stdout)
		for s.Scan() {
			if iss, ok := strings.CutPrefix(s.Text(), "ready "); ok {
				ready <- iss
			}
		}
	}()
	select {
	case iss := <-ready:
		return &provider{Issuer: iss, CAFile: certPath, Client: client}
	case <-time.After(20 * time.Second):
		t.Fatalf("the OpenID provider did not start within 20s:\n%s", stderr.String())
	}
	return nil
}

// expiredToken returns an access token for aud signed by the provider's
// key that expired ten minutes ago.
func (p *provider) expiredToken(t *testing.T, aud string) string {
	t.Helper()
	resp, err := p.Client.Get(p.Issuer + "/e2e/expired-token?aud=" + url.QueryEscape(aud))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET /e2e/expired-token: %d %v", resp.StatusCode, err)
	}
	return string(b)
}

// fetchSettings is the provider's "fetch" object for jwksfetch: trust the
// provider's self-signed certificate.
func (p *provider) fetchSettings() string {
	b, _ := json.Marshal(map[string]string{"ca_file": p.CAFile})
	return string(b)
}

// renderKeys runs `jwksfetch --once` on the plugin configuration cfg, as an
// operator does, and returns the configuration with the key sets filled in.
func renderKeys(t *testing.T, cfg string) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatal("the go command is not on PATH: it builds jwksfetch")
	}
	dir := t.TempDir()
	in, out := filepath.Join(dir, "tokengate.json"), filepath.Join(dir, "tokengate.rendered.json")
	if err := os.WriteFile(in, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(goBin, "run", "./jwksfetch/cmd/jwksfetch", "--admin-listen", "", "--config", in, "--once", "--out", out)
	cmd.Dir = moduleRoot(t)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("jwksfetch --once: %v\n%s", err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// clientCredentials gets an access token for resource with cc-client.
func (p *provider) clientCredentials(t *testing.T, resource string) string {
	t.Helper()
	return p.grant(t, "cc-client", "cc-secret", "scope=score&resource="+resource)
}

// grant gets an access token with the client credentials grant for client
// (secret), with the further form parameters params.
func (p *provider) grant(t *testing.T, client, secret, params string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, p.Issuer+"/token",
		strings.NewReader("grant_type=client_credentials&"+params))
	req.SetBasicAuth(client, secret)
	req.Header.Set("content-type", "application/x-www-form-urlencoded")
	resp, err := p.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || body.AccessToken == "" {
		t.Fatalf("client_credentials for %s (%s): HTTP %d, %v", client, params, resp.StatusCode, err)
	}
	return body.AccessToken
}

// startEnvoy runs Envoy with the plugin and cfg in front of the upstream
// port and returns its base URL.
func startEnvoy(t *testing.T, cfg string, upstreamPort int) string {
	t.Helper()
	envoytest.Binary(t)
	admin, listen := envoytest.FreePort(t), envoytest.FreePort(t)
	yaml, err := envoy.Render(envoy.Bootstrap{AdminPort: admin, ListenPort: listen,
		UpstreamPort: upstreamPort, WasmPath: wasmbuild.Path(t), PluginConfig: cfg})
	if err != nil {
		t.Fatal(err)
	}
	e := envoytest.Start(t, yaml, admin, envoytest.Options{Concurrency: 1})
	base := fmt.Sprintf("http://127.0.0.1:%d", listen)
	waitHTTP(t, base+"/healthz", e)
	return base
}

func waitHTTP(t *testing.T, url string, e *envoytest.Envoy) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			return
		}
		if e != nil && !e.Running() {
			t.Fatalf("envoy exited:\n%s", e.Log())
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s did not answer within 60s", url)
}

type reply struct {
	status  int
	wwwAuth string
	body    string
}

func do(t *testing.T, method, url, authorization, body string) reply {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	req.Header.Set("content-type", "application/json")
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return reply{resp.StatusCode, resp.Header.Get("WWW-Authenticate"), string(b)}
}

func freePort(t *testing.T) int { return envoytest.FreePort(t) }

// jwtParts decodes a JWT's header and claims without verifying it: the
// tests look at what a client sent, tokengate verified it.
func jwtParts(t *testing.T, token string) (header, claims map[string]any) {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %d parts", len(parts))
	}
	for i, dst := range []*map[string]any{&header, &claims} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			t.Fatalf("JWT part %d: %v", i, err)
		}
		if err := json.Unmarshal(b, dst); err != nil {
			t.Fatalf("JWT part %d: %v", i, err)
		}
	}
	return header, claims
}

// hasAudience reports whether aud (a string or an array) holds want.
func hasAudience(aud any, want string) bool {
	switch a := aud.(type) {
	case string:
		return a == want
	case []any:
		for _, v := range a {
			if v == want {
				return true
			}
		}
	}
	return false
}
