package daemon

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tokengate/tokengate/build/envoy"
	"github.com/tokengate/tokengate/internal/envoytest"
	"github.com/tokengate/tokengate/internal/wasmbuild"
)

// FetcherOptions choose how the jwksfetch daemon publishes the filter.
type FetcherOptions struct {
	// XDS serves ECDS over gRPC (--xds-listen) with this API type (GRPC or
	// DELTA_GRPC); empty writes a watched ECDS file (--ecds-file).
	XDS string
	// Args are further daemon flags, e.g. --on-demand-interval.
	Args []string
}

// Fetcher is a running jwksfetch daemon that renders the tokengate filter
// (the real module, the configuration it was given, the key sets it
// fetched) and publishes it over ECDS.
type Fetcher struct {
	*Process
	AdminPort int        // --admin-listen: /readyz, /metrics, POST /refresh
	ECDS      envoy.ECDS // where Envoy discovers the filter
}

// StartFetcher runs the daemon on the plugin configuration cfg and waits
// until it is ready and has published the filter once.
func StartFetcher(t testing.TB, cfg string, o FetcherOptions) *Fetcher {
	t.Helper()
	envoytest.Binary(t) // skips, or fails under TOKENGATE_REQUIRE_E2E=1, before building anything
	wasm := wasmbuild.Path(t)
	bin := Command(t, JWKSFetch)
	dir := t.TempDir()
	cfgPath, tmplPath := filepath.Join(dir, "tokengate.json"), filepath.Join(dir, "wasm.json")
	tmpl := fmt.Sprintf(`{"name":"tokengate","root_id":"tokengate","failure_policy":"FAIL_CLOSED",
		"vm_config":{"vm_id":"tokengate","runtime":"envoy.wasm.runtime.v8","code":{"local":{"filename":%q}}}}`, wasm)
	for path, data := range map[string]string{cfgPath: cfg, tmplPath: tmpl} {
		if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	f := &Fetcher{AdminPort: envoytest.FreePort(t)}
	args := []string{"--config", cfgPath, "--wasm-template", tmplPath, "--admin-listen", fmt.Sprintf("127.0.0.1:%d", f.AdminPort)}
	if o.XDS == "" {
		f.ECDS.Path = filepath.Join(dir, "ecds", "tokengate.json")
		if err := os.MkdirAll(filepath.Dir(f.ECDS.Path), 0o700); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--ecds-file", f.ECDS.Path)
	} else {
		f.ECDS.XDSPort, f.ECDS.APIType = envoytest.FreePort(t), o.XDS
		args = append(args, "--xds-listen", fmt.Sprintf("127.0.0.1:%d", f.ECDS.XDSPort))
	}
	f.Process = Start(t, "jwksfetch", bin, append(args, o.Args...)...)
	f.WaitOK(t, fmt.Sprintf("http://127.0.0.1:%d/readyz", f.AdminPort), 60*time.Second)
	if f.ECDS.Path != "" {
		for deadline := time.Now().Add(30 * time.Second); ; {
			if _, err := os.Stat(f.ECDS.Path); err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("jwksfetch wrote no ECDS file within 30s:\n%s", Tail(f.Output(), 40))
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return f
}

// StartEnvoy runs an Envoy (one worker) that discovers the tokengate filter
// from f, with the "jwksfetch" cluster for the plugin's key refreshes, in
// front of the upstream on upstreamPort. It returns once the listener
// accepts connections, and fails the test at its end if Envoy logged a Wasm
// error.
func (f *Fetcher) StartEnvoy(t testing.TB, upstreamPort int) (*envoytest.Envoy, string) {
	t.Helper()
	admin, listen := envoytest.FreePort(t), envoytest.FreePort(t)
	ecds := f.ECDS
	yaml, err := envoy.Render(envoy.Bootstrap{AdminPort: admin, ListenPort: listen, UpstreamPort: upstreamPort,
		JWKSFetchPort: f.AdminPort, ECDS: &ecds})
	if err != nil {
		t.Fatal(err)
	}
	e := envoytest.Start(t, yaml, admin, envoytest.Options{Concurrency: 1})
	t.Cleanup(func() {
		if bad := e.WasmErrors(); len(bad) > 0 {
			t.Errorf("envoy logged %d Wasm errors, first: %s", len(bad), bad[0])
		}
	})
	addr := fmt.Sprintf("127.0.0.1:%d", listen)
	envoytest.WaitListening(t, addr, 60*time.Second) // the listener opens once the filter came over ECDS
	return e, "http://" + addr
}
