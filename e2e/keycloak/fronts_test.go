package keycloak

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tokengate/tokengate/e2e/internal/daemon"
	"github.com/tokengate/tokengate/internal/envoytest"
	"github.com/tokengate/tokengate/internal/keycloaktest"
	"github.com/tokengate/tokengate/internal/wasmbuild"
)

func TestMain(m *testing.M) {
	code := m.Run()
	keycloaktest.Stop()
	os.Exit(code)
}

// front is tokengate in one of its deployed forms, in front of an upstream.
type front struct {
	name string
	url  string // base URL of its listener
}

// answer is what a front said to one request.
type answer struct {
	status int
	header http.Header
	body   string
}

var client = &http.Client{Timeout: 15 * time.Second}

// get sends GET path with token as a Bearer token (none if empty).
func (f *front) get(path, token string) (answer, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.url+path, nil)
	if err != nil {
		return answer{}, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return answer{}, fmt.Errorf("%s: GET %s: %w", f.name, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if err != nil {
		return answer{}, fmt.Errorf("%s: GET %s: reading the body: %w", f.name, path, err)
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: string(b)}, nil
}

// status is get's status, 0 on a transport error.
func (f *front) status(path, token string) int {
	a, err := f.get(path, token)
	if err != nil {
		return 0
	}
	return a.status
}

// startProxy runs the tokengate-proxy binary as users do: the plugin, cfg,
// and the key sets fetched in process.
func startProxy(t *testing.T, cfg string, upstreamPort int) *front {
	t.Helper()
	wasm := wasmbuild.Path(t)
	bin := daemon.Command(t, daemon.Proxy)
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "tokengate.json")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	listen := fmt.Sprintf("127.0.0.1:%d", envoytest.FreePort(t))
	admin := fmt.Sprintf("127.0.0.1:%d", envoytest.FreePort(t))
	args := []string{"--plugin", wasm, "--config", cfgPath, "--listen", listen, "--admin-listen", admin,
		"--upstream", fmt.Sprintf("http://127.0.0.1:%d", upstreamPort), "--upstream-timeout", "20s"}
	if c, err := os.UserCacheDir(); err == nil {
		args = append(args, "--cache-dir", filepath.Join(c, "tokengate-e2e", "wazero"))
	}
	p := daemon.Start(t, "tokengate-proxy", bin, args...)
	// Ready once the configuration is applied and every provider has keys.
	p.WaitOK(t, "http://"+admin+"/readyz", 120*time.Second)
	return &front{name: "tokengate-proxy", url: "http://" + listen}
}

// startEnvoy runs the jwksfetch daemon on cfg, publishing the filter in an
// ECDS file, and an Envoy that reads it from there.
func startEnvoy(t *testing.T, cfg string, upstreamPort int) *front {
	t.Helper()
	_, url := daemon.StartFetcher(t, cfg, daemon.FetcherOptions{}).StartEnvoy(t, upstreamPort)
	return &front{name: "envoy", url: url}
}
