package e2e

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tokengate/tokengate/build/envoy"
	"github.com/tokengate/tokengate/internal/issuer"
)

// TestEnvoyAsksForAKeyRefresh sends a token signed with a key the plugin does
// not know yet: the request is refused, and the plugin asks the fetcher's
// /refresh endpoint (an Envoy cluster) for the provider's keys, once per
// interval however many such tokens arrive.
func TestEnvoyAsksForAKeyRefresh(t *testing.T) {
	iss, err := issuer.New("https://idp.test/realms/ml", issuer.RS256)
	if err != nil {
		t.Fatal(err)
	}
	rotated, err := issuer.NewKey(issuer.RS256, "rotated-in")
	if err != nil {
		t.Fatal(err)
	}
	asked := make(chan url.Values, 16)
	fetcher := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == "/refresh" {
			asked <- r.URL.Query()
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(fetcher.Close)
	port, _ := strconv.Atoi(fetcher.URL[strings.LastIndexByte(fetcher.URL, ':')+1:])

	cfg := `{"refresh": {"cluster": "jwksfetch", "min_interval_seconds": 60},
	  "providers": {"corp": {"issuer": "` + iss.URL + `", "jwks": ` + string(iss.JWKS()) + `}}}`
	up, hits := upstream(t)
	p := startEnvoyWith(t, envoyBootstrap(cfg, port), up)
	client := &http.Client{Timeout: 10 * time.Second}

	iss.Keys = append(iss.Keys, rotated)
	tok, err := iss.Mint(issuer.Claims{"sub": "alice"}, issuer.WithKey("rotated-in"))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		if r := p.get(t, client, "/x", "Bearer "+tok); r.status != 401 {
			t.Fatalf("a token with an unknown kid got %d", r.status)
		}
	}
	select {
	case q := <-asked:
		if q.Get("provider") != "corp" || q.Get("kid") != "rotated-in" {
			t.Fatalf("refresh request %v, want provider corp and kid rotated-in", q)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the plugin did not ask for a refresh")
	}
	// Envoy runs one VM per worker (concurrency 2 in the tests), so at most
	// one request per worker within the interval.
	time.Sleep(500 * time.Millisecond)
	if n := len(asked); n > 1 {
		t.Fatalf("%d more refresh requests within the interval", n)
	}
	if hits.Load() != 0 {
		t.Fatal("a refused request reached the upstream")
	}
}

func envoyBootstrap(cfg string, jwksfetchPort int) envoy.Bootstrap {
	return envoy.Bootstrap{PluginConfig: cfg, JWKSFetchPort: jwksfetchPort}
}
