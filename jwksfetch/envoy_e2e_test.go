package jwksfetch

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tokengate/tokengate/internal/envoytest"
	"github.com/tokengate/tokengate/internal/wasmbuild"
	"github.com/tokengate/tokengate/jwksfetch/internal/ecds"
	"github.com/tokengate/tokengate/jwksfetch/internal/xds"
)

// ecdsBootstrap is an Envoy bootstrap whose tokengate filter comes from the
// fetcher's ECDS server (state of the world over gRPC).
const ecdsBootstrap = `
node: {id: envoy-e2e, cluster: edge}
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
%[5]s
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
    typed_extension_protocol_options:
      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
        "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
        explicit_http_config: {http2_protocol_options: {}}
    load_assignment:
      cluster_name: jwksfetch
      endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: %[4]d}}}}]}]
`

const (
	grpcSource = `                api_config_source:
                  api_type: %s
                  transport_api_version: V3
                  grpc_services: [{envoy_grpc: {cluster_name: jwksfetch}}]`
	pathSource = `                path_config_source: {path: %q}`
)

// TestRealProviderThroughEnvoyECDS pushes key sets from a real OpenID
// provider into a running Envoy over ECDS (gRPC, and a watched file) and
// rotates the provider's key under steady load. It needs TOKENGATE_ENVOY
// (make e2e sets it).
func TestRealProviderThroughEnvoyECDS(t *testing.T) {
	envoytest.Binary(t) // skips, or fails under TOKENGATE_REQUIRE_E2E=1, without Envoy
	t.Parallel()
	// DELTA_GRPC works the same way (the xds package tests delta with a
	// go-control-plane client); one Envoy per source keeps this test short.
	for _, sink := range []string{"GRPC", "file"} {
		t.Run(fmt.Sprintf("a rotated key reaches Envoy via %s with no failed request", sink), func(t *testing.T) {
			t.Parallel()
			envoyRotation(t, sink)
		})
	}
}

func envoyRotation(t *testing.T, sink string) {
	o := startOP(t)
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "upstream") }))
	t.Cleanup(upstream.Close)
	upstreamPort := upstream.Listener.Addr().(*net.TCPAddr).Port

	tmpl, err := ecds.ParseTemplate([]byte(fmt.Sprintf(`{"name":"tokengate","root_id":"tokengate","failure_policy":"FAIL_CLOSED",
		"vm_config":{"vm_id":"tokengate","runtime":"envoy.wasm.runtime.v8","code":{"local":{"filename":%q}}}}`, wasmbuild.Path(t))))
	if err != nil {
		t.Fatal(err)
	}
	server := xds.New("tokengate", tmpl, quiet)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- server.Serve(ctx, lis) }()
	t.Cleanup(func() { cancel(); <-served })

	cfg := fmt.Sprintf(`{"realm":"models","providers":{"corp":{"issuer":%q,"audiences":["api://scoring"]}},
		"rules":[{"match":{"prefix":"/"},"requires":{"providers":["corp"]}}]}`, o.Issuer)
	source := fmt.Sprintf(grpcSource, sink)
	var publish Sink = server
	if sink == "file" {
		path := filepath.Join(t.TempDir(), "tokengate-ecds.json")
		source = fmt.Sprintf(pathSource, path)
		publish = &ecds.FileSink{Path: path, Name: "tokengate", Template: tmpl}
	}
	f, err := New([]byte(cfg), WithLogger(quiet), WithSink(publish))
	if err != nil {
		t.Fatal(err)
	}
	start(t, f)
	admin := httptest.NewServer(f.AdminHandler())
	t.Cleanup(admin.Close)

	adminPort, listenPort := envoytest.FreePort(t), envoytest.FreePort(t)
	e := envoytest.Start(t, []byte(fmt.Sprintf(ecdsBootstrap, adminPort, listenPort, upstreamPort, lis.Addr().(*net.TCPAddr).Port, source)), adminPort, envoytest.Options{Concurrency: 1})
	url := fmt.Sprintf("http://127.0.0.1:%d/v1/score", listenPort)
	status := func(token string) int {
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	oldToken := o.token(t)
	for deadline := time.Now().Add(60 * time.Second); status(oldToken) != http.StatusOK; {
		if time.Now().After(deadline) {
			t.Fatalf("Envoy never accepted a token with keys from ECDS; last status %d", status(oldToken))
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got := status("not-a-token"); got != http.StatusUnauthorized {
		t.Fatalf("a bad token got %d, want 401", got)
	}

	var sent, failed atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < 2; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				sent.Add(1)
				if status(oldToken) != http.StatusOK {
					failed.Add(1)
				}
			}
		}()
	}
	o.Storage.rotate(newOPKey(t, "k2"))
	rotated := time.Now()
	newToken := o.token(t)
	// What the plugin's call to the daemon's admin listener does on an
	// unknown kid:
	resp, err := http.Post(admin.URL+"/refresh?provider=corp&kid=k2", "", nil)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /refresh: %v %v", resp, err)
	}
	resp.Body.Close()
	for status(newToken) != http.StatusOK {
		if time.Since(rotated) > 10*time.Second {
			t.Fatal("the new key did not reach Envoy within 10 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Logf("rotation latency through Envoy ECDS over %s (key published -> first new token accepted): %v", sink, time.Since(rotated))
	time.Sleep(200 * time.Millisecond)
	close(stop)
	wg.Wait()
	t.Logf("steady load during the push: %d requests, %d failed", sent.Load(), failed.Load())
	if failed.Load() != 0 {
		t.Fatalf("%d of %d requests failed during the push", failed.Load(), sent.Load())
	}
	if bad := e.WasmErrors(); len(bad) > 0 {
		t.Fatalf("Envoy logged Wasm errors:\n%s", strings.Join(bad, "\n"))
	}
}
