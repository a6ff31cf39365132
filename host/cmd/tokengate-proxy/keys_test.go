package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tokengate/tokengate/host"
	"github.com/tokengate/tokengate/host/hostcrypto"
	"github.com/tokengate/tokengate/internal/issuer"
	"github.com/tokengate/tokengate/internal/wasmbuild"
	"github.com/tokengate/tokengate/jwksfetch"
)

// TestProxyFetchesAndRotatesKeys runs the real plugin with a provider that
// has no inline keys and no "refresh" setting: the proxy fetches the keys
// and serves tokens, and when the issuer rotates to a key the plugin has
// never seen, the requests that carry it from the first moment wait for the
// in-process fetcher instead of being refused. "refresh": false turns that
// off, and the first new-kid request is refused as before.
func TestProxyFetchesAndRotatesKeys(t *testing.T) {
	tests := []struct {
		name    string
		refresh string
		refused bool // the first new-kid requests are refused
	}{
		{name: "by default no new-kid request is refused"},
		{name: "refresh false refuses new-kid requests until the next push", refresh: `"refresh": false,`, refused: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { testRotation(t, tt.refresh, tt.refused) })
	}
}

func testRotation(t *testing.T, refresh string, wantRefused bool) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	iss, err := issuer.New("https://idp.test/realms/ml", issuer.RS256)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	jwks := iss.JWKS()
	var fetches atomic.Int32
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetches.Add(1)
		mu.Lock()
		defer mu.Unlock()
		w.Header().Set("content-type", "application/json")
		w.Write(jwks)
	}))
	defer idp.Close()

	log := slog.New(slog.DiscardHandler)
	keys := &keySource{log: log}
	p, err := host.Load(ctx, wasmbuild.Bytes(t), host.WithPoolSize(2), host.WithLogger(log),
		host.WithForeignFunction(hostcrypto.FunctionName, hostcrypto.VerifySignature),
		host.WithUpstreamTransport("jwksfetch", "http://jwksfetch", keys))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(context.Background())
	up := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "scored") })
	px := newProxy(p, up, log)
	keys.px, px.keys = px, keys
	cfg := `{` + refresh + `"providers": {"corp": {"issuer": "` + iss.URL + `", "jwks_uri": "` + idp.URL + `/keys",
	  "fetch": {"refresh_seconds": 3600, "refresh_min_seconds": 3600}}}}`
	if err := keys.apply(ctx, []byte(cfg), jwksfetch.WithOnDemandInterval(time.Second)); err != nil {
		t.Fatal(err)
	}
	defer keys.stop()

	do := func(path, token string) int {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("GET", path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		px.ServeHTTP(rec, req)
		return rec.Code
	}
	waitFor := func(what string, ok func() bool) time.Duration {
		t.Helper()
		start := time.Now()
		for !ok() {
			if time.Since(start) > 30*time.Second {
				t.Fatalf("%s: not within 30 s", what)
			}
			time.Sleep(20 * time.Millisecond)
		}
		return time.Since(start)
	}
	admin := px.adminHandler()
	waitFor("ready", func() bool {
		rec := httptest.NewRecorder()
		admin.ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
		return rec.Code == 200
	})
	tok, _ := iss.Mint(issuer.Claims{"sub": "alice"})
	if c := do("/score", tok); c != 200 {
		t.Fatalf("a token of the fetched key set got %d", c)
	}

	// Rotation: the issuer publishes a new key and signs with it at once,
	// and four clients send the new token from that moment on.
	k2, err := issuer.NewKey(issuer.RS256, "RS256-2")
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	iss.Keys = append(iss.Keys, k2)
	jwks = iss.JWKS()
	mu.Unlock()
	before := fetches.Load()
	tok2, _ := iss.Mint(issuer.Claims{"sub": "alice"}, issuer.WithKey("RS256-2"))
	var refused, sent atomic.Int32
	var slowest atomic.Int64
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 10 {
				start := time.Now()
				if do("/score", tok2) != 200 {
					refused.Add(1)
				}
				sent.Add(1)
				if d := int64(time.Since(start)); d > slowest.Load() {
					slowest.Store(d)
				}
			}
		}()
	}
	wg.Wait()
	t.Logf("rotation: %d new-kid requests, %d refused, slowest %v, %d fetches", sent.Load(), refused.Load(), time.Duration(slowest.Load()), fetches.Load()-before)
	if wantRefused {
		if refused.Load() == 0 {
			t.Fatal("with refresh off, a new-kid request was accepted before any push")
		}
		return
	}
	if refused.Load() != 0 {
		t.Fatalf("%d of %d requests with the new key were refused, want 0", refused.Load(), sent.Load())
	}
	if n := fetches.Load() - before; n != 1 {
		t.Errorf("%d key set fetches for the rotation, want 1 (coalesced over both VMs)", n)
	}
	if c := do("/score", tok); c != 200 {
		t.Fatalf("the old key stopped working after the rotation: %d", c)
	}
}
