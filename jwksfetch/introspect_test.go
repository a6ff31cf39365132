package jwksfetch

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// TestIntrospectionProvidersAreLeftAlone: a provider of "type":
// "introspection" has no key set to fetch (the plugin asks its endpoint
// about each token), so jwksfetch neither fetches anything for it nor adds
// a "jwks" the plugin would refuse on it.
func TestIntrospectionProvidersAreLeftAlone(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.NotFound(w, r)
	}))
	t.Cleanup(srv.Close)
	cfg := `{"providers":{"op":{"type":"introspection","issuer":"` + srv.URL + `",
	  "introspection":{"cluster":"op","path":"/token/introspection","client_id":"g","client_secret":"p"}}}}`
	out, _, err := Once(context.Background(), []byte(cfg), WithHTTPClient(srv.Client()))
	if err != nil {
		t.Fatalf("Once: %v", err)
	}
	if strings.Contains(string(out), `"jwks"`) || !strings.Contains(string(out), `"client_secret":"p"`) {
		t.Fatalf("rendered %s", out)
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("%d requests to the issuer; an introspection provider has no keys to fetch", n)
	}
}
