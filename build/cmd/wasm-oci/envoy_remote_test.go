package main

import (
	"bytes"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"text/template"
	"time"

	"github.com/tokengate/tokengate/internal/envoytest"
)

var remoteBootstrap = template.Must(template.New("envoy-remote.yaml.tmpl").Funcs(template.FuncMap{
	"json": func(s string) (string, error) { b, err := json.Marshal(s); return string(b), err },
}).ParseFiles("testdata/envoy-remote.yaml.tmpl"))

// TestEnvoyLoadsThePulledModuleOverHTTPOnlyWithItsSHA256 follows the path of
// a user who serves the module over HTTP: push the real tokengate.wasm, pull
// it back, serve the pulled file, and point Envoy's vm_config.code.remote at
// it with the module sha256 that `inspect` prints. Envoy must load it with
// that digest, and refuse it (failing closed) with any other.
func TestEnvoyLoadsThePulledModuleOverHTTPOnlyWithItsSHA256(t *testing.T) {
	t.Parallel()
	wasmPath := os.Getenv("TOKENGATE_WASM")
	if wasmPath == "" {
		if os.Getenv("TOKENGATE_REQUIRE_E2E") == "1" {
			t.Fatal("TOKENGATE_WASM is not set but TOKENGATE_REQUIRE_E2E=1: run `make test`")
		}
		t.Skip("TOKENGATE_WASM is not set; `make test` sets it")
	}
	envoytest.Binary(t)

	reg := startRegistry(t)
	ref := reg + "/tokengate/tokengate:e2e"
	if r := wasmOCI(nil, "push", "--file", wasmPath, ref); r.code != 0 {
		t.Fatalf("push: %s", r.stderr)
	}
	dir := t.TempDir()
	if r := wasmOCI(nil, "pull", "-o", filepath.Join(dir, "tokengate.wasm"), ref); r.code != 0 {
		t.Fatalf("pull: %s", r.stderr)
	}
	r := wasmOCI(nil, "inspect", ref)
	m := regexp.MustCompile(`module sha256:\s+([a-f0-9]{64})`).FindStringSubmatch(r.stdout)
	if r.code != 0 || m == nil {
		t.Fatalf("inspect: %s%s", r.stdout, r.stderr)
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
	_, originPort, _ := net.SplitHostPort(strings.TrimPrefix(origin.URL, "http://"))

	start := func(t *testing.T, path, sha string) (*envoytest.Envoy, string) {
		admin, listen := envoytest.FreePort(t), envoytest.FreePort(t)
		var y bytes.Buffer
		err := remoteBootstrap.Execute(&y, map[string]string{
			"AdminPort": strconv.Itoa(admin), "ListenPort": strconv.Itoa(listen), "OriginPort": originPort,
			"ModuleURL": origin.URL + path, "SHA256": sha,
			"PluginConfig": `{"providers":{"corp":{"issuer":"https://idp.example.com","jwks":{"keys":[]}}},"rules":[{"match":{"prefix":"/healthz"}},{"match":{"prefix":"/"},"requires":{"providers":["corp"]}}]}`,
		})
		if err != nil {
			t.Fatal(err)
		}
		return envoytest.Start(t, y.Bytes(), admin), "http://127.0.0.1:" + strconv.Itoa(listen)
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
