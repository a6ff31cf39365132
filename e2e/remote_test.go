package e2e

import (
	"bytes"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"

	"github.com/tokengate/tokengate/build/envoy"
	"github.com/tokengate/tokengate/e2e/internal/daemon"
	"github.com/tokengate/tokengate/internal/envoytest"
)

// wasmOCI runs the wasm-oci command with args and returns its exit code and
// output.
func wasmOCI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	cmd := exec.Command(daemon.Command(t, "./build/cmd/wasm-oci"), args...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		t.Fatalf("running wasm-oci: %v", err)
	}
	return code, out.String(), errb.String()
}

// TestEnvoyLoadsThePulledModuleOverHTTPOnlyWithItsSHA256 follows the path of
// a user who serves the module over HTTP: push the real tokengate.wasm, pull
// it back, serve the pulled file, and point Envoy's vm_config.code.remote at
// it with the module sha256 that `inspect` prints. Envoy must load it with
// that digest, and refuse it (failing closed) with any other.
func TestEnvoyLoadsThePulledModuleOverHTTPOnlyWithItsSHA256(t *testing.T) {
	t.Parallel()
	wasmPath := os.Getenv("TOKENGATE_WASM")
	envoytest.Need(t, wasmPath != "", "TOKENGATE_WASM is not set; `make test` sets it")
	envoytest.Binary(t)

	// An OCI registry in memory (go-containerregistry's, which speaks the
	// distribution API wasm-oci uses against real registries).
	reg := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(reg.Close)
	ref := strings.TrimPrefix(reg.URL, "http://") + "/tokengate/tokengate:e2e"
	if code, _, stderr := wasmOCI(t, "push", "--file", wasmPath, ref); code != 0 {
		t.Fatalf("push: %s", stderr)
	}
	dir := t.TempDir()
	if code, _, stderr := wasmOCI(t, "pull", "-o", filepath.Join(dir, "tokengate.wasm"), ref); code != 0 {
		t.Fatalf("pull: %s", stderr)
	}
	code, stdout, stderr := wasmOCI(t, "inspect", ref)
	m := regexp.MustCompile(`module sha256:\s+([a-f0-9]{64})`).FindStringSubmatch(stdout)
	if code != 0 || m == nil {
		t.Fatalf("inspect: %s%s", stdout, stderr)
	}
	goodSHA := m[1]
	badSHA := strings.Repeat("0", 64)

	// The origin serves the pulled module under one path per subtest and
	// counts the downloads of each.
	pulled, err := os.ReadFile(filepath.Join(dir, "tokengate.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	var fetchesGood, fetchesBad atomic.Int32
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/good/tokengate.wasm":
			fetchesGood.Add(1)
		case "/bad/tokengate.wasm":
			fetchesBad.Add(1)
		default:
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/wasm")
		_, _ = w.Write(pulled)
	}))
	t.Cleanup(origin.Close)
	originPort := origin.Listener.Addr().(*net.TCPAddr).Port
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "upstream") }))
	t.Cleanup(upstream.Close)

	start := func(t *testing.T, path, sha string) (*envoytest.Envoy, string) {
		admin, listen := envoytest.FreePort(t), envoytest.FreePort(t)
		y, err := envoy.Render(envoy.Bootstrap{AdminPort: admin, ListenPort: listen,
			UpstreamPort:  upstream.Listener.Addr().(*net.TCPAddr).Port,
			FailurePolicy: "FAIL_CLOSED", // a module that is not loaded must not let requests through
			Remote:        &envoy.Remote{URL: origin.URL + path, OriginPort: originPort, SHA256: sha},
			PluginConfig:  `{"providers":{"corp":{"issuer":"https://idp.example.com","jwks":{"keys":[]}}},"rules":[{"match":{"prefix":"/healthz"}},{"match":{"prefix":"/"},"requires":{"providers":["corp"]}}]}`,
		})
		if err != nil {
			t.Fatal(err)
		}
		return envoytest.Start(t, y, admin), "http://127.0.0.1:" + strconv.Itoa(listen)
	}
	status := func(url string) int {
		resp, err := http.Get(url)
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}

	t.Run("with the module's sha256 Envoy loads and runs it", func(t *testing.T) {
		t.Parallel()
		e, base := start(t, "/good/tokengate.wasm", goodSHA)
		deadline := time.Now().Add(120 * time.Second)
		for status(base+"/healthz") != http.StatusOK {
			if time.Now().After(deadline) {
				t.Fatalf("the plugin did not come up within 120s; stats %v", e.Stats(t, "remote_load"))
			}
			time.Sleep(200 * time.Millisecond)
		}
		if got := status(base + "/v1/score"); got != http.StatusUnauthorized {
			t.Fatalf("a request without a token got %d, want 401 from tokengate", got)
		}
		if s := e.Stats(t, "remote_load"); s["wasm.remote_load_fetch_successes"] != 1 || s["wasm.remote_load_fetch_failures"] != 0 {
			t.Fatalf("remote load stats %v", s)
		}
		if fetchesGood.Load() == 0 {
			t.Fatal("Envoy never downloaded the module")
		}
	})

	t.Run("with another sha256 Envoy refuses the module and fails closed", func(t *testing.T) {
		t.Parallel()
		e, base := start(t, "/bad/tokengate.wasm", badSHA)
		deadline := time.Now().Add(60 * time.Second)
		for e.Stats(t, "remote_load")["wasm.remote_load_fetch_failures"] == 0 {
			if time.Now().After(deadline) {
				t.Fatalf("Envoy did not report the fetch as failed within 60s; stats %v", e.Stats(t, "remote_load"))
			}
			time.Sleep(200 * time.Millisecond)
		}
		if s := e.Stats(t, "remote_load"); s["wasm.remote_load_fetch_successes"] != 0 {
			t.Fatalf("remote load stats %v", s)
		}
		// The download itself worked: the failure is the digest check.
		if fetchesBad.Load() == 0 {
			t.Fatal("Envoy never downloaded the module, so the refusal proves nothing about the sha256")
		}
		for _, p := range []string{"/healthz", "/v1/score"} {
			if got := status(base + p); got != http.StatusServiceUnavailable {
				t.Fatalf("%s got %d, want 503 (the plugin is not loaded and fails closed)", p, got)
			}
		}
	})
}
