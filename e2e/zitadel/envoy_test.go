package zitadel

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tokengate/tokengate/e2e/internal/daemon"
	"github.com/tokengate/tokengate/internal/envoytest"
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
	for _, sink := range []string{"GRPC", ""} {
		name := "gRPC"
		if sink == "" {
			name = "a watched file"
		}
		t.Run("a rotated key reaches Envoy via "+name+" with no failed request", func(t *testing.T) {
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

	cfg := fmt.Sprintf(`{"realm":"models","providers":{"corp":{"issuer":%q,"audiences":["api://scoring"]}},
		"rules":[{"match":{"prefix":"/"},"requires":{"providers":["corp"]}}]}`, o.Issuer)
	f := daemon.StartFetcher(t, cfg, daemon.FetcherOptions{XDS: sink})
	e, base := f.StartEnvoy(t, upstreamPort)
	url := base + "/v1/score"
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

	stopLoad := steadyLoad(status, oldToken)
	o.Storage.rotate(newOPKey(t, "k2"))
	rotated := time.Now()
	newToken := o.token(t)
	// What the plugin's call to the daemon's admin listener does on an
	// unknown kid:
	resp, err := http.Post(fmt.Sprintf("http://127.0.0.1:%d/refresh?provider=corp&kid=k2", f.AdminPort), "", nil)
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
	t.Logf("rotation latency through Envoy ECDS (%+v; key published -> first new token accepted): %v", f.ECDS, time.Since(rotated))
	time.Sleep(200 * time.Millisecond)
	sent, failed := stopLoad()
	t.Logf("steady load during the push: %d requests, %d failed", sent, failed)
	if failed != 0 {
		t.Fatalf("%d of %d requests failed during the push", failed, sent)
	}
	if bad := e.WasmErrors(); len(bad) > 0 {
		t.Fatalf("Envoy logged Wasm errors:\n%s", strings.Join(bad, "\n"))
	}
}
