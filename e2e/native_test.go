package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokengate/tokengate/build/envoy"
	"github.com/tokengate/tokengate/internal/envoytest"
	"github.com/tokengate/tokengate/internal/issuer"
)

var native struct {
	once sync.Once
	dir  string
	err  error
}

// nativeModuleDir returns a directory holding libtokengate.so: the
// directory of TOKENGATE_NATIVE (make native builds it), or else the module
// built once per test process from source. A failed build fails the test.
func nativeModuleDir(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("TOKENGATE_NATIVE"); p != "" {
		if filepath.Base(p) != "libtokengate.so" {
			t.Fatalf("TOKENGATE_NATIVE=%s: Envoy looks the module up as libtokengate.so; name the file so", p)
		}
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("TOKENGATE_NATIVE=%s: %v (run `make native`, or unset it to build from source)", p, err)
		}
		return filepath.Dir(p)
	}
	native.once.Do(func() {
		dir, err := os.MkdirTemp("", "tokengate-native-")
		if err != nil {
			native.err = err
			return
		}
		cmd := exec.Command("go", "build", "-buildmode=c-shared", "-trimpath",
			"-o", filepath.Join(dir, "libtokengate.so"), "./plugin/envoymodule")
		cmd.Dir = ".."
		cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
		if out, err := cmd.CombinedOutput(); err != nil {
			native.err = fmt.Errorf("building the native module: %v\n%s", err, out)
			return
		}
		native.dir = dir
	})
	if native.err != nil {
		t.Fatal(native.err)
	}
	return native.dir
}

// startNative runs Envoy with tokengate as a native dynamic module
// configured with cfg in front of up.
func startNative(t *testing.T, cfg string, up *httptest.Server) *proxy {
	t.Helper()
	return startNativeWith(t, envoy.Native{PluginConfig: cfg}, up)
}

// startNativeWith runs Envoy with the native bootstrap n (ports filled in)
// in front of up.
func startNativeWith(t *testing.T, n envoy.Native, up *httptest.Server) *proxy {
	t.Helper()
	envoytest.Binary(t) // skip or fail before building anything
	t.Setenv("ENVOY_DYNAMIC_MODULES_SEARCH_PATH", nativeModuleDir(t))
	admin, listen := envoytest.FreePort(t), envoytest.FreePort(t)
	var upPort int
	if _, err := fmt.Sscanf(up.URL, "http://127.0.0.1:%d", &upPort); err != nil {
		t.Fatalf("upstream URL %s: %v", up.URL, err)
	}
	n.AdminPort, n.ListenPort, n.UpstreamPort = admin, listen, upPort
	yaml, err := envoy.RenderNative(n)
	if err != nil {
		t.Fatal(err)
	}
	// A short flush interval: the test reads Envoy's log for the ABI check.
	e := envoytest.Start(t, yaml, admin, envoytest.Options{ExtraArgs: []string{"--file-flush-interval-msec", "50"}})
	p := &proxy{env: e, base: fmt.Sprintf("http://127.0.0.1:%d", listen)}
	p.waitListener(t)
	return p
}

// TestNativeModuleVerifiesBearerTokens runs the Wasm filter's request table
// (TestEnvoyVerifiesBearerTokens) through the native module in Envoy 1.40:
// every answer must be the same.
func TestNativeModuleVerifiesBearerTokens(t *testing.T) {
	iss, other := bearerIssuers(t)
	up, hits := upstream(t)
	p := startNative(t, pluginConfig(t, iss), up)
	runBearerCases(t, p, hits, bearerCases(t, iss, other))
	if !p.env.LogContains("Dynamic module ABI version v0.2.0 matched", 15*time.Second) {
		t.Errorf("envoy did not report a matching ABI version")
	}
}

// TestNativeModuleRefusesABadConfiguration: a configuration the gate
// refuses must stop Envoy from starting, with the gate's reason (naming the
// JSON path) in its log, rather than load a filter that decides nothing.
func TestNativeModuleRefusesABadConfiguration(t *testing.T) {
	bin := envoytest.Binary(t)
	t.Setenv("ENVOY_DYNAMIC_MODULES_SEARCH_PATH", nativeModuleDir(t))
	yaml, err := envoy.RenderNative(envoy.Native{AdminPort: envoytest.FreePort(t), ListenPort: envoytest.FreePort(t),
		UpstreamPort: 1, PluginConfig: `{"providers": {"corp": {"issuer": 7}}}`})
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(t.TempDir(), "envoy.yaml")
	if err := os.WriteFile(cfg, yaml, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "-c", cfg, "--disable-hot-restart", "--concurrency", "1").CombinedOutput()
	if err == nil || ctx.Err() != nil {
		t.Fatalf("envoy did not refuse a configuration the gate refuses (err %v):\n%s", err, out)
	}
	if !strings.Contains(string(out), "providers.corp.issuer") {
		t.Fatalf("envoy's refusal does not name the bad field; output:\n%s", out)
	}
}

// TestNativeModuleUnderLoad sends valid, tampered and expired tokens from 8
// connections through two Envoy workers, so both workers' gates and caches
// serve at once; every answer must be the expected one and Envoy must stay up.
func TestNativeModuleUnderLoad(t *testing.T) {
	iss, err := issuer.New("https://idp.test/realms/ml", issuer.RS256, issuer.ES256)
	if err != nil {
		t.Fatal(err)
	}
	up, _ := upstream(t)
	p := startNative(t, pluginConfig(t, iss), up)
	var pool []call
	for i := range 30 {
		kid := "RS256-1"
		if i%3 == 0 {
			kid = "ES256-1"
		}
		tok, err := iss.Mint(issuer.Claims{"sub": fmt.Sprintf("user-%d", i), "aud": "api://scoring"}, issuer.WithKey(kid))
		if err != nil {
			t.Fatal(err)
		}
		pool = append(pool, call{"Bearer " + tok, 200}, call{"Bearer " + tok[:len(tok)-6] + "AAAAAA", 401})
	}
	pool = append(pool, call{"", 401})
	const total, workers = 3000, 8
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: workers}}
	p.load(t, client, pool, total, workers)
	if !p.env.Running() {
		t.Fatal("envoy exited")
	}
}

// TestNativeModuleTakesNewKeysOverECDS rotates the provider's keys by writing
// a new filter configuration to the ECDS file Envoy watches: tokens signed by
// the new keys must be accepted and those of the old keys refused, without a
// restart.
func TestNativeModuleTakesNewKeysOverECDS(t *testing.T) {
	before, err := issuer.New("https://idp.test/realms/ml", issuer.RS256)
	if err != nil {
		t.Fatal(err)
	}
	after, err := issuer.New("https://idp.test/realms/ml", issuer.RS256)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ecds := filepath.Join(dir, "tokengate.json")
	publish := func(iss *issuer.Issuer) {
		t.Helper()
		doc, err := envoy.NativeECDS(pluginConfig(t, iss))
		if err != nil {
			t.Fatal(err)
		}
		tmp := filepath.Join(dir, "next.json")
		if err := os.WriteFile(tmp, doc, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, ecds); err != nil { // Envoy watches for the move
			t.Fatal(err)
		}
	}
	publish(before)
	up, _ := upstream(t)
	p := startNativeWith(t, envoy.Native{ECDSPath: ecds}, up)
	client := &http.Client{Timeout: 10 * time.Second}
	token := func(iss *issuer.Issuer) string {
		tok, err := iss.Mint(issuer.Claims{"sub": "alice", "aud": "api://scoring"})
		if err != nil {
			t.Fatal(err)
		}
		return "Bearer " + tok
	}
	oldTok, newTok := token(before), token(after)
	if r := p.get(t, client, "/v1/score", oldTok); r.status != 200 {
		t.Fatalf("before the rotation, a token of the published keys got %d; body %s", r.status, r.body)
	}
	if r := p.get(t, client, "/v1/score", newTok); r.status != 401 {
		t.Fatalf("before the rotation, a token of unpublished keys got %d", r.status)
	}
	publish(after)
	deadline := time.Now().Add(30 * time.Second)
	for p.get(t, client, "/v1/score", newTok).status != 200 {
		if time.Now().After(deadline) {
			t.Fatal("envoy did not take the new keys within 30s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if r := p.get(t, client, "/v1/score", oldTok); r.status != 401 {
		t.Fatalf("after the rotation, a token of the retired keys got %d", r.status)
	}
}
