package jwksfetch

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tokengate/tokengate/internal/fetchtest"
	"github.com/tokengate/tokengate/internal/issuer"
)

func near(got, want time.Duration) bool {
	d := got - want
	return d > -time.Millisecond && d < time.Millisecond
}

// almostOne makes the backoff jitter pick the top of its range.
func almostOne(s *settings) { s.rand = func() float64 { return 1 - 1e-12 } }

func TestRunKeepsLastGoodKeysThroughHostileAnswers(t *testing.T) {
	t.Parallel()
	k1 := newJWK(t, issuer.ES256, "k1")
	k2 := newJWK(t, issuer.ES256, "k2")
	var mode atomic.Value
	mode.Store("ok1")
	var conditional atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch mode.Load().(string) {
		case "ok1":
			w.Header().Set("Cache-Control", "public, max-age=60")
			if r.Header.Get("If-None-Match") == `"v1"` {
				conditional.Add(1)
				w.WriteHeader(http.StatusNotModified)
				return
			}
			w.Header().Set("ETag", `"v1"`)
			w.Write([]byte(set(withMember(k1, "d", "c2VjcmV0"))))
		case "garbage":
			w.Write([]byte(`<html>maintenance</html>`))
		case "oversized":
			w.Write(bytes.Repeat([]byte(" "), 2<<20))
		case "symmetric":
			w.Write([]byte(`{"keys":[{"kty":"oct","kid":"h","k":"c2VjcmV0"}]}`))
		case "down":
			http.Error(w, "down", http.StatusBadGateway)
		case "ok2":
			w.Write([]byte(set(k2)))
		}
	}))
	t.Cleanup(srv.Close)
	clock := newFakeClock()
	rec := fetchtest.NewRecorder()
	cfg := fmt.Sprintf(`{"realm":"r","providers":{"corp":{"issuer":"https://idp.example","jwks_uri":%q,"fetch":{"max_stale_seconds":600}}}}`, srv.URL+"/keys")
	f, err := New([]byte(cfg), WithClock(clock), WithSink(rec), WithLogger(quiet), almostOne)
	if err != nil {
		t.Fatal(err)
	}
	fetchtest.Run(t, f)

	asked := clock.waitAsked(t, 1)
	first := rec.WaitFor(t, 5*time.Second, "k1 is in force", func(c []byte) bool { return len(fetchtest.KidsIn(t, c, "corp")) == 1 })
	t.Run("the first fetch strips private members and honours max-age", func(t *testing.T) {
		if strings.Contains(string(first), "c2VjcmV0") {
			t.Fatalf("private member published: %s", first)
		}
		if asked[0] != time.Minute {
			t.Fatalf("next fetch in %v, want the provider's max-age 1m", asked[0])
		}
	})
	t.Run("an unchanged set is answered 304 via ETag and not republished", func(t *testing.T) {
		clock.Advance(time.Minute)
		asked = clock.waitAsked(t, 2)
		if conditional.Load() != 1 || asked[1] != time.Minute {
			t.Fatalf("conditional requests %d, next in %v", conditional.Load(), asked[1])
		}
		if st := f.Status()[0]; st.NotModified != 1 || rec.Count() != 1 {
			t.Fatalf("status %+v, publications %d", st, rec.Count())
		}
	})
	// From here every answer is bad; the last success was at +1m and
	// max_stale is 10m, so the keys must stay until +11m, exactly.
	steps := []struct {
		mode string
		wait time.Duration // the backoff the fetcher must choose after this answer
	}{
		{"garbage", 30 * time.Second},
		{"oversized", time.Minute},
		{"symmetric", 2 * time.Minute},
		{"down", 4 * time.Minute},
		{"down", 90 * time.Second}, // the backoff would be 5m; it is cut to the max_stale deadline
	}
	next := time.Minute
	for i, step := range steps {
		t.Run(fmt.Sprintf("after a %s answer the last good keys stay and the fetcher backs off (failure %d)", step.mode, i+1), func(t *testing.T) {
			mode.Store(step.mode)
			clock.Advance(next)
			asked = clock.waitAsked(t, 3+i)
			next = asked[2+i]
			if !near(next, step.wait) {
				t.Fatalf("backoff %v, want %v", next, step.wait)
			}
			cfg, _ := f.Config()
			if got := fetchtest.KidsIn(t, cfg, "corp"); len(got) != 1 || got[0] != "k1" || rec.Count() != 1 || !f.Ready() {
				t.Fatalf("kids %v, publications %d, ready %v", got, rec.Count(), f.Ready())
			}
		})
	}
	t.Run("at max_stale the key set is withdrawn and the plugin gets no jwks", func(t *testing.T) {
		clock.Advance(next)
		asked = clock.waitAsked(t, 8)
		withdrawn := rec.WaitFor(t, 5*time.Second, "corp has no jwks", func(c []byte) bool { return fetchtest.KidsIn(t, c, "corp") == nil })
		if f.Ready() || !strings.Contains(string(withdrawn), `"realm":"r"`) {
			t.Fatalf("ready %v, config %s", f.Ready(), withdrawn)
		}
		var m strings.Builder
		f.WriteMetrics(&m)
		for _, want := range []string{`jwksfetch_key_set_available{provider="corp"} 0`, `jwksfetch_fetch_failures_total{provider="corp"} 6`, `jwksfetch_not_modified_total{provider="corp"} 1`} {
			if !strings.Contains(m.String(), want) {
				t.Fatalf("metrics lack %q:\n%s", want, m.String())
			}
		}
		next = asked[7]
	})
	t.Run("the provider's return restores keys", func(t *testing.T) {
		mode.Store("ok2")
		clock.Advance(next)
		got := rec.WaitFor(t, 5*time.Second, "k2 is in force", func(c []byte) bool { return len(fetchtest.KidsIn(t, c, "corp")) == 1 })
		if kids := fetchtest.KidsIn(t, got, "corp"); kids[0] != "k2" || !f.Ready() {
			t.Fatalf("kids %v ready %v", kids, f.Ready())
		}
	})
}

func TestRequestRefresh(t *testing.T) {
	t.Parallel()
	k1 := newJWK(t, issuer.ES256, "k1")
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		w.Write([]byte(set(k1)))
	}))
	t.Cleanup(srv.Close)
	clock := newFakeClock()
	cfg := fmt.Sprintf(`{"providers":{"corp":{"jwks_uri":%q}}}`, srv.URL)
	f, err := New([]byte(cfg), WithClock(clock), WithLogger(quiet), WithOnDemandInterval(30*time.Second), WithUnknownKidTTL(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	fetchtest.Run(t, f)
	clock.waitAsked(t, 1)

	fetched := 1
	steps := []struct {
		name    string
		advance time.Duration
		prov    string
		kid     string
		want    RefreshOutcome
	}{
		{name: "a kid already in force needs no fetch", prov: "corp", kid: "k1", want: RefreshKnownKid},
		{name: "a new kid schedules a fetch", prov: "corp", kid: "kx", want: RefreshScheduled},
		{name: "another kid right after is rate limited", prov: "corp", kid: "ky", want: RefreshRateLimited},
		{name: "a kid the fetch did not find is remembered", prov: "corp", kid: "kx", want: RefreshUnknownKid},
		{name: "after the interval a new kid schedules again", advance: 31 * time.Second, prov: "corp", kid: "kz", want: RefreshScheduled},
		{name: "the unfound kid is still ignored within its TTL", prov: "corp", kid: "kx", want: RefreshUnknownKid},
		{name: "after its TTL the kid may trigger a fetch again", advance: 31 * time.Second, prov: "corp", kid: "kx", want: RefreshScheduled},
		{name: "a refresh without a kid is rate limited too", prov: "corp", want: RefreshRateLimited},
		{name: "an unknown provider is reported", prov: "nope", kid: "k1", want: RefreshUnknownProvider},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			clock.Advance(s.advance)
			if got := f.RequestRefresh(s.prov, s.kid); got != s.want {
				t.Fatalf("RequestRefresh(%q, %q) = %v, want %v", s.prov, s.kid, got, s.want)
			}
			if s.want == RefreshScheduled {
				fetched++
				clock.waitAsked(t, fetched)
			}
			if int(requests.Load()) != fetched {
				t.Fatalf("%d requests, want %d", requests.Load(), fetched)
			}
		})
	}
	t.Run("a flood of random kids causes no fetch", func(t *testing.T) {
		for i := 0; i < 10000; i++ {
			if got := f.RequestRefresh("corp", fmt.Sprintf("random-%d", i)); got != RefreshRateLimited {
				t.Fatalf("request %d: %v", i, got)
			}
		}
		time.Sleep(50 * time.Millisecond)
		if int(requests.Load()) != fetched {
			t.Fatalf("%d requests, want %d", requests.Load(), fetched)
		}
	})
}

func TestFetchesForOneURLAreCoalesced(t *testing.T) {
	t.Parallel()
	k1 := newJWK(t, issuer.ES256, "k1")
	var f *Fetcher
	var requests atomic.Int32
	var url string
	var once sync.Once
	joined := make(chan bool, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		// Hold the first request until the second provider waits on it.
		once.Do(func() {
			deadline := time.Now().Add(5 * time.Second)
			for f.keys.Waiters(url+"\x00\x00") < 1 && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond)
			}
			joined <- f.keys.Waiters(url+"\x00\x00") == 1
		})
		w.Write([]byte(set(k1)))
	}))
	t.Cleanup(srv.Close)
	url = srv.URL + "/keys"
	cfg := fmt.Sprintf(`{"providers":{"a":{"jwks_uri":%q},"b":{"jwks_uri":%q}}}`, url, url)
	rec := fetchtest.NewRecorder()
	var err error
	f, err = New([]byte(cfg), WithClock(newFakeClock()), WithLogger(quiet), WithSink(rec))
	if err != nil {
		t.Fatal(err)
	}
	fetchtest.Run(t, f)
	got := rec.WaitFor(t, 5*time.Second, "both providers have keys", func(c []byte) bool {
		return len(fetchtest.KidsIn(t, c, "a")) == 1 && len(fetchtest.KidsIn(t, c, "b")) == 1
	})
	if !<-joined || requests.Load() != 1 {
		t.Fatalf("%d requests for two providers sharing a URL, want 1 (config %s)", requests.Load(), got)
	}
	if rec.Count() != 1 {
		t.Fatalf("%d publications, want 1: the first publication waits for every provider", rec.Count())
	}
}
