package jwksfetch

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tokengate/tokengate/internal/fetchtest"
	"github.com/tokengate/tokengate/internal/issuer"
	"github.com/tokengate/tokengate/internal/refreshapi"
)

// TestRefreshEndpointAnswersWithTheFreshKeySet drives the admin endpoint the
// plugin calls when a token names an unknown kid: the answer waits for the
// fetch the request started (or joined) and carries the key set in force,
// which the plugin's own check of the answer (refreshapi.CheckAnswer)
// accepts; concurrent requests during a rotation cost one fetch.
func TestRefreshEndpointAnswersWithTheFreshKeySet(t *testing.T) {
	k1, k2 := newJWK(t, issuer.ES256, "k1"), newJWK(t, issuer.ES256, "k2")
	var keys atomic.Value
	keys.Store(set(k1))
	var fetches atomic.Int32
	jwks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetches.Add(1)
		time.Sleep(50 * time.Millisecond) // a provider that takes a moment: the callers must wait for it
		io.WriteString(w, keys.Load().(string))
	}))
	t.Cleanup(jwks.Close)
	f, err := New([]byte(`{"providers":{"corp":{"issuer":"https://idp.test","jwks_uri":"`+jwks.URL+`"}}}`),
		WithLogger(quiet), WithOnDemandInterval(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	fetchtest.Run(t, f)
	for deadline := time.Now().Add(5 * time.Second); !f.Ready(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no first key set")
		}
	}
	admin := httptest.NewServer(f.AdminHandler())
	t.Cleanup(admin.Close)
	post := func(query string) (int, string, string, string) {
		resp, err := http.Post(admin.URL+refreshapi.Path+"?"+query, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get(refreshapi.OutcomeHeader), string(b)
	}

	keys.Store(set(k1, k2)) // the provider rotates
	before := fetches.Load()
	const callers = 6
	type result struct {
		status           int
		ctype, out, body string
	}
	results := make([]result, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var r result
			r.status, r.ctype, r.out, r.body = post(refreshapi.Target("", "corp", "k2")[1:])
			results[i] = r
		}()
	}
	wg.Wait()
	outcomes := map[string]int{}
	for i, r := range results {
		if err := refreshapi.CheckAnswer(strconv.Itoa(r.status), r.ctype, len(r.body)); err != nil {
			t.Fatalf("caller %d: the plugin would refuse the answer: %v (%d %q)", i, err, r.status, r.body)
		}
		if !strings.Contains(r.body, `"kid":"k2"`) {
			t.Errorf("caller %d got a set without the new kid (outcome %s): %s", i, r.out, r.body)
		}
		outcomes[r.out]++
	}
	if n := fetches.Load() - before; n != 1 {
		t.Errorf("%d fetches for %d concurrent refresh requests, want 1", n, callers)
	}
	if outcomes["scheduled"] != 1 {
		t.Errorf("outcomes %v, want exactly one scheduled fetch", outcomes)
	}

	tests := []struct {
		name, query   string
		status        int
		outcome, body string
	}{
		{"a known kid is answered at once with the set in force", "provider=corp&kid=k1", 200, "known_kid", `"kid":"k2"`},
		{"a kid within the on-demand interval is answered with the set in force", "provider=corp&kid=k9", 200, "rate_limited", `"kid":"k1"`},
		{"an unknown provider is not found", "provider=nope&kid=k1", 404, "unknown_provider", `no fetched provider is named "nope"`},
		{"a request without a provider is refused", "kid=k1", 400, "", "provider is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, _, out, body := post(tt.query)
			if status != tt.status || out != tt.outcome || !strings.Contains(body, tt.body) {
				t.Fatalf("POST %s = %d %s %q, want %d %s %q", tt.query, status, out, body, tt.status, tt.outcome, tt.body)
			}
		})
	}
}
