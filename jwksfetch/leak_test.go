package jwksfetch

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"
	"time"

	"github.com/tokengate/tokengate/internal/fetchtest"
	"github.com/tokengate/tokengate/internal/issuer"
)

// TestRunLeavesNoGoroutines is not parallel: it counts the process's
// goroutines.
func TestRunLeavesNoGoroutines(t *testing.T) {
	key := newJWK(t, issuer.ES256, "k1")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(set(key))) }))
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	cfg := fmt.Sprintf(`{"providers":{"a":{"jwks_uri":%q},"b":{"jwks_uri":%q},"c":{"jwks_uri":"http://127.0.0.1:1/unreachable"}}}`, srv.URL+"/a", srv.URL+"/b")
	before := runtime.NumGoroutine()
	for i := 0; i < 3; i++ {
		rec := fetchtest.NewRecorder()
		f, err := New([]byte(cfg), WithHTTPClient(client), WithLogger(quiet), WithSink(rec))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- f.Run(ctx) }()
		rec.WaitFor(t, 5*time.Second, "a and b have keys", func(c []byte) bool {
			return len(fetchtest.KidsIn(t, c, "a")) == 1 && len(fetchtest.KidsIn(t, c, "b")) == 1
		})
		f.RequestRefresh("a", "x")
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines before, %d after Run returned:\n%s", before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}
