package keycloak

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tokengate/tokengate/internal/envoytest"
	"github.com/tokengate/tokengate/internal/keycloaktest"
	"github.com/tokengate/tokengate/internal/wasmbuild"
)

// binDir holds the commands built once per test process (TestMain).
var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "tokengate-keycloak-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	keycloaktest.Stop()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

var (
	buildMu sync.Mutex
	built   = map[string]string{}
)

// command builds the main package pkg of this module once per test process.
func command(t *testing.T, pkg string) string {
	t.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	if bin, ok := built[pkg]; ok {
		return bin
	}
	root, err := wasmbuild.ModuleRoot()
	if err != nil {
		t.Fatalf("finding the module root: %v", err)
	}
	bin := filepath.Join(binDir, filepath.Base(pkg))
	cmd := exec.Command("go", "build", "-o", bin, pkg)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building %s: %v\n%s", pkg, err, out)
	}
	built[pkg] = bin
	return bin
}

// process is a command started for one test; it is interrupted when the
// test ends, and killed by the kernel if this process dies first.
type process struct {
	name string
	log  string // file with its stdout and stderr
	done chan struct{}
}

func startProcess(t *testing.T, name, bin string, args ...string) *process {
	t.Helper()
	p := &process{name: name, log: filepath.Join(t.TempDir(), name+".log"), done: make(chan struct{})}
	out, err := os.Create(p.log)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		out.Close()
		t.Fatalf("starting %s: %v", name, err)
	}
	go func() { _ = cmd.Wait(); out.Close(); close(p.done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("%s log:\n%s", name, tailLines(p.output(), 60))
		}
	})
	return p
}

func (p *process) output() string {
	b, _ := os.ReadFile(p.log)
	return string(b)
}

// waitOK polls url until it answers 200, failing the test after timeout or
// when the process exits.
func (p *process) waitOK(t *testing.T, url string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		select {
		case <-p.done:
			t.Fatalf("%s exited:\n%s", p.name, tailLines(p.output(), 40))
		default:
		}
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
			err = fmt.Errorf("%s", resp.Status)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %s did not answer 200 within %v (last: %v)\n%s", p.name, url, timeout, err, tailLines(p.output(), 40))
		}
		time.Sleep(100 * time.Millisecond)
	}
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
	bin := command(t, "./host/cmd/tokengate-proxy")
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
	p := startProcess(t, "tokengate-proxy", bin, args...)
	// Ready once the configuration is applied and every provider has keys.
	p.waitOK(t, "http://"+admin+"/readyz", 120*time.Second)
	return &front{name: "tokengate-proxy", url: "http://" + listen}
}

// ecdsBootstrap is an Envoy bootstrap whose tokengate filter is read from
// the ECDS file the jwksfetch daemon writes, and whose "jwksfetch" cluster is
// the daemon's admin listener (the plugin's unknown-kid refresh requests).
const ecdsBootstrap = `
node: {id: keycloak-e2e, cluster: edge}
admin:
  address: {socket_address: {address: 127.0.0.1, port_value: %[1]d}}
static_resources:
  listeners:
  - name: ingress
    address: {socket_address: {address: 127.0.0.1, port_value: %[2]d}}
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: ingress
          route_config:
            virtual_hosts:
            - name: upstream
              domains: ["*"]
              routes: [{match: {prefix: "/"}, route: {cluster: upstream}}]
          http_filters:
          - name: tokengate
            config_discovery:
              config_source:
                resource_api_version: V3
                path_config_source: {path: %[5]q}
              type_urls: ["type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm"]
          - name: envoy.filters.http.router
            typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
  clusters:
  - name: upstream
    connect_timeout: 1s
    type: STATIC
    load_assignment:
      cluster_name: upstream
      endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: %[3]d}}}}]}]
  - name: jwksfetch
    connect_timeout: 1s
    type: STATIC
    load_assignment:
      cluster_name: jwksfetch
      endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: %[4]d}}}}]}]
`

// startEnvoy runs the jwksfetch daemon on cfg, writing an ECDS file, and an
// Envoy that reads the tokengate filter from that file.
func startEnvoy(t *testing.T, cfg string, upstreamPort int) *front {
	t.Helper()
	envoytest.Binary(t) // skips, or fails under TOKENGATE_REQUIRE_E2E=1, before building anything
	wasm := wasmbuild.Path(t)
	bin := command(t, "./jwksfetch/cmd/jwksfetch")
	dir := t.TempDir()
	cfgPath, tmplPath, ecdsPath := filepath.Join(dir, "tokengate.json"), filepath.Join(dir, "wasm.json"), filepath.Join(dir, "ecds", "tokengate.json")
	if err := os.MkdirAll(filepath.Dir(ecdsPath), 0o700); err != nil {
		t.Fatal(err)
	}
	tmpl := fmt.Sprintf(`{"name":"tokengate","root_id":"tokengate","failure_policy":"FAIL_CLOSED",
		"vm_config":{"vm_id":"tokengate","runtime":"envoy.wasm.runtime.v8","code":{"local":{"filename":%q}}}}`, wasm)
	for path, data := range map[string]string{cfgPath: cfg, tmplPath: tmpl} {
		if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	adminPort := envoytest.FreePort(t)
	p := startProcess(t, "jwksfetch", bin, "--config", cfgPath, "--wasm-template", tmplPath,
		"--ecds-file", ecdsPath, "--admin-listen", fmt.Sprintf("127.0.0.1:%d", adminPort))
	p.waitOK(t, fmt.Sprintf("http://127.0.0.1:%d/readyz", adminPort), 60*time.Second)
	for deadline := time.Now().Add(30 * time.Second); ; {
		if _, err := os.Stat(ecdsPath); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("jwksfetch wrote no ECDS file within 30s:\n%s", tailLines(p.output(), 40))
		}
		time.Sleep(50 * time.Millisecond)
	}

	envoyAdmin, listen := envoytest.FreePort(t), envoytest.FreePort(t)
	e := envoytest.Start(t, []byte(fmt.Sprintf(ecdsBootstrap, envoyAdmin, listen, upstreamPort, adminPort, ecdsPath)),
		envoyAdmin, envoytest.Options{Concurrency: 1})
	t.Cleanup(func() {
		if bad := e.WasmErrors(); len(bad) > 0 {
			t.Errorf("envoy logged %d Wasm errors, first: %s", len(bad), bad[0])
		}
	})
	addr := fmt.Sprintf("127.0.0.1:%d", listen)
	for deadline := time.Now().Add(60 * time.Second); ; {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("envoy's listener did not accept connections within 60s (is the ECDS resource loaded?)")
		}
		time.Sleep(50 * time.Millisecond)
	}
	return &front{name: "envoy", url: "http://" + addr}
}

func tailLines(s string, n int) string {
	ls := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(ls) > n {
		ls = ls[len(ls)-n:]
	}
	return strings.Join(ls, "\n")
}
