package load

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

func TestRun(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	seen := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a := r.Header.Get("Authorization")
		mu.Lock()
		seen[a]++
		mu.Unlock()
		if a == "Bearer bad" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Write([]byte("ok"))
	}))
	defer srv.Close()

	t.Run("a request count sends exactly that many requests round-robin", func(t *testing.T) {
		res, err := Run(context.Background(), Config{URL: srv.URL, Concurrency: 4, Requests: 100,
			Authorizations: []string{"Bearer good", "Bearer bad"}})
		if err != nil {
			t.Fatal(err)
		}
		if res.Requests != 100 || res.Errors != 0 {
			t.Fatalf("requests=%d errors=%d, want 100 and 0", res.Requests, res.Errors)
		}
		if res.StatusCode[200] != 50 || res.StatusCode[401] != 50 {
			t.Fatalf("status codes %v, want 50×200 and 50×401", res.StatusCode)
		}
		if !(res.P50 > 0 && res.P50 <= res.P90 && res.P90 <= res.P99) {
			t.Fatalf("percentiles not ordered: %v %v %v", res.P50, res.P90, res.P99)
		}
		if res.RPS <= 0 {
			t.Fatalf("rps %v, want positive", res.RPS)
		}
	})
	t.Run("a duration stops the run near the deadline", func(t *testing.T) {
		start := time.Now()
		res, err := Run(context.Background(), Config{URL: srv.URL, Concurrency: 2, Duration: 200 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("run took %v, want about 200ms", d)
		}
		if res.Requests == 0 || res.Errors != 0 {
			t.Fatalf("requests=%d errors=%d (%s)", res.Requests, res.Errors, res.FirstError)
		}
	})
	t.Run("an invalid configuration is refused", func(t *testing.T) {
		for _, c := range []Config{{}, {URL: srv.URL}, {URL: srv.URL, Concurrency: 1},
			{URL: srv.URL, Concurrency: 1, Requests: 1, Duration: time.Second}} {
			if _, err := Run(context.Background(), c); err == nil {
				t.Errorf("config %+v accepted, want an error", c)
			}
		}
	})
	t.Run("a dead server counts errors", func(t *testing.T) {
		dead := httptest.NewServer(http.NotFoundHandler())
		url := dead.URL
		dead.Close()
		res, err := Run(context.Background(), Config{URL: url, Concurrency: 1, Requests: 3})
		if err != nil {
			t.Fatal(err)
		}
		if res.Errors != 3 || res.FirstError == "" {
			t.Fatalf("errors=%d first=%q, want 3 errors", res.Errors, res.FirstError)
		}
	})
}

func TestReadAuthorizations(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := filepath.Join(dir, "a.txt")
	os.WriteFile(p, []byte("Bearer a\n\n  Bearer b \n"), 0o600)
	got, err := ReadAuthorizations(p)
	if err != nil || len(got) != 2 || got[0] != "Bearer a" || got[1] != "Bearer b" {
		t.Fatalf("got %q, %v", got, err)
	}
	empty := filepath.Join(dir, "e.txt")
	os.WriteFile(empty, []byte("\n"), 0o600)
	if _, err := ReadAuthorizations(empty); err == nil {
		t.Fatal("empty file accepted, want an error")
	}
}

func TestPercentile(t *testing.T) {
	t.Parallel()
	var d []time.Duration
	for i := 1; i <= 100; i++ {
		d = append(d, time.Duration(i))
	}
	for _, tc := range []struct{ p, want int }{{50, 50}, {90, 90}, {99, 99}} {
		if got := percentile(d, tc.p); got != time.Duration(tc.want) {
			t.Errorf("p%d = %v, want %v", tc.p, got, tc.want)
		}
	}
}
