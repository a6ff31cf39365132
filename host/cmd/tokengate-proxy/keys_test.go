package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/tokengate/tokengate/host"
	"github.com/tokengate/tokengate/host/hostcrypto"
	"github.com/tokengate/tokengate/internal/issuer"
	"github.com/tokengate/tokengate/internal/wasmbuild"
	"github.com/tokengate/tokengate/jwksfetch"
)

// TestProxyFetchesAndRotatesKeys runs the real plugin with a provider that
// has no inline keys: the proxy fetches them, serves tokens, and when the
// issuer rotates to a key the plugin has never seen, the plugin's refresh
// request makes the new key work within seconds.
func TestProxyFetchesAndRotatesKeys(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	iss, err := issuer.New("https://idp.test/realms/ml", issuer.RS256)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	jwks := iss.JWKS()
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		w.Header().Set("content-type", "application/json")
		w.Write(jwks)
	}))
	defer idp.Close()

	log := slog.New(slog.DiscardHandler)
	keys := &keySource{log: log}
	p, err := host.Load(ctx, wasmbuild.Bytes(t), host.WithPoolSize(1), host.WithLogger(log),
		host.WithForeignFunction(hostcrypto.FunctionName, hostcrypto.VerifySignature),
		host.WithUpstreamTransport("jwksfetch", "http://jwksfetch", keys))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(context.Background())
	up := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "scored") })
	px := newProxy(p, up, log)
	keys.px, px.keys = px, keys
	cfg := `{"refresh": {"cluster": "jwksfetch", "min_interval_seconds": 1},
	  "providers": {"corp": {"issuer": "` + iss.URL + `", "jwks_uri": "` + idp.URL + `/keys"}}}`
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

	// Rotation: the issuer publishes a new key and signs with it at once.
	k2, err := issuer.NewKey(issuer.RS256, "RS256-2")
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	iss.Keys = append(iss.Keys, k2)
	jwks = iss.JWKS()
	mu.Unlock()
	tok2, _ := iss.Mint(issuer.Claims{"sub": "alice"}, issuer.WithKey("RS256-2"))
	took := waitFor("the rotated key", func() bool { return do("/score", tok2) == 200 })
	t.Logf("rotation to first accepted token: %v", took)
	if c := do("/score", tok); c != 200 {
		t.Fatalf("the old key stopped working after the rotation: %d", c)
	}
}
