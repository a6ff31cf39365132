package e2e

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tokengate/tokengate/build/envoy"
	"github.com/tokengate/tokengate/internal/issuer"
	"github.com/tokengate/tokengate/internal/refreshapi"
)

// TestEnvoyPausesRequestsForAKeyRefresh rotates the provider's key while
// eight clients send tokens signed with the new key from the first moment,
// through Envoy (two workers, one VM each). The plugin's key set lacks the
// new kid; each request that carries it is paused, the plugin asks the
// fetcher's /refresh endpoint (the "jwksfetch" cluster, wired by the
// bootstrap with the setting that uses it) once per VM, and the paused
// requests go on with the key set the fetcher answers with: none is
// refused. A fetcher whose answer still lacks the kid gets the usual 401,
// and a flood of such tokens costs one call per VM per interval.
func TestEnvoyPausesRequestsForAKeyRefresh(t *testing.T) {
	iss, err := issuer.New("https://idp.test/realms/ml", issuer.RS256)
	if err != nil {
		t.Fatal(err)
	}
	oldSet := iss.JWKS()
	rotated, err := issuer.NewKey(issuer.RS256, "rotated-in")
	if err != nil {
		t.Fatal(err)
	}
	iss.Keys = append(iss.Keys, rotated)
	newSet := iss.JWKS()

	tests := []struct {
		name    string
		answer  []byte // the key set the fetcher answers with
		status  int    // what every new-kid request must get
		maxCall int64
	}{
		{name: "the fetcher's set holds the new kid: no request is refused", answer: newSet, status: 200, maxCall: 2},
		{name: "the fetcher's set lacks the kid: 401, one call per VM", answer: oldSet, status: 401, maxCall: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls atomic.Int64
			asked := make(chan url.Values, 64)
			fetcher := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method != http.MethodPost || r.URL.Path != refreshapi.Path {
					http.NotFound(w, r)
					return
				}
				calls.Add(1)
				asked <- r.URL.Query()
				time.Sleep(20 * time.Millisecond) // the fetch at the provider
				w.Header().Set("Content-Type", refreshapi.ContentType)
				w.Write(tt.answer)
			}))
			t.Cleanup(fetcher.Close)
			port, _ := strconv.Atoi(fetcher.URL[strings.LastIndexByte(fetcher.URL, ':')+1:])

			// No "refresh" here: the bootstrap adds it with the cluster.
			cfg := `{"providers": {"corp": {"issuer": "` + iss.URL + `", "jwks": ` + string(oldSet) + `}}}`
			up, hits := upstream(t)
			p := startEnvoyWith(t, envoyBootstrap(cfg, port), up)
			tok, err := iss.Mint(issuer.Claims{"sub": "alice"}, issuer.WithKey("rotated-in"))
			if err != nil {
				t.Fatal(err)
			}
			old, err := iss.Mint(issuer.Claims{"sub": "bob"})
			if err != nil {
				t.Fatal(err)
			}

			const clients, perClient = 8, 25
			var (
				mu        sync.Mutex
				latencies []time.Duration
				wrong     = map[int]int{}
			)
			var wg sync.WaitGroup
			for range clients {
				wg.Add(1)
				go func() {
					defer wg.Done()
					client := &http.Client{Timeout: 10 * time.Second}
					for range perClient {
						start := time.Now()
						r := p.get(t, client, "/x", "Bearer "+tok)
						d := time.Since(start)
						mu.Lock()
						latencies = append(latencies, d)
						if r.status != tt.status {
							wrong[r.status]++
						}
						mu.Unlock()
					}
				}()
			}
			wg.Wait()
			if st := p.get(t, &http.Client{Timeout: 10 * time.Second}, "/x", "Bearer "+old).status; st != 200 {
				t.Errorf("a token signed with the old key got %d after the refresh", st)
			}
			slices.Sort(latencies)
			t.Logf("%d new-kid requests from %d clients: want %d for all, got others %v; latency p50 %v, p99 %v, max %v; %d refresh calls",
				len(latencies), clients, tt.status, wrong, latencies[len(latencies)/2].Round(time.Microsecond),
				latencies[len(latencies)*99/100].Round(time.Microsecond), latencies[len(latencies)-1].Round(time.Microsecond), calls.Load())
			if len(wrong) > 0 {
				t.Fatalf("requests answered otherwise than %d: %v", tt.status, wrong)
			}
			if n := calls.Load(); n < 1 || n > tt.maxCall {
				t.Fatalf("%d refresh calls, want 1 to %d (one per worker VM at most)", n, tt.maxCall)
			}
			q := <-asked
			if q.Get("provider") != "corp" || q.Get("kid") != "rotated-in" {
				t.Fatalf("refresh request %v, want provider corp and kid rotated-in", q)
			}
			wantHits := int64(clients*perClient) + 1
			if tt.status != 200 {
				wantHits = 1
			}
			if hits.Load() != wantHits {
				t.Fatalf("%d requests reached the upstream, want %d", hits.Load(), wantHits)
			}
		})
	}
}

func envoyBootstrap(cfg string, jwksfetchPort int) envoy.Bootstrap {
	return envoy.Bootstrap{PluginConfig: cfg, JWKSFetchPort: jwksfetchPort}
}
