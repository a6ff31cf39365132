package zitadel

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tokengate/tokengate/host"
	"github.com/tokengate/tokengate/internal/fetchtest"
	"github.com/tokengate/tokengate/jwksfetch"
	"github.com/tokengate/tokengate/testhost"
)

// TestRealProviderThroughGoHost runs the whole in-process path: a real
// OpenID provider, the fetcher, and the real plugin in the Go host,
// reconfigured by a sink on every key change.
func TestRealProviderThroughGoHost(t *testing.T) {
	t.Parallel()
	o := startOP(t)
	ctx := context.Background()
	// The compilation cache makes runs after the first skip compiling the
	// plugin, which dominates this test's time under the race detector.
	cache := filepath.Join(os.TempDir(), "tokengate-jwksfetch-test-wazero")
	plugin, err := host.Load(ctx, testhost.Wasm(t), host.WithLogger(quiet), host.WithPoolSize(2), host.WithCompilationCacheDir(cache))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { plugin.Close(context.Background()) })
	srv := httptest.NewServer(plugin.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "upstream")
	})))
	t.Cleanup(srv.Close)

	cfg := fmt.Sprintf(`{"realm":"models","providers":{"corp":{"issuer":%q,"audiences":["api://scoring"],"fetch":{"max_stale_seconds":2}}},
		"rules":[{"match":{"prefix":"/"},"requires":{"providers":["corp"]}}]}`, o.Issuer)
	configured := fetchtest.NewRecorder()
	f, err := jwksfetch.New([]byte(cfg), jwksfetch.WithLogger(quiet), jwksfetch.WithOnDemandInterval(200*time.Millisecond),
		jwksfetch.WithSink(jwksfetch.SinkFunc(func(ctx context.Context, c []byte) error {
			if err := plugin.Configure(ctx, c); err != nil {
				return err
			}
			return configured.Publish(ctx, c)
		})))
	if err != nil {
		t.Fatal(err)
	}
	fetchtest.Run(t, f)
	configured.WaitFor(t, 10*time.Second, "the plugin is configured with keys", func(c []byte) bool { return len(fetchtest.KidsIn(t, c, "corp")) == 1 })

	status := func(token string) int {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/v1/score", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Error(err)
			return 0
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	oldToken := o.token(t)
	if got := status(oldToken); got != http.StatusOK {
		t.Fatalf("a token from the provider got %d through the Go host, want 200", got)
	}

	t.Run("a rotated key reaches the running plugin with no failed request", func(t *testing.T) {
		stopLoad := steadyLoad(status, oldToken)
		o.Storage.rotate(newOPKey(t, "k2"))
		rotated := time.Now()
		newToken := o.token(t)
		got := status(newToken)
		if got != http.StatusUnauthorized {
			t.Errorf("a token with a kid not yet pushed got %d, want 401", got)
		}
		// What the proxy does on an unknown kid:
		f.RequestRefresh("corp", kidOf(t, newToken))
		for status(newToken) != http.StatusOK {
			if time.Since(rotated) > 5*time.Second {
				t.Fatal("the new key did not reach the plugin within 5 s")
			}
			time.Sleep(time.Millisecond)
		}
		t.Logf("rotation latency through the Go host (key published -> first new token accepted): %v", time.Since(rotated))
		time.Sleep(50 * time.Millisecond)
		sent, failed := stopLoad()
		t.Logf("steady load during the swap: %d requests, %d failed", sent, failed)
		if failed != 0 || sent == 0 {
			t.Fatalf("%d of %d requests failed during the swap", failed, sent)
		}
	})
	t.Run("past max_stale with the provider down the plugin answers 503", func(t *testing.T) {
		o.srv.Close()
		// Ask for a refresh until the on-demand interval allows one; the
		// failed fetch then schedules the next attempt at the max_stale
		// deadline.
		for f.RequestRefresh("corp", "") != jwksfetch.RefreshScheduled {
			time.Sleep(20 * time.Millisecond)
		}
		configured.WaitFor(t, 5*time.Second, "the key set is withdrawn", func(c []byte) bool { return fetchtest.KidsIn(t, c, "corp") == nil })
		if got := status(oldToken); got != http.StatusServiceUnavailable {
			t.Fatalf("a token after withdrawal got %d, want 503", got)
		}
	})
}
